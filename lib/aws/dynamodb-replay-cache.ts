/**
 * DynamoDbReplayCache: each accepted proof is one item, written with a conditional put
 * that succeeds only if the key is new or its record has expired. The expiry attribute
 * (epoch seconds) is also the table's TTL attribute, but DynamoDB's TTL deletes days
 * late, so the condition itself treats an expired record as absent.
 */
import {
  ConditionalCheckFailedException,
  type CreateTableCommandInput,
  type DynamoDBClient,
  PutItemCommand,
} from "@aws-sdk/client-dynamodb";
import { type Clock, epochSeconds, systemClock } from "../clock.js";
import { BridgeError } from "../errors.js";
import type { ReplayCache } from "../ports/replay-cache.js";

export const REPLAY_CACHE_PARTITION_KEY = "pk";
/** Epoch seconds; configure it as the table's TTL attribute. */
export const REPLAY_CACHE_TTL_ATTRIBUTE = "expiresAt";

/** The table, as CreateTable takes it: shared by the CDK construct, `svid-bridge dev` and tests. */
export function replayCacheTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    AttributeDefinitions: [{ AttributeName: REPLAY_CACHE_PARTITION_KEY, AttributeType: "S" }],
    KeySchema: [{ AttributeName: REPLAY_CACHE_PARTITION_KEY, KeyType: "HASH" }],
    BillingMode: "PAY_PER_REQUEST",
  };
}

export interface DynamoDbReplayCacheOptions {
  client: DynamoDBClient;
  tableName: string;
  clock?: Clock;
}

export class DynamoDbReplayCache implements ReplayCache {
  readonly #client: DynamoDBClient;
  readonly #tableName: string;
  readonly #clock: Clock;

  constructor(options: DynamoDbReplayCacheOptions) {
    this.#client = options.client;
    this.#tableName = options.tableName;
    this.#clock = options.clock ?? systemClock;
  }

  async remember(key: string, expiresAt: number): Promise<boolean> {
    try {
      await this.#client.send(
        new PutItemCommand({
          TableName: this.#tableName,
          Item: {
            [REPLAY_CACHE_PARTITION_KEY]: { S: key },
            [REPLAY_CACHE_TTL_ATTRIBUTE]: { N: String(expiresAt) },
          },
          // "Not yet expired" means expiresAt > now, as InMemoryReplayCache reads it.
          ConditionExpression: "attribute_not_exists(#pk) OR #exp <= :now",
          ExpressionAttributeNames: { "#pk": REPLAY_CACHE_PARTITION_KEY, "#exp": REPLAY_CACHE_TTL_ATTRIBUTE },
          ExpressionAttributeValues: { ":now": { N: String(epochSeconds(this.#clock)) } },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw new BridgeError("store_unavailable", "the replay cache is unavailable", { cause: error });
    }
  }
}
