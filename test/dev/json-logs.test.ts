/**
 * `svid-bridge dev --json`: every stderr line is one JSON object with level, time and
 * message, for a log shipper; and no secret reaches the log: not the dev credentials,
 * not an issued token, not a refused caller's proof. As processes, no import from lib/.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type RunningDev, runSvidBridge, startDev } from "./dev-process.js";

const dir = mkdtempSync(join(tmpdir(), "svid-bridge-json-logs-"));
let dev: RunningDev | undefined;

afterAll(async () => {
  await dev?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("svid-bridge dev --json", () => {
  it("logs one JSON object per line, and no secret", async () => {
    dev = await startDev(["--port", "0", "--env-out", join(dir, "env"), "--json"]);
    const token = await runSvidBridge(["token", "--audience", "logs"], dev.env);
    expect(token.code, token.stderr).toBe(0);
    // A caller STS refuses: its proof is logged as a denial, never as the proof itself.
    const refused = await runSvidBridge(["token", "--audience", "logs"], {
      ...dev.env,
      AWS_SECRET_ACCESS_KEY: "wrong",
    });
    expect(refused.code).toBe(4);
    expect(await dev.stop()).toBe(0);
    const lines = dev.stderr().trimEnd().split("\n");
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const r of records) {
      expect(["debug", "info", "warn", "error"]).toContain(r.level);
      expect(Number.isNaN(Date.parse(String(r.time)))).toBe(false);
      expect(typeof r.message).toBe("string");
    }
    const messages = records.map((r) => r.message);
    expect(messages).toEqual(
      expect.arrayContaining(["svid-bridge dev is up", "svid issued", "exchange denied", "stopped"]),
    );
    const log = dev.stderr();
    for (const secret of [
      dev.env.AWS_SECRET_ACCESS_KEY!,
      dev.env.AWS_SESSION_TOKEN!,
      dev.env.SVID_BRIDGE_DEV_TOKEN!,
      token.stdout.trim(),
      token.stdout.trim().split(".")[2]!, // the signature alone
    ])
      expect(log).not.toContain(secret);
    expect(log).not.toMatch(/X-Amz-Signature|Signature=[0-9a-f]{64}/i);
    dev = undefined;
  }, 60_000);
});
