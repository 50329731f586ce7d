/**
 * KeySetStore on DynamoDB: the whole key set is ONE item, `{pk, sequence, keySet}`,
 * written with a conditional PutItem on `sequence`.
 *
 * Why one item: the rule that matters ("never two active keys") is a rule about the
 * set, not about a key. With one item per key, activating one key and retiring another
 * would need TransactWriteItems, which dynalite (the local DynamoDB) lacks; with one
 * item, every transition is a single conditional write, atomic by construction. The set
 * is a handful of keys plus a CA certificate chain (a few KB, far below DynamoDB's
 * 400 KB item limit), it is read with one consistent GetItem, and rotation writes it a
 * few times a day, so write contention is not a concern. No TTL attribute: retired keys
 * are dropped by the rotation itself at `publishUntil`, on time, where DynamoDB's TTL
 * deletes days late (and dynalite has none).
 *
 * `keySet` is stored as a JSON string, not a marshalled map: the record is read whole,
 * never queried by attribute, and JSON keeps integers and absent fields exact.
 */
import {
  ConditionalCheckFailedException,
  type CreateTableCommandInput,
  type DynamoDBClient,
  GetItemCommand,
  type GetItemCommandOutput,
  PutItemCommand,
} from "@aws-sdk/client-dynamodb";
import { BridgeError } from "../errors.js";
import { assertKeySetInvariants, EMPTY_KEY_SET, type KeySet } from "../keyset/key-set.js";
import type { KeySetStore } from "../keyset/key-set-store.js";

export interface DynamoDbKeySetStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  /** Item key: one table can hold several bridges' sets (one per trust domain). Default "default". */
  setId?: string;
}

/** The table the store needs (the CDK construct declares the same schema). */
export function keySetTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
    AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
    BillingMode: "PAY_PER_REQUEST",
  };
}

export class DynamoDbKeySetStore implements KeySetStore {
  readonly #client: DynamoDBClient;
  readonly #table: string;
  readonly #pk: string;

  constructor(options: DynamoDbKeySetStoreOptions) {
    this.#client = options.client;
    this.#table = options.tableName;
    this.#pk = `keyset#${options.setId ?? "default"}`;
  }

  async get(): Promise<KeySet> {
    let item: GetItemCommandOutput;
    try {
      item = await this.#client.send(
        new GetItemCommand({ TableName: this.#table, Key: { pk: { S: this.#pk } }, ConsistentRead: true }),
      );
    } catch (cause) {
      throw unavailable(cause);
    }
    if (!item.Item) return structuredClone(EMPTY_KEY_SET) as KeySet;
    const sequence = Number(item.Item.sequence?.N);
    let parsed: unknown;
    try {
      parsed = JSON.parse(item.Item.keySet?.S ?? "");
    } catch (cause) {
      throw new BridgeError("internal_error", "the stored key set is not valid JSON", { cause });
    }
    if (typeof parsed !== "object" || parsed === null || !Array.isArray((parsed as KeySet).jwtKeys))
      throw new BridgeError("internal_error", "the stored key set has no jwtKeys");
    const set: KeySet = { ...(parsed as KeySet), sequence };
    assertKeySetInvariants(set);
    return set;
  }

  async put(next: Omit<KeySet, "sequence">, expectedSequence: number): Promise<KeySet> {
    const stored: KeySet = { ...structuredClone(next), sequence: expectedSequence + 1 };
    assertKeySetInvariants(stored);
    const { sequence, ...body } = stored;
    const first = expectedSequence === 0;
    try {
      await this.#client.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: {
            pk: { S: this.#pk },
            sequence: { N: String(sequence) },
            keySet: { S: JSON.stringify(body) },
          },
          ConditionExpression: first ? "attribute_not_exists(pk)" : "#sequence = :expected",
          ...(!first && {
            ExpressionAttributeNames: { "#sequence": "sequence" },
            ExpressionAttributeValues: { ":expected": { N: String(expectedSequence) } },
          }),
        }),
      );
    } catch (cause) {
      if (
        cause instanceof ConditionalCheckFailedException ||
        (cause as Error)?.name === "ConditionalCheckFailedException"
      )
        throw new BridgeError("version_conflict", `key set is no longer at sequence ${expectedSequence}`, {
          cause,
        });
      throw unavailable(cause);
    }
    return stored;
  }
}

function unavailable(cause: unknown): BridgeError {
  return new BridgeError("store_unavailable", "the key set table cannot be reached", { cause });
}
