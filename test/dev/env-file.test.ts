/**
 * Regression (issue 15): a second `svid-bridge dev` on the same --env-out overwrote the
 * first one's env file and removed it when it stopped. Now the second is refused before
 * anything starts, naming the first one's pid, and the first one's file stays.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runSvidBridge, startDev } from "./dev-process.js";

const dir = mkdtempSync(join(tmpdir(), "svid-bridge-env-file-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("dev --env-out: one dev per file", () => {
  it("refuses a second dev on the same file and leaves the first one's file alone", async () => {
    const envFile = join(dir, "env");
    const first = await startDev(["--port", "0", "--env-out", envFile]);
    try {
      const before = readFileSync(envFile, "utf8");
      const second = await runSvidBridge(["dev", "--port", "0", "--env-out", envFile]);
      expect(second.code).toBe(1);
      expect(second.stderr).toMatch(
        new RegExp(
          `^error usage: --env-out .* belongs to another svid-bridge dev \\(pid ${first.child.pid}\\)`,
          "m",
        ),
      );
      expect(second.stdout).toBe("");
      expect(readFileSync(envFile, "utf8")).toBe(before);
    } finally {
      expect(await first.stop()).toBe(0);
    }
    expect(existsSync(envFile)).toBe(false);
    expect(existsSync(`${envFile}.lock`)).toBe(false);
  });

  it("a second dev with its own --env-out runs beside the first", async () => {
    const a = await startDev(["--port", "0", "--env-out", join(dir, "a")]);
    const b = await startDev(["--port", "0", "--env-out", join(dir, "b")]);
    expect(a.env.SVID_BRIDGE_URL).not.toBe(b.env.SVID_BRIDGE_URL);
    expect(await b.stop()).toBe(0);
    expect(readFileSync(join(dir, "a"), "utf8")).toBe(a.stdout);
    expect(await a.stop()).toBe(0);
  });

  it("an --env-out that is a directory is a usage error before anything starts", async () => {
    const r = await runSvidBridge(["dev", "--port", "0", "--env-out", dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error usage: --env-out .* is a directory, not a file/m);
  });
});
