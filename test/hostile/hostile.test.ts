/**
 * The hostile suites of issue 14, in one file so they print one table: the fuzz of the
 * exchange over HTTP, STS faults through the stand-in, DynamoDB faults through a proxy,
 * and registration races.
 * Longer runs: FUZZ_REQUESTS=200000 FUZZ_SEED=<n> npm run test:soak.
 */
import { afterAll, expect } from "vitest";
import { table, tally } from "./tally.js";
import "./fuzz-suite.js";
import "./race-suite.js";
import "./sts-fault-suite.js";
import "./dynamodb-fault-suite.js";

afterAll(() => {
  console.log(table());
  expect(tally.examples).toEqual([]);
  expect(tally.unauthorisedIssues).toBe(0);
  expect(tally.serverErrors).toBe(0);
  expect(tally.crashes).toBe(0);
  expect(tally.lostWrites).toBe(0);
});
