/**
 * `svid-bridge … | head`: when the reader closes the pipe early the CLI stops quietly
 * with its own exit code, as Unix tools do, instead of an unhandled EPIPE stack trace.
 */

import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { PATH_WITH_THIS_NODE } from "../support/this-node.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

describe("a closed stdout pipe", () => {
  it("ends the CLI quietly with exit 0", async () => {
    // --help on every command writes far more than `head -1` reads.
    const script = `set -o pipefail; for c in "" dev demo token register; do node bin/svid-bridge.js $c --help | head -1 >/dev/null || exit $?; done`;
    const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(
        "bash",
        ["-c", script],
        { cwd: ROOT, env: { PATH: PATH_WITH_THIS_NODE, NODE_NO_WARNINGS: "1" }, timeout: 60_000 },
        (error, _stdout, stderr) =>
          resolve({ code: error ? (typeof error.code === "number" ? error.code : -1) : 0, stderr }),
      );
    });
    expect(stderr).not.toContain("EPIPE");
    expect(code).toBe(0);
  }, 60_000);
});
