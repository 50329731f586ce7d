/**
 * `svid-bridge dev` refusing to start: each a one-line `error usage: …` naming the flag
 * to change, exit 1, and nothing left behind (no env file). As processes.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runSvidBridge } from "./dev-process.js";

const dir = mkdtempSync(join(tmpdir(), "svid-bridge-dev-errors-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function dev(args: string[]) {
  return runSvidBridge(["dev", "--env-out", join(dir, "env"), ...args]);
}

describe("svid-bridge dev refusals", () => {
  it("a port in use names --port, and starts nothing", async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, "127.0.0.1", r));
    const { port } = taken.address() as { port: number };
    try {
      const run = await dev(["--port", String(port)]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(
        new RegExp(
          `^error usage: port ${port} on 127\\.0\\.0\\.1 is in use: pass --port <n> to use another$`,
          "m",
        ),
      );
      expect(run.stdout).toBe("");
      expect(existsSync(join(dir, "env"))).toBe(false);
    } finally {
      await new Promise((r) => taken.close(r));
    }
  }, 60_000);

  it("flag values out of range are usage errors naming the flag", async () => {
    for (const [flag, value] of [
      ["--port", "70000"],
      ["--port", "eighty"],
      ["--rotation-interval", "0"],
      ["--rotation-period", "59"],
    ] as const) {
      const run = await dev([flag, value]);
      expect(run.code, `${flag} ${value}`).toBe(1);
      expect(run.stderr).toMatch(
        new RegExp(`^error usage: option '${flag} <\\w+>' argument '${value}' is invalid`, "m"),
      );
    }
    const td = await dev(["--port", "0", "--trust-domain", "Not_A_Domain"]);
    expect(td.code).toBe(2); // validation, as for a bad ID anywhere
    expect(td.stderr).toMatch(/^error invalid_trust_domain: /m);
  }, 60_000);
});
