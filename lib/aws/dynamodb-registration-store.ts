/**
 * RegistrationStore on DynamoDB. One item per registration, keyed by its id, so every
 * write is a single-item conditional write (no transactions: dynalite has none, and none
 * are needed). Three GSIs, all projecting every attribute, serve the reads:
 *
 * | index          | partition key                 | sort key | serves |
 * | -------------- | ----------------------------- | -------- | ------ |
 * | (table)        | `id`                          | –        | get, create, update, delete |
 * | `by-caller`    | `callerKey` = `<account>#<role name>` | `id` | the exchange's hot path: one Query |
 * | `by-account`   | `account`                     | `id`     | `list --account`, paginated |
 * | `by-spiffe-id` | `spiffeId` (template text as stored) | `id` | `list --spiffe-id`, paginated |
 *
 * Listing everything is a paginated Scan: an operator's command, never the hot path.
 * An account ID is 12 digits and a role name cannot hold '#', so `callerKey` is
 * unambiguous. GSIs are eventually consistent: a write reaches the exchange's Query
 * within about a second, plus the exchange's cache TTL.
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type CreateTableCommandInput,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import { type Clock, systemClock } from "../clock.js";
import { BridgeError } from "../errors.js";
import type {
  ListRegistrationsOptions,
  NewRegistration,
  Page,
  PrincipalType,
  RegistrationEntry,
  RegistrationStore,
  SvidKind,
} from "../ports/registration-store.js";
import { ENTRY_BODY_FIELDS, SELECTOR_FIELDS } from "../ports/registration-store.js";
import { decodePageToken, encodePageToken, listScope, pageSize } from "../registrations/page-token.js";

export const REGISTRATION_INDEXES = {
  byCaller: "by-caller",
  byAccount: "by-account",
  bySpiffeId: "by-spiffe-id",
} as const;

/**
 * The table as CreateTable takes it (on-demand billing). Tests create it with this, and
 * the CDK construct must declare the same keys and indexes.
 */
export function registrationTableDefinition(tableName: string): CreateTableCommandInput {
  const gsi = (IndexName: string, hash: string) => ({
    IndexName,
    KeySchema: [
      { AttributeName: hash, KeyType: "HASH" as const },
      { AttributeName: "id", KeyType: "RANGE" as const },
    ],
    Projection: { ProjectionType: "ALL" as const },
  });
  return {
    TableName: tableName,
    BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: [
      { AttributeName: "id", AttributeType: "S" },
      { AttributeName: "callerKey", AttributeType: "S" },
      { AttributeName: "account", AttributeType: "S" },
      { AttributeName: "spiffeId", AttributeType: "S" },
    ],
    KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
    GlobalSecondaryIndexes: [
      gsi(REGISTRATION_INDEXES.byCaller, "callerKey"),
      gsi(REGISTRATION_INDEXES.byAccount, "account"),
      gsi(REGISTRATION_INDEXES.bySpiffeId, "spiffeId"),
    ],
  };
}

export function callerKey(account: string, roleName: string): string {
  return `${account}#${roleName}`;
}

/** Attributes an update may set or remove (everything but the key and createdAt). */
const MUTABLE_ATTRIBUTES = ["callerKey", ...SELECTOR_FIELDS, ...ENTRY_BODY_FIELDS] as const;

function toItem(entry: NewRegistration): Record<string, unknown> {
  const s = entry.selectors;
  return {
    id: entry.id,
    callerKey: callerKey(s.account, s.roleName),
    account: s.account,
    roleName: s.roleName,
    roleId: s.roleId,
    sessionName: s.sessionName,
    principalType: s.principalType,
    spiffeId: entry.spiffeId,
    kinds: entry.kinds,
    jwtTtlSeconds: entry.jwtTtlSeconds,
    x509TtlSeconds: entry.x509TtlSeconds,
    audiences: entry.audiences,
    dnsNames: entry.dnsNames,
    enabled: entry.enabled,
    description: entry.description,
  };
}

function corrupt(id: unknown, field: string): never {
  throw new BridgeError("store_unavailable", `registration item ${String(id)} is corrupt (${field})`);
}

