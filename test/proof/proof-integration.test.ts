/**
 * The whole proof path with real parts: the client half signs, the server half checks,
 * spends the proof in DynamoDB (dynalite) and asks a local STS that verifies SigV4.
 * Then fast-check mutates a valid proof at random: nothing but the original is accepted,
 * and nothing is refused with anything but a 4xx BridgeError.
 */
import { CreateTableCommand } from "@aws-sdk/client-dynamodb";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoDbReplayCache, replayCacheTableDefinition } from "../../lib/aws/dynamodb-replay-cache.js";
import { ManualClock } from "../../lib/clock.js";
import { BridgeError } from "../../lib/errors.js";
import { type RunningDynamoDb, startDynalite } from "../../lib/local/dynamodb-server.js";
import { InMemoryReplayCache } from "../../lib/local/in-memory-replay-cache.js";
import { LocalSts } from "../../lib/local/sts-server.js";
import { jwtBinding } from "../../lib/proof/binding.js";
import { buildProof } from "../../lib/proof/client.js";
import type { Proof } from "../../lib/proof/proof-format.js";
import { StsCallerVerifier, type StsCallerVerifierOptions } from "../../lib/proof/sts-caller-verifier.js";
import { expectRefusal, ROLE, SERVER_ID, T0 } from "./fixtures.js";

const BINDING = jwtBinding({ audience: ["https://api.example.org"], spiffeId: "spiffe://example.org/fn" });
const clock = new ManualClock(T0);
const sts = new LocalSts({ principals: [ROLE], clock });
let db: RunningDynamoDb;
const verifiers: StsCallerVerifier[] = [];

function verifier(options: Partial<StsCallerVerifierOptions> = {}): StsCallerVerifier {
  const v = new StsCallerVerifier({
    serverIdValue: SERVER_ID,
    regions: ["eu-west-1"],
    replayCache: new DynamoDbReplayCache({ client: db.client, tableName: "replay", clock }),
    clock,
    endpointFor: () => sts.endpoint,
    ...options,
  });
  verifiers.push(v);
  return v;
}

const proof = (at = clock.now()) =>
  buildProof({
    region: "eu-west-1",
    credentials: async () => ROLE,
    serverId: SERVER_ID,
    binding: BINDING,
    clock: new ManualClock(at),
  });

beforeAll(async () => {
  db = await startDynalite();
  await db.client.send(new CreateTableCommand(replayCacheTableDefinition("replay")));
  await sts.start();
});
afterAll(async () => {
  for (const v of verifiers) v.close();
  await sts.stop();
  await db.stop();
});

describe("proof of IAM identity, end to end", () => {
  it("accepts a fresh proof once, across two exchange instances sharing the replay table", async () => {
    const a = verifier();
    const b = verifier();
    const p = await proof();
    await expect(a.verify({ proof: p, expectedBinding: BINDING })).resolves.toMatchObject({
      account: "111122223333",
      principalName: "app-role",
      uniqueId: "AROAFAKEROLEID000001",
      sessionName: "my-function",
    });
    await expectRefusal(b.verify({ proof: p, expectedBinding: BINDING }), "proof_replayed");
    await expectRefusal(
      a.verify({ proof: JSON.parse(JSON.stringify(p)), expectedBinding: BINDING }),
      "proof_replayed",
    );
  });

  it("lets exactly one of two racing copies of a proof through", async () => {
    const p = await proof();
    const results = await Promise.allSettled([
      verifier().verify({ proof: p, expectedBinding: BINDING }),
      verifier().verify({ proof: p, expectedBinding: BINDING }),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const refused = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect((refused.reason as BridgeError).code).toBe("proof_replayed");
  });

  it("refuses a replay after the window by freshness, once the record has expired", async () => {
    const p = await proof();
    await verifier().verify({ proof: p, expectedBinding: BINDING });
    clock.advance(125_000);
    try {
      await expectRefusal(
        verifier().verify({ proof: p, expectedBinding: BINDING }),
        "proof_expired",
        "too-old",
      );
      // A new proof from the same caller goes through.
      await expect(
        verifier().verify({ proof: await proof(), expectedBinding: BINDING }),
      ).resolves.toBeDefined();
    } finally {
      clock.set(T0);
    }
  });
});

type Mutation =
  | { kind: "drop"; i: number }
  | { kind: "dup"; i: number }
  | { kind: "value"; i: number; s: string }
  | { kind: "flip"; i: number; at: number; c: string }
  | { kind: "name"; i: number; s: string }
  | { kind: "add"; name: string; value: string }
  | { kind: "body"; s: string }
  | { kind: "bodyFlip"; at: number; c: string }
  | { kind: "method"; s: string }
  | { kind: "field"; key: string; value: unknown }
  | { kind: "replace"; value: unknown };

const knownNames = fc.constantFrom(
  "host",
  "authorization",
  "x-amz-date",
  "x-amz-security-token",
  "x-amz-target",
  "content-type",
  "x-svid-bridge-server-id",
  "x-svid-bridge-binding",
  "Host",
);
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("drop" as const), i: fc.nat() }),
  fc.record({ kind: fc.constant("dup" as const), i: fc.nat() }),
  fc.record({ kind: fc.constant("value" as const), i: fc.nat(), s: fc.string({ maxLength: 80 }) }),
  fc.record({
    kind: fc.constant("flip" as const),
    i: fc.nat(),
    at: fc.nat(),
    c: fc.string({ minLength: 1, maxLength: 1 }),
  }),
  fc.record({
    kind: fc.constant("name" as const),
    i: fc.nat(),
    s: fc.oneof(knownNames, fc.string({ maxLength: 20 })),
  }),
  fc.record({
    kind: fc.constant("add" as const),
    name: fc.oneof(knownNames, fc.string({ maxLength: 20 })),
    value: fc.string({ maxLength: 40 }),
  }),
  fc.record({ kind: fc.constant("body" as const), s: fc.string({ maxLength: 60 }) }),
  fc.record({
    kind: fc.constant("bodyFlip" as const),
    at: fc.nat(),
    c: fc.string({ minLength: 1, maxLength: 1 }),
  }),
  fc.record({ kind: fc.constant("method" as const), s: fc.constantFrom("GET", "post", "PUT", "") }),
  fc.record({
    kind: fc.constant("field" as const),
    key: fc.oneof(fc.constantFrom("url", "path", "query", "method", "headers", "body"), fc.string()),
    value: fc.jsonValue(),
  }),
  fc.record({ kind: fc.constant("replace" as const), value: fc.jsonValue() }),
);

