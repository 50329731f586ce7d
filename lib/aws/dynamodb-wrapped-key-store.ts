/**
 * WrappedKeyStore in the key-set table: one item per kms-wrapped key,
 * `{pk: "wrapped#<keyId>", record}`. The record holds the private key only as KMS
 * ciphertext, so the table holds no secret; put is conditional so a record is never
 * overwritten (a second writer with the same id would orphan the first key).
 */
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from "@aws-sdk/client-dynamodb";
import { BridgeError } from "../errors.js";
import type { WrappedKeyRecord, WrappedKeyStore } from "../ports/wrapped-key-store.js";

export class DynamoDbWrappedKeyStore implements WrappedKeyStore {
  constructor(private readonly options: { client: DynamoDBClient; tableName: string }) {}

  async put(record: WrappedKeyRecord): Promise<void> {
    try {
      await this.options.client.send(
        new PutItemCommand({
          TableName: this.options.tableName,
          Item: { pk: { S: `wrapped#${record.keyId}` }, record: { S: JSON.stringify(record) } },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
    } catch (cause) {
      if (cause instanceof ConditionalCheckFailedException)
        throw new BridgeError("internal_error", `wrapped key ${record.keyId} already exists`, { cause });
      throw new BridgeError("store_unavailable", "the key table cannot be written", { cause });
    }
  }

  async get(keyId: string): Promise<WrappedKeyRecord | undefined> {
    try {
      const out = await this.options.client.send(
        new GetItemCommand({
          TableName: this.options.tableName,
          Key: { pk: { S: `wrapped#${keyId}` } },
          ConsistentRead: true,
        }),
      );
      const raw = out.Item?.record?.S;
      return raw ? (JSON.parse(raw) as WrappedKeyRecord) : undefined;
    } catch (cause) {
      throw new BridgeError("store_unavailable", "the key table cannot be read", { cause });
    }
  }
}
