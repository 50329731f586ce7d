import { CreateTableCommand, DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoDbKeySetStore, keySetTableDefinition } from "../../lib/aws/dynamodb-key-set-store.js";
import { errorCodeOf } from "../../lib/errors.js";
import type { JwtSigningKey, KeySet } from "../../lib/keyset/key-set.js";
import type { KeySetStore } from "../../lib/keyset/key-set-store.js";
import {
  DYNAMODB_TEST_CREDENTIALS,
  type RunningDynamoDb,
  startDynalite,
} from "../../lib/local/dynamodb-server.js";
import { InMemoryKeyManager } from "../../lib/local/in-memory-key-manager.js";
import { InMemoryKeySetStore } from "../../lib/local/in-memory-key-set-store.js";

let dynamo: RunningDynamoDb;
let tableCount = 0;

beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo.stop();
});

async function freshDynamoStore(setId?: string): Promise<KeySetStore> {
  const tableName = `keys-${++tableCount}`;
  await dynamo.client.send(new CreateTableCommand(keySetTableDefinition(tableName)));
  return new DynamoDbKeySetStore({ client: dynamo.client, tableName, ...(setId && { setId }) });
}

const keys = new InMemoryKeyManager();
async function key(state: JwtSigningKey["state"], at = 1_000): Promise<JwtSigningKey> {
  const info = await keys.createKey("ES256");
  return {
    kid: info.thumbprint,
    keyId: info.keyId,
    alg: "ES256",
    jwk: info.jwk,
    state,
    createdAt: at,
    activateAfter: at,
    ...(state !== "prepared" && { activatedAt: at }),
    ...(state === "retired" && { retiredAt: at + 10, publishUntil: at + 100 }),
  };
}

const stores: [string, () => Promise<KeySetStore>][] = [
  ["InMemoryKeySetStore", async () => new InMemoryKeySetStore()],
  ["DynamoDbKeySetStore (dynalite)", () => freshDynamoStore()],
];

describe.each(stores)("%s", (_name, makeStore) => {
  it("starts empty at sequence 0", async () => {
    const store = await makeStore();
    expect(await store.get()).toEqual({ sequence: 0, jwtKeys: [], updatedAt: 0 });
  });

  it("writes the whole set and raises the sequence by one per write", async () => {
    const store = await makeStore();
    const set: Omit<KeySet, "sequence"> = {
      jwtKeys: [await key("active"), await key("prepared"), await key("retired")],
      x509: {
        certificatePem: "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n",
        chainPem: "",
        keyId: "ca-key",
        trustAnchorsPem: "",
        notBefore: 1,
        notAfter: 2,
      },
      updatedAt: 1_000,
    };
    expect((await store.put(set, 0)).sequence).toBe(1);
    expect(await store.get()).toEqual({ ...set, sequence: 1 });
    expect((await store.put({ ...set, updatedAt: 2_000 }, 1)).sequence).toBe(2);
    expect((await store.get()).updatedAt).toBe(2_000);
  });

  it("refuses a write from a stale sequence with version_conflict and keeps the winner's set", async () => {
    const store = await makeStore();
    const winner = { jwtKeys: [await key("active")], updatedAt: 1 };
    await store.put(winner, 0);
    const loser = { jwtKeys: [await key("active")], updatedAt: 2 };
    expect(errorCodeOf(await store.put(loser, 0).catch((e) => e))).toBe("version_conflict");
    await store.put({ ...winner, updatedAt: 3 }, 1);
    expect(errorCodeOf(await store.put(loser, 1).catch((e) => e))).toBe("version_conflict");
    expect((await store.get()).jwtKeys[0]!.kid).toBe(winner.jwtKeys[0]!.kid);
  });

  it("refuses to store two active keys", async () => {
    const store = await makeStore();
    const error = await store
      .put({ jwtKeys: [await key("active"), await key("active")], updatedAt: 1 }, 0)
      .catch((e) => e);
    expect(errorCodeOf(error)).toBe("internal_error");
    expect(String(error.message)).toMatch(/2 active keys/);
    expect((await store.get()).sequence).toBe(0);
  });

  it("refuses to store a private key parameter", async () => {
    const store = await makeStore();
    const k = await key("active");
    const error = await store
      .put({ jwtKeys: [{ ...k, jwk: { ...k.jwk, d: "secret" } }], updatedAt: 1 }, 0)
      .catch((e) => e);
    expect(errorCodeOf(error)).toBe("internal_error");
  });

  it("hands out copies: changing what get() returned does not change the store", async () => {
    const store = await makeStore();
    await store.put({ jwtKeys: [await key("active")], updatedAt: 1 }, 0);
    const read = await store.get();
    read.jwtKeys[0]!.state = "retired";
    expect((await store.get()).jwtKeys[0]!.state).toBe("active");
  });
});

describe("DynamoDbKeySetStore specifics", () => {
  it("keeps sets of different ids apart in one table", async () => {
    const tableName = `keys-${++tableCount}`;
    await dynamo.client.send(new CreateTableCommand(keySetTableDefinition(tableName)));
    const a = new DynamoDbKeySetStore({ client: dynamo.client, tableName, setId: "a" });
    const b = new DynamoDbKeySetStore({ client: dynamo.client, tableName, setId: "b" });
    await a.put({ jwtKeys: [await key("active")], updatedAt: 1 }, 0);
    expect((await b.get()).sequence).toBe(0);
  });

  it("answers store_unavailable (503) when DynamoDB cannot be reached", async () => {
    const client = new DynamoDBClient({
      endpoint: "http://127.0.0.1:9",
      region: "us-east-1",
      credentials: DYNAMODB_TEST_CREDENTIALS,
      maxAttempts: 1,
    });
    const store = new DynamoDbKeySetStore({ client, tableName: "keys-x" });
    const error = await store.get().catch((e) => e);
    expect(errorCodeOf(error)).toBe("store_unavailable");
    expect(error.status).toBe(503);
    client.destroy();
  });

  it("refuses a stored item that is not a key set", async () => {
    const tableName = `keys-${++tableCount}`;
    await dynamo.client.send(new CreateTableCommand(keySetTableDefinition(tableName)));
    await dynamo.client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: { pk: { S: "keyset#default" }, sequence: { N: "4" }, keySet: { S: "{not json" } },
      }),
    );
    const store = new DynamoDbKeySetStore({ client: dynamo.client, tableName });
    expect(errorCodeOf(await store.get().catch((e) => e))).toBe("internal_error");
  });
});
