import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DynamoDbRegistrationStore,
  registrationTableDefinition,
} from "../../lib/aws/dynamodb-registration-store.js";
import { errorCodeOf } from "../../lib/errors.js";
import { type RunningDynamoDb, startDynalite } from "../../lib/local/dynamodb-server.js";
import { entry, registrationStoreContract } from "../registrations/store-contract.js";

describe("DynamoDbRegistrationStore on dynalite", () => {
  let db: RunningDynamoDb;
  let tables = 0;
  beforeAll(async () => {
    db = await startDynalite();
  });
  afterAll(() => db.stop());

  async function freshTable(client: DynamoDBClient = db.client): Promise<DynamoDbRegistrationStore> {
    const tableName = `registrations-${++tables}`;
    await db.client.send(new CreateTableCommand(registrationTableDefinition(tableName)));
    return new DynamoDbRegistrationStore({ client, tableName });
  }

  registrationStoreContract(() => freshTable());

  it("finds a caller's entries with exactly one Query on the by-caller index, never a Scan", async () => {
    const sent: Array<{ command: string; index?: string }> = [];
    const client = new DynamoDBClient({
      endpoint: db.endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "a", secretAccessKey: "b" },
    });
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { IndexName?: string };
        sent.push({
          command: String(context.commandName),
          ...(input.IndexName && { index: input.IndexName }),
        });
        return next(args);
      },
      { step: "initialize" },
    );
    const store = await freshTable(client);
    for (let i = 0; i < 5; i++) await store.create(entry(`q${i}`));
    sent.length = 0;
    expect(await store.findByAccountAndRole("111122223333", "app")).toHaveLength(5);
    expect(sent).toEqual([{ command: "QueryCommand", index: "by-caller" }]);
    client.destroy();
  });

  it("maps a missing table to store_unavailable (503), not a crash", async () => {
    const store = new DynamoDbRegistrationStore({ client: db.client, tableName: "no-such-table" });
    let error: unknown;
    try {
      await store.findByAccountAndRole("111122223333", "app");
    } catch (e) {
      error = e;
    }
    expect(errorCodeOf(error)).toBe("store_unavailable");
    expect((error as { status: number }).status).toBe(503);
  });
});
