import { CreateTableCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoDbKeySetStore, keySetTableDefinition } from "../../lib/aws/dynamodb-key-set-store.js";
import { ManualClock } from "../../lib/clock.js";
import type { KeySetStore } from "../../lib/keyset/key-set-store.js";
import { type RunningDynamoDb, startDynalite } from "../../lib/local/dynamodb-server.js";
import { InMemoryKeySetStore } from "../../lib/local/in-memory-key-set-store.js";
import { rotateKeys } from "../../lib/rotation/rotate-keys.js";
import { DeletingKeyManager, ObservedStore } from "./helpers.js";

let dynamo: RunningDynamoDb;
let tables = 0;
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo.stop();
});

const T0 = Date.UTC(2026, 0, 1);
const config = { alg: "ES256" as const };

const backends: [string, () => Promise<KeySetStore>][] = [
  ["in memory", async () => new InMemoryKeySetStore()],
  [
    "DynamoDB (dynalite)",
    async () => {
      const tableName = `race-${++tables}`;
      await dynamo.client.send(new CreateTableCommand(keySetTableDefinition(tableName)));
      return new DynamoDbKeySetStore({ client: dynamo.client, tableName });
    },
  ],
];

describe.each(backends)("two rotations at once, %s", (_name, makeStore) => {
  it("on an empty set leave exactly one key, active, and the loser's key is deleted", async () => {
    const inner = await makeStore();
    const store = new ObservedStore(inner, { barrier: 2 });
    // Two sandboxes: each its own key manager view; deletions are recorded per manager.
    const a = new DeletingKeyManager();
    const b = new DeletingKeyManager();
    const clock = new ManualClock(T0);
    const results = await Promise.all([
      rotateKeys({ store, keys: a, clock, config }),
      rotateKeys({ store, keys: b, clock, config }),
    ]);
    expect(store.conflicts).toBe(1); // the race really happened
    const set = await inner.get();
    expect(set.jwtKeys).toHaveLength(1);
    expect(set.jwtKeys.filter((k) => k.state === "active")).toHaveLength(1);
    expect(set.sequence).toBe(1);
    expect(results.filter((r) => r.changed)).toHaveLength(1);
    expect(results[0]!.activeKid).toBe(set.jwtKeys[0]!.kid);
    expect(results[1]!.activeKid).toBe(set.jwtKeys[0]!.kid);
    expect(a.deleted.length + b.deleted.length).toBe(1);
  });

  it("when a successor is due, activate it once: one active key, one retired, one write", async () => {
    const inner = await makeStore();
    const keys = new DeletingKeyManager();
    const clock = new ManualClock(T0);
    await rotateKeys({ store: inner, keys, clock, config });
    clock.advance(23 * 3600 * 1000);
    await rotateKeys({ store: inner, keys, clock, config });
    clock.advance(3600 * 1000);
    const before = (await inner.get()).sequence;

    const store = new ObservedStore(inner, { barrier: 2 });
    const results = await Promise.all([
      rotateKeys({ store, keys, clock, config }),
      rotateKeys({ store, keys, clock, config }),
    ]);
    expect(store.conflicts).toBe(1);
    const set = await inner.get();
    expect(set.sequence).toBe(before + 1);
    expect(set.jwtKeys.map((k) => k.state).sort()).toEqual(["active", "retired"]);
    expect(results.flatMap((r) => r.actions).filter((a) => a.type === "activated")).toHaveLength(1);
  });
});