function apply(proof: Proof, m: Mutation): unknown {
  const headers = proof.headers.map(([n, v]) => [n, v] as [string, string]);
  const at = (i: number) => i % headers.length;
  const flip = (s: string, i: number, c: string) => {
    const k = i % Math.max(s.length, 1);
    return s.slice(0, k) + c + s.slice(k + 1);
  };
  switch (m.kind) {
    case "drop":
      headers.splice(at(m.i), 1);
      break;
    case "dup":
      headers.push([...headers[at(m.i)]!]);
      break;
    case "value":
      headers[at(m.i)]![1] = m.s;
      break;
    case "flip":
      headers[at(m.i)]![1] = flip(headers[at(m.i)]![1], m.at, m.c);
      break;
    case "name":
      headers[at(m.i)]![0] = m.s;
      break;
    case "add":
      headers.push([m.name, m.value]);
      break;
    case "body":
      return { ...proof, headers, body: m.s };
    case "bodyFlip":
      // An earlier mutation may have made the body something other than a string.
      return {
        ...proof,
        headers,
        body: typeof proof.body === "string" ? flip(proof.body, m.at, m.c) : proof.body,
      };
    case "method":
      return { ...proof, headers, method: m.s };
    case "field":
      return { ...proof, headers, [m.key]: m.value };
    case "replace":
      return m.value;
  }
  return { ...proof, headers };
}

/** Still shaped like a proof, so another mutation can be applied to it. */
function isMutable(value: unknown): value is Proof {
  if (typeof value !== "object" || value === null) return false;
  const headers = (value as Proof).headers;
  return (
    Array.isArray(headers) &&
    headers.length > 0 &&
    headers.every(
      (h) => Array.isArray(h) && h.length === 2 && typeof h[0] === "string" && typeof h[1] === "string",
    )
  );
}

/**
 * The same request, whatever the spelling: header names are case-insensitive and header
 * order carries no meaning, so a mutation that only changes those changes nothing.
 */
function normalised(value: unknown): string {
  if (!isMutable(value)) return JSON.stringify(value);
  const headers = value.headers.map(([n, v]) => JSON.stringify([n.toLowerCase(), v])).sort();
  return JSON.stringify({ ...value, headers });
}

describe("property: random mutations of a valid proof", () => {
  it("are never accepted, and are refused only with a 4xx BridgeError", async () => {
    const original = await proof();
    const originalText = normalised(original);
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (mutations) => {
        const mutated = mutations.reduce<unknown>((p, m) => (isMutable(p) ? apply(p, m) : p), original);
        fc.pre(normalised(mutated) !== originalText);
        // A fresh replay record per run: the mutation, not the replay cache, must be what is refused.
        const v = new StsCallerVerifier({
          serverIdValue: SERVER_ID,
          regions: ["eu-west-1"],
          replayCache: new InMemoryReplayCache(clock),
          clock,
          endpointFor: () => sts.endpoint,
        });
        try {
          const outcome = await v.verify({ proof: mutated, expectedBinding: BINDING }).then(
            (identity) => ({ accepted: identity }),
            (error: unknown) => ({ error }),
          );
          expect(outcome).not.toHaveProperty("accepted");
          const error = (outcome as { error: unknown }).error;
          expect(error).toBeInstanceOf(BridgeError);
          expect((error as BridgeError).status).toBeGreaterThanOrEqual(400);
          expect((error as BridgeError).status).toBeLessThan(500);
        } finally {
          v.close();
        }
      }),
      { numRuns: 300 },
    );
  });
});
