/**
 * Child processes run on the Node.js that runs the tests: a script's `node` and `npx`
 * resolve to process.execPath's directory first (test/support/this-node.ts), so the Node 24
 * run in .ci/run tests Node 24 and not the machine's default node underneath.
 */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { PATH_WITH_THIS_NODE } from "../support/this-node.js";

describe("tests' child processes", () => {
  it("a script's node, and node under npx, is this run's node", () => {
    const out = execFileSync(
      "bash",
      ["-c", `node -p process.version; npx --yes --no-install node -p process.version`],
      { env: { PATH: PATH_WITH_THIS_NODE, HOME: process.env.HOME ?? "" }, encoding: "utf8" },
    );
    expect(out.trim().split("\n")).toEqual([process.version, process.version]);
  });
});
