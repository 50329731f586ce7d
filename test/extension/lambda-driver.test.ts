import { describe, expect, it } from "vitest";
import type { ExtensionEvent } from "../../layers/extension/src/extensions-api.js";
import { driveLambda } from "../../layers/extension/src/lambda-driver.js";
import { silentLogger } from "../../layers/extension/src/log.js";
import type { SvidManager } from "../../layers/extension/src/svid-manager.js";

describe("the Lambda driver", () => {
  it("refreshes on every INVOKE and shuts down on SHUTDOWN, then returns", async () => {
    const far = Date.now() + 60_000;
    const events: ExtensionEvent[] = [
      { eventType: "INVOKE", deadlineMs: far, requestId: "1", invokedFunctionArn: "arn" },
      { eventType: "INVOKE", deadlineMs: far, requestId: "2", invokedFunctionArn: "arn" },
      { eventType: "SHUTDOWN", shutdownReason: "SPINDOWN", deadlineMs: far },
    ];
    const calls: string[] = [];
    await driveLambda({
      next: async () => events.shift()!,
      manager: { refresh: async () => void calls.push("refresh") } as unknown as SvidManager,
      shutdown: async () => void calls.push("shutdown"),
      logger: silentLogger,
    });
    expect(calls).toEqual(["refresh", "refresh", "shutdown"]);
    expect(events).toEqual([]);
  });

  it("does not wait for a refresh past the invoke's deadline", async () => {
    const events: ExtensionEvent[] = [
      { eventType: "INVOKE", deadlineMs: Date.now() + 250, requestId: "1", invokedFunctionArn: "arn" },
      { eventType: "SHUTDOWN", shutdownReason: "SPINDOWN", deadlineMs: Date.now() + 60_000 },
    ];
    const started = Date.now();
    await driveLambda({
      next: async () => events.shift()!,
      manager: { refresh: () => new Promise(() => undefined) } as unknown as SvidManager,
      shutdown: async () => undefined,
      logger: silentLogger,
    });
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
