/**
 * Issue 14, fault 3 through the CLI as a process: `register` refuses a template whose
 * placeholders share a segment, and `list` flags an entry stored before the rule.
 */
import { CreateTableCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DynamoDbRegistrationStore,
  registrationTableDefinition,
} from "../../lib/aws/dynamodb-registration-store.js";
import {
  DYNAMODB_TEST_CREDENTIALS,
  type RunningDynamoDb,
  startDynalite,
} from "../../lib/local/dynamodb-server.js";
import { runCli } from "./run-cli.js";

let db: RunningDynamoDb;
const env = () => ({
  SVID_BRIDGE_TABLE: "flagged",
  SVID_BRIDGE_TRUST_DOMAIN: "example.org",
  AWS_REGION: "us-east-1",
  AWS_ACCESS_KEY_ID: DYNAMODB_TEST_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: DYNAMODB_TEST_CREDENTIALS.secretAccessKey,
});
const cli = (args: string[]) => runCli([...args, "--endpoint-url", db.endpoint], env());

beforeAll(async () => {
  db = await startDynalite();
  await db.client.send(new CreateTableCommand(registrationTableDefinition("flagged")));
  // As an older release would have stored it: the store itself does not validate.
  await new DynamoDbRegistrationStore({ client: db.client, tableName: "flagged" }).create({
    id: "legacy",
    spiffeId: "spiffe://example.org/fn/{role}{session}",
    selectors: { account: "111122223333", roleName: "r" },
    kinds: ["jwt"],
    enabled: true,
  });
});
afterAll(() => db?.stop());

describe("fault 3 in the CLI", () => {
  it("fault 3: register refuses spiffe://example.org/fn/{role}-{session} (exit 2, the rule named)", async () => {
    const out = await cli([
      "register",
      "--id",
      "x",
      "--spiffe-id",
      "spiffe://example.org/fn/{role}-{session}",
      "--account",
      "111122223333",
      "--role",
      "r",
    ]);
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/registration_invalid: .*\{role\} and \{session\} share a path segment/);
  });

  it("fault 3: list flags a stored entry that breaks the rule, as text and as JSON", async () => {
    const text = await cli(["list"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("legacy");
    expect(text.stderr).toMatch(
      /^warning: entry legacy: spiffe:\/\/example.org\/fn\/\{role\}\{session\}: .*share a path segment/m,
    );
    const json = await cli(["list", "--json"]);
    const doc = JSON.parse(json.stdout) as { flagged?: Array<{ id: string; rule: string }> };
    expect(doc.flagged?.map((f) => f.id)).toEqual(["legacy"]);
  });
});