function fromItem(item: Record<string, AttributeValue>): RegistrationEntry {
  const v = unmarshall(item);
  const str = (k: string): string => (typeof v[k] === "string" ? (v[k] as string) : corrupt(v.id, k));
  const optStr = (k: string): string | undefined => (v[k] === undefined ? undefined : str(k));
  const optNum = (k: string): number | undefined =>
    v[k] === undefined ? undefined : typeof v[k] === "number" ? (v[k] as number) : corrupt(v.id, k);
  const optList = (k: string): string[] | undefined => {
    if (v[k] === undefined) return undefined;
    if (!Array.isArray(v[k]) || !(v[k] as unknown[]).every((x) => typeof x === "string")) corrupt(v.id, k);
    return v[k] as string[];
  };
  const roleId = optStr("roleId");
  const sessionName = optStr("sessionName");
  const principalType = optStr("principalType") as PrincipalType | undefined;
  const jwtTtlSeconds = optNum("jwtTtlSeconds");
  const x509TtlSeconds = optNum("x509TtlSeconds");
  const audiences = optList("audiences");
  const dnsNames = optList("dnsNames");
  const description = optStr("description");
  if (typeof v.enabled !== "boolean") corrupt(v.id, "enabled");
  const version = optNum("version") ?? corrupt(v.id, "version");
  return {
    id: str("id"),
    selectors: {
      account: str("account"),
      roleName: str("roleName"),
      ...(roleId !== undefined && { roleId }),
      ...(sessionName !== undefined && { sessionName }),
      ...(principalType !== undefined && { principalType }),
    },
    spiffeId: str("spiffeId"),
    kinds: (optList("kinds") ?? corrupt(v.id, "kinds")) as SvidKind[],
    ...(jwtTtlSeconds !== undefined && { jwtTtlSeconds }),
    ...(x509TtlSeconds !== undefined && { x509TtlSeconds }),
    ...(audiences !== undefined && { audiences }),
    ...(dnsNames !== undefined && { dnsNames }),
    enabled: v.enabled as boolean,
    ...(description !== undefined && { description }),
    createdAt: str("createdAt"),
    updatedAt: str("updatedAt"),
    version,
  };
}

/** Any DynamoDB failure we did not expect: 503, the SDK error kept as the cause. */
function storeError(error: unknown, action: string): BridgeError {
  if (error instanceof BridgeError) return error;
  const name = error instanceof Error ? error.name : "Error";
  const message = error instanceof Error ? error.message : String(error);
  return new BridgeError("store_unavailable", `DynamoDB ${action} failed: ${name}: ${message}`, {
    cause: error,
    details: { awsError: name },
  });
}

export interface DynamoDbRegistrationStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  clock?: Clock;
}

export class DynamoDbRegistrationStore implements RegistrationStore {
  readonly #client: DynamoDBClient;
  readonly #table: string;
  readonly #clock: Clock;

  constructor(options: DynamoDbRegistrationStoreOptions) {
    this.#client = options.client;
    this.#table = options.tableName;
    this.#clock = options.clock ?? systemClock;
  }

  #now(): string {
    return new Date(this.#clock.now()).toISOString();
  }

