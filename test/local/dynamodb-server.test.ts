import { CreateTableCommand, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningDynamoDb, startDynalite } from "../../lib/local/dynamodb-server.js";

describe("dynalite stand-in", () => {
  let db: RunningDynamoDb;
  beforeAll(async () => {
    db = await startDynalite();
  });
  afterAll(() => db.stop());

  it("serves the real DynamoDB client over loopback, conditional writes included", async () => {
    await db.client.send(
      new CreateTableCommand({
        TableName: "smoke",
        AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
    const put = () =>
      db.client.send(
        new PutItemCommand({
          TableName: "smoke",
          Item: { pk: { S: "a" } },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
    await put();
    await expect(put()).rejects.toMatchObject({ name: "ConditionalCheckFailedException" });
    const got = await db.client.send(new GetItemCommand({ TableName: "smoke", Key: { pk: { S: "a" } } }));
    expect(got.Item?.pk?.S).toBe("a");
  });

  it("a table is writable as soon as CreateTable answers (dynalite's ACTIVE timer raced the first write in CI)", async () => {
    // A slow ACTIVE timer makes the race certain: without the wait, the write is ResourceNotFound.
    const slow = await startDynalite({ createTableMs: 150 });
    try {
      const TableName = "race";
      await slow.client.send(
        new CreateTableCommand({
          TableName,
          AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
          KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
          BillingMode: "PAY_PER_REQUEST",
        }),
      );
      await slow.client.send(new PutItemCommand({ TableName, Item: { pk: { S: "first" } } }));
    } finally {
      await slow.stop();
    }
  });
});
