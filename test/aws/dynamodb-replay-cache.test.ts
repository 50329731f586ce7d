import { CreateTableCommand, DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DynamoDbReplayCache,
  REPLAY_CACHE_TTL_ATTRIBUTE,
  replayCacheTableDefinition,
} from "../../lib/aws/dynamodb-replay-cache.js";
import { ManualClock } from "../../lib/clock.js";
import { BridgeError } from "../../lib/errors.js";
import {
  DYNAMODB_TEST_CREDENTIALS,
  type RunningDynamoDb,
  startDynalite,
} from "../../lib/local/dynamodb-server.js";

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
const NOW = T0 / 1000;

describe("DynamoDbReplayCache on dynalite", () => {
  let db: RunningDynamoDb;
  const clock = new ManualClock(T0);
  let cache: DynamoDbReplayCache;

  beforeAll(async () => {
    db = await startDynalite();
    await db.client.send(new CreateTableCommand(replayCacheTableDefinition("replay")));
    cache = new DynamoDbReplayCache({ client: db.client, tableName: "replay", clock });
  });
  afterAll(() => db.stop());

  it("records a new key once, and refuses it again while it has not expired", async () => {
    expect(await cache.remember("k1", NOW + 120)).toBe(true);
    expect(await cache.remember("k1", NOW + 120)).toBe(false);
    const item = await db.client.send(new GetItemCommand({ TableName: "replay", Key: { pk: { S: "k1" } } }));
    expect(item.Item?.[REPLAY_CACHE_TTL_ATTRIBUTE]?.N).toBe(String(NOW + 120));
  });

  it("keeps different keys apart", async () => {
    expect(await cache.remember("k2", NOW + 120)).toBe(true);
    expect(await cache.remember("k3", NOW + 120)).toBe(true);
  });

  it("treats an expired record as absent, though DynamoDB has not deleted it yet", async () => {
    expect(await cache.remember("k4", NOW + 10)).toBe(true);
    clock.set(T0 + 9_000);
    expect(await cache.remember("k4", NOW + 130)).toBe(false);
    clock.set(T0 + 10_000);
    expect(await cache.remember("k4", NOW + 130)).toBe(true);
    expect(await cache.remember("k4", NOW + 130)).toBe(false);
    clock.set(T0);
  });

  it("lets exactly one of many concurrent writers of the same key through", async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => cache.remember("race", NOW + 60)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it("maps a store failure to 503 store_unavailable", async () => {
    const missing = new DynamoDbReplayCache({ client: db.client, tableName: "no-such-table", clock });
    await expect(missing.remember("k", NOW + 1)).rejects.toSatisfy(
      (e) => e instanceof BridgeError && e.code === "store_unavailable" && e.status === 503,
    );
  });

  it("maps an unreachable DynamoDB to store_unavailable", async () => {
    const client = new DynamoDBClient({
      endpoint: "http://127.0.0.1:9",
      region: "us-east-1",
      credentials: DYNAMODB_TEST_CREDENTIALS,
      maxAttempts: 1,
    });
    const down = new DynamoDbReplayCache({ client, tableName: "replay", clock });
    await expect(down.remember("k", NOW + 1)).rejects.toSatisfy(
      (e) => e instanceof BridgeError && e.code === "store_unavailable",
    );
    client.destroy();
  });
});
