/**
 * Issue 14, suite "Registration races": writers racing on one entry of
 * DynamoDbRegistrationStore (dynalite). Each writer reads, adds its own audience and
 * writes back under the optimistic lock, re-reading on version_conflict; at the end every
 * acknowledged write is in the entry (lost writes: 0), versions went up by one per write,
 * and a stale version never overwrote anything. Creates and deletes race too.
 */
import { CreateTableCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  DynamoDbRegistrationStore,
  registrationTableDefinition,
} from "../../lib/aws/dynamodb-registration-store.js";
import { BridgeError } from "../../lib/errors.js";
import { type RunningDynamoDb, startDynalite } from "../../lib/local/dynamodb-server.js";
import type { NewRegistration, RegistrationEntry } from "../../lib/ports/registration-store.js";
import { SOAK, Tally } from "../support/hostile-tally.js";

const WRITERS = SOAK === 1 ? 24 : 64;
const TABLE = "races";
let db: RunningDynamoDb;
let store: DynamoDbRegistrationStore;
const tally = new Tally("registration-races");

beforeAll(async () => {
  db = await startDynalite();
  await db.client.send(new CreateTableCommand(registrationTableDefinition(TABLE)));
  store = new DynamoDbRegistrationStore({ client: db.client, tableName: TABLE });
}, 60_000);
afterAll(async () => {
  tally.save(inject("hostileTallyDir"));
  await db?.stop();
});

const entry = (id: string, audiences: string[] = []): NewRegistration => ({
  id,
  selectors: { account: "111122223333", roleName: "racer" },
  spiffeId: "spiffe://example.org/racer",
  kinds: ["jwt"],
  audiences,
  enabled: true,
});

function strip(e: RegistrationEntry): NewRegistration {
  const { createdAt: _c, updatedAt: _u, version: _v, ...rest } = e;
  return rest;
}

/** Counts one store call as a request, by the status the exchange would have answered. */
async function timed<T>(what: string, f: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    const value = await f();
    tally.response(200, performance.now() - started, what);
    return value;
  } catch (error) {
    tally.response(error instanceof BridgeError ? error.status : 500, performance.now() - started, what);
    if (!(error instanceof BridgeError) || error.status >= 500) tally.add("unexpected5xx");
    throw error;
  }
}

/** Read, add `audience`, write under the lock; again on version_conflict. Returns the version written. */
async function addAudience(id: string, audience: string): Promise<number> {
  for (let attempt = 0; attempt < 500; attempt++) {
    const current = (await timed("get", () => store.get(id)))!;
    const next = { ...strip(current), audiences: [...(current.audiences ?? []), audience] };
    try {
      return (await timed("update", () => store.update(next, current.version))).version;
    } catch (error) {
      if (!(error instanceof BridgeError) || error.code !== "version_conflict") throw error;
    }
  }
  throw new Error(`writer ${audience} never got through`);
}

describe("registration races on DynamoDbRegistrationStore", () => {
  it(`${WRITERS} concurrent read-modify-write writers on one entry: no lost update`, async () => {
    await store.create(entry("shared"));
    const written = await Promise.all(
      Array.from({ length: WRITERS }, (_, i) => addAudience("shared", `w${i}`)),
    );
    const final = (await store.get("shared"))!;
    const present = new Set(final.audiences);
    const lost = Array.from({ length: WRITERS }, (_, i) => `w${i}`).filter((a) => !present.has(a));
    tally.add("lostWrites", lost.length);
    expect(lost).toEqual([]);
    expect(final.audiences).toHaveLength(WRITERS);
    // Each acknowledged write took its own version: 2, 3, … WRITERS + 1.
    expect([...written].sort((a, b) => a - b)).toEqual(Array.from({ length: WRITERS }, (_, i) => i + 2));
    expect(final.version).toBe(WRITERS + 1);
  }, 60_000);

  it("writers holding one stale version: exactly one wins, the rest get version_conflict (409)", async () => {
    const created = await store.create(entry("stale"));
    const outcomes = await Promise.allSettled(
      Array.from({ length: WRITERS }, (_, i) =>
        timed("update", () => store.update(entry("stale", [`s${i}`]), created.version)),
      ),
    );
    const won = outcomes.filter((o) => o.status === "fulfilled");
    const codes = outcomes.flatMap((o) => (o.status === "rejected" ? [(o.reason as BridgeError).code] : []));
    expect(won).toHaveLength(1);
    expect(new Set(codes)).toEqual(new Set(["version_conflict"]));
    const final = (await store.get("stale"))!;
    expect(final.audiences).toEqual((won[0] as PromiseFulfilledResult<RegistrationEntry>).value.audiences);
    if (final.version !== 2) tally.add("lostWrites");
  });

  it("concurrent creates of one ID: one entry, the others registration_exists (409)", async () => {
    const outcomes = await Promise.allSettled(
      Array.from({ length: WRITERS }, (_, i) =>
        timed("create", () => store.create(entry("twice", [`c${i}`]))),
      ),
    );
    const won = outcomes.filter(
      (o) => o.status === "fulfilled",
    ) as PromiseFulfilledResult<RegistrationEntry>[];
    expect(won).toHaveLength(1);
    for (const o of outcomes)
      if (o.status === "rejected") expect((o.reason as BridgeError).code).toBe("registration_exists");
    expect((await store.get("twice"))!.audiences).toEqual(won[0]!.value.audiences);
  });

  it("a delete racing updates at one version: one of them wins, never both", async () => {
    for (let round = 0; round < 8 * SOAK; round++) {
      const id = `del-${round}`;
      const created = await store.create(entry(id));
      const [del, upd] = await Promise.allSettled([
        timed("delete", () => store.delete(id, created.version)),
        timed("update", () => store.update(entry(id, ["u"]), created.version)),
      ]);
      const after = await store.get(id);
      expect([del.status, upd.status].filter((s) => s === "fulfilled")).toHaveLength(1);
      if (del.status === "fulfilled") expect(after).toBeUndefined();
      else {
        expect(after?.audiences).toEqual(["u"]);
        expect((del.reason as BridgeError).code).toBe("version_conflict");
      }
    }
  });
});