  async create(entry: NewRegistration): Promise<RegistrationEntry> {
    const now = this.#now();
    const item = { ...toItem(entry), createdAt: now, updatedAt: now, version: 1 };
    try {
      await this.#client.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: marshall(item, { removeUndefinedValues: true }),
          ConditionExpression: "attribute_not_exists(id)",
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException)
        throw new BridgeError("registration_exists", `registration ${entry.id} already exists`);
      throw storeError(error, "PutItem");
    }
    return fromItem(marshall(item, { removeUndefinedValues: true }));
  }

  async get(id: string): Promise<RegistrationEntry | undefined> {
    try {
      const out = await this.#client.send(
        new GetItemCommand({ TableName: this.#table, Key: { id: { S: id } }, ConsistentRead: true }),
      );
      return out.Item ? fromItem(out.Item) : undefined;
    } catch (error) {
      throw storeError(error, "GetItem");
    }
  }

  async update(entry: NewRegistration, expectedVersion: number): Promise<RegistrationEntry> {
    const item = toItem(entry);
    const names: Record<string, string> = { "#version": "version", "#updatedAt": "updatedAt" };
    const values: Record<string, unknown> = {
      ":expected": expectedVersion,
      ":next": expectedVersion + 1,
      ":now": this.#now(),
    };
    const sets = ["#version = :next", "#updatedAt = :now"];
    const removes: string[] = [];
    MUTABLE_ATTRIBUTES.forEach((attr, i) => {
      names[`#a${i}`] = attr;
      if (item[attr] === undefined) removes.push(`#a${i}`);
      else {
        values[`:a${i}`] = item[attr];
        sets.push(`#a${i} = :a${i}`);
      }
    });
    try {
      const out = await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: { id: { S: entry.id } },
          UpdateExpression: `SET ${sets.join(", ")}${removes.length ? ` REMOVE ${removes.join(", ")}` : ""}`,
          ConditionExpression: "attribute_exists(id) AND #version = :expected",
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: marshall(values, { removeUndefinedValues: true }),
          ReturnValues: "ALL_NEW",
        }),
      );
      if (!out.Attributes) throw new BridgeError("store_unavailable", "DynamoDB UpdateItem returned no item");
      return fromItem(out.Attributes);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException)
        throw await this.#conditionFailure(entry.id, expectedVersion);
      throw storeError(error, "UpdateItem");
    }
  }

  async delete(id: string, expectedVersion: number): Promise<void> {
    try {
      await this.#client.send(
        new DeleteItemCommand({
          TableName: this.#table,
          Key: { id: { S: id } },
          ConditionExpression: "attribute_exists(id) AND #version = :expected",
          ExpressionAttributeNames: { "#version": "version" },
          ExpressionAttributeValues: { ":expected": { N: String(expectedVersion) } },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException)
        throw await this.#conditionFailure(id, expectedVersion);
      throw storeError(error, "DeleteItem");
    }
  }

  /** A failed condition is either "gone" or "changed": a consistent read tells which. */
  async #conditionFailure(id: string, expectedVersion: number): Promise<BridgeError> {
    const current = await this.get(id);
    if (!current) return new BridgeError("registration_not_found", `registration ${id} does not exist`);
    return new BridgeError(
      "version_conflict",
      `registration ${id} is at version ${current.version}, not ${expectedVersion}: read it again`,
      { details: { currentVersion: current.version } },
    );
  }

  async findByAccountAndRole(account: string, roleName: string): Promise<RegistrationEntry[]> {
    const out: RegistrationEntry[] = [];
    let start: Record<string, AttributeValue> | undefined;
    try {
      do {
        const page = await this.#client.send(
          new QueryCommand({
            TableName: this.#table,
            IndexName: REGISTRATION_INDEXES.byCaller,
            KeyConditionExpression: "callerKey = :k",
            ExpressionAttributeValues: { ":k": { S: callerKey(account, roleName) } },
            ExclusiveStartKey: start,
          }),
        );
        for (const item of page.Items ?? []) out.push(fromItem(item));
        start = page.LastEvaluatedKey;
      } while (start);
    } catch (error) {
      throw storeError(error, "Query");
    }
    return out;
  }

  async list(options: ListRegistrationsOptions = {}): Promise<Page<RegistrationEntry>> {
    const scope = listScope(options);
    const limit = pageSize(options.limit);
    // The start key is rebuilt from the token's id and this listing's own partition value,
    // so a forged token can move within this listing but never into another partition.
    const index =
      options.account !== undefined
        ? { name: REGISTRATION_INDEXES.byAccount, attr: "account", value: options.account }
        : options.spiffeId !== undefined
          ? { name: REGISTRATION_INDEXES.bySpiffeId, attr: "spiffeId", value: options.spiffeId }
          : undefined;
    let start: Record<string, AttributeValue> | undefined;
    if (options.nextToken !== undefined) {
      const { id } = decodePageToken(options.nextToken, scope, ["id"]);
      if (id === undefined) throw new BridgeError("invalid_request", "invalid page token: not a token");
      start = { id: { S: id }, ...(index && { [index.attr]: { S: index.value } }) };
    }
    try {
      const page = index
        ? await this.#client.send(
            new QueryCommand({
              TableName: this.#table,
              IndexName: index.name,
              KeyConditionExpression: "#k = :v",
              ExpressionAttributeNames: { "#k": index.attr },
              ExpressionAttributeValues: { ":v": { S: index.value } },
              Limit: limit,
              ExclusiveStartKey: start,
            }),
          )
        : await this.#client.send(
            new ScanCommand({ TableName: this.#table, Limit: limit, ExclusiveStartKey: start }),
          );
      const items = (page.Items ?? []).map(fromItem);
      const lastId = page.LastEvaluatedKey?.id?.S;
      return lastId === undefined ? { items } : { items, nextToken: encodePageToken(scope, { id: lastId }) };
    } catch (error) {
      throw storeError(error, index ? "Query" : "Scan");
    }
  }
}
