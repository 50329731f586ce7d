/**
 * vitest globalSetup for the hostile suites: gives them a directory for their tallies
 * (inject("hostileTallyDir")), and at the end of the run prints one table over every
 * suite and fails the run if an unauthorised issue, an unexpected 5xx, a crash or a lost
 * write was counted (test/support/hostile-tally.ts).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { formatTable, nonZero, readTallies } from "../support/hostile-tally.js";

declare module "vitest" {
  export interface ProvidedContext {
    hostileTallyDir: string;
  }
}

export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), "svid-hostile-tally-"));
  project.provide("hostileTallyDir", dir);
  return () => {
    const records = readTallies(dir);
    rmSync(dir, { recursive: true, force: true });
    if (records.length === 0) return;
    records.sort((a, b) => a.suite.localeCompare(b.suite));
    process.stdout.write(`\nHostile suites (issue 14)\n${formatTable(records)}\n\n`);
    const bad = nonZero(records);
    if (bad.length > 0)
      throw new Error(`hostile suites: counts that must be zero are not:\n${bad.join("\n")}`);
  };
}
