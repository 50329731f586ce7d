import { CreateTableCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe } from "vitest";
import {
  DynamoDbRegistrationStore,
  registrationTableDefinition,
} from "../../lib/aws/dynamodb-registration-store.js";
import { registrationStoreContract } from "../registrations/store-contract.js";
import { hasJava, type RunningDynamoDbLocal, startDynamoDbLocal } from "../support/dynamodb-local.js";

// CI installs Java 17; only a machine without java skips AWS's own implementation.
describe.skipIf(!hasJava())("DynamoDbRegistrationStore on DynamoDB Local", () => {
  let db: RunningDynamoDbLocal;
  let tables = 0;
  beforeAll(async () => {
    db = await startDynamoDbLocal();
  }, 60_000);
  afterAll(() => db?.stop());

  registrationStoreContract(async () => {
    const tableName = `registrations-${++tables}`;
    await db.client.send(new CreateTableCommand(registrationTableDefinition(tableName)));
    return new DynamoDbRegistrationStore({ client: db.client, tableName });
  });
});
