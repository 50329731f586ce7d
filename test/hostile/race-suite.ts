/**
 * Registration races (issue 14): N writers update one entry at once through the DynamoDB
 * store (dynalite), each read-modify-write guarded by the entry's version and retried on
 * version_conflict, as the CLI's update does. Every writer's change must survive.
 */
import { CreateTableCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DynamoDbRegistrationStore,
  registrationTableDefinition,
} from "../../lib/aws/dynamodb-registration-store.js";
import { errorCodeOf } from "../../lib/errors.js";
import { type RunningDynamoDb, startDynalite } from "../../lib/local/dynamodb-server.js";
import { tally } from "./tally.js";

const WRITERS = 12;
let db: RunningDynamoDb;
let store: DynamoDbRegistrationStore;

async function addMarker(marker: string): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const current = (await store.get("raced"))!;
    const { createdAt: _c, updatedAt: _u, version, ...entry } = current;
    try {
      await store.update({ ...entry, audiences: [...(entry.audiences ?? []), marker] }, version);
      return attempt;
    } catch (error) {
      if (errorCodeOf(error) !== "version_conflict") throw error;
    }
  }
}

describe("hostile: registration races", () => {
  beforeAll(async () => {
    db = await startDynalite();
    await db.client.send(new CreateTableCommand(registrationTableDefinition("races")));
    store = new DynamoDbRegistrationStore({ client: db.client, tableName: "races" });
    await store.create({
      id: "raced",
      spiffeId: "spiffe://example.org/raced",
      selectors: { account: "111122223333", roleName: "r" },
      kinds: ["jwt"],
      enabled: true,
      audiences: ["start"],
    });
  }, 60_000);
  afterAll(() => db?.stop());

  it(`${WRITERS} concurrent writers on one entry: no lost update`, async () => {
    const attempts = await Promise.all(Array.from({ length: WRITERS }, (_, i) => addMarker(`w${i}`)));
    const final = (await store.get("raced"))!;
    const lost = Array.from({ length: WRITERS }, (_, i) => `w${i}`).filter(
      (m) => !final.audiences?.includes(m),
    );
    tally.lostWrites += lost.length;
    tally.requests += attempts.reduce((a, b) => a + b, 0);
    expect(lost).toEqual([]);
    expect(final.version).toBe(1 + WRITERS);
    expect(Math.max(...attempts)).toBeGreaterThan(1); // they did race
  }, 60_000);
});
