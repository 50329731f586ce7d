/**
 * Issue 14, suite "Load", bounded, on loopback: the dev exchange (fuzz-target.ts: the dev
 * stack) under concurrent JWT-SVID requests over keep-alive HTTP (undici, Node's fetch)
 * from a fixed set of registered callers, each request with a fresh proof. Throughput and
 * p50/p99 are reported in the hostile table, never asserted; the zero errors are.
 * (The extension's local API under load while a refresh runs is in extension-faults.test.ts.)
 */

import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { DynamoDbRegistrationStore } from "../../lib/aws/dynamodb-registration-store.js";
import { DEV_TABLES } from "../../lib/dev/dev-stack.js";
import { DYNAMODB_TEST_CREDENTIALS } from "../../lib/local/dynamodb-server.js";
import type { DevPrincipal } from "../../lib/local/sts-server.js";
import { jwtBinding } from "../../lib/proof/binding.js";
import { SOAK, Tally } from "../support/hostile-tally.js";
import { baseSpec, jsonRequest } from "./fuzz-cases.js";
import { makeFuzzCsrs } from "./fuzz-csrs.js";
import { type FuzzTarget, signProof, startFuzzTarget } from "./fuzz-target.js";

const REQUESTS = 600 * SOAK;
const CONCURRENCY = 24;
const REGION = "eu-west-1";
let target: FuzzTarget;
const tally = new Tally("load");

beforeAll(async () => {
  target = await startFuzzTarget(REGION);
  // Register the intruder and the look-alike role too: with the dev role, three registered callers.
  const client = new DynamoDBClient({
    endpoint: target.stack.dynamodbEndpoint,
    region: "us-east-1",
    credentials: DYNAMODB_TEST_CREDENTIALS,
  });
  const store = new DynamoDbRegistrationStore({ client, tableName: DEV_TABLES.registrations });
  for (const [id, p] of [
    ["load-intruder", target.principals.intruder],
    ["load-lookalike", target.principals.lookalike],
  ] as const)
    await store.create({
      id,
      selectors: { account: "111122223333", roleName: roleOf(p) },
      spiffeId: "spiffe://example.org/load/{role}",
      kinds: ["jwt"],
      enabled: true,
    });
  client.destroy();
}, 60_000);
afterAll(async () => {
  tally.save(inject("hostileTallyDir"));
  await target?.stop();
});

function roleOf(p: DevPrincipal): string {
  return p.arn.split("/")[1]!;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;

describe("load on the dev exchange", () => {
  it(`${REQUESTS} JWT-SVID requests, ${CONCURRENCY} at a time, from 3 registered callers: 0 errors`, async () => {
    const ctx = { target, csrs: makeFuzzCsrs(), region: REGION };
    const callers = ["dev", "intruder", "lookalike"] as const;
    const latencies: number[] = [];
    const errors: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < REQUESTS) {
        const i = next++;
        const audience = [`load-${i % 7}`];
        const proof = signProof(baseSpec(ctx, callers[i % 3]!, jwtBinding({ audience })));
        const request = jsonRequest("jwt", { audience, proof });
        const outcome = await target.send(request, "http");
        latencies.push(outcome.ms);
        tally.response(outcome.status, outcome.ms, `jwt as ${callers[i % 3]}`);
        if (outcome.crashed) tally.add("crashes");
        else if (typeof outcome.status === "number" && outcome.status >= 500) tally.add("unexpected5xx");
        if (outcome.status !== 200 && errors.length < 10)
          errors.push(`${outcome.status} ${outcome.body.slice(0, 200)}`);
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    tally.note(
      `dev exchange, ${REQUESTS} JWT-SVIDs over HTTP at concurrency ${CONCURRENCY}: ${(REQUESTS / seconds).toFixed(0)}/s, ` +
        `p50 ${percentile(latencies, 0.5).toFixed(1)} ms, p99 ${percentile(latencies, 0.99).toFixed(1)} ms (shared 2-core VM, proofs signed in the same process)`,
    );
    expect(errors).toEqual([]);
    expect(tally.record.statuses["200"]).toBe(REQUESTS);
  }, 120_000);
});
