import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { Command } from "commander";
import { DynamoDbKeySetStore } from "../../aws/dynamodb-key-set-store.js";
import { listKeys } from "../../rotation/operations.js";
import { type AwsOptions, addAwsOptions, awsClientConfig } from "../aws-options.js";
import { UsageError } from "../exit-codes.js";
import { type CliIo, formatTable, writeJson } from "../output.js";

export interface KeySetFlags extends AwsOptions {
  keySetTable?: string;
  keySetId?: string;
  json?: boolean;
}

export function addKeySetOptions(command: Command): Command {
  command
    .option("--key-set-table <name>", "the key set table (default: SVID_BRIDGE_KEY_SET_TABLE)")
    .option("--key-set-id <id>", "the key set's item key (default: SVID_BRIDGE_KEY_SET_ID, else default)");
  return addAwsOptions(command).option("--json", "print JSON for scripts");
}

export function openKeySetStore(flags: KeySetFlags, env: NodeJS.ProcessEnv) {
  const tableName = flags.keySetTable ?? env.SVID_BRIDGE_KEY_SET_TABLE;
  if (!tableName)
    throw new UsageError("no key set table: pass --key-set-table or set SVID_BRIDGE_KEY_SET_TABLE");
  const client = new DynamoDBClient({ ...awsClientConfig(flags, env), maxAttempts: 3 });
  const store = new DynamoDbKeySetStore({
    client,
    tableName,
    setId: flags.keySetId ?? env.SVID_BRIDGE_KEY_SET_ID ?? "default",
  });
  return { store, client, close: () => client.destroy() };
}

export function attach(program: Command, io: CliIo): Command {
  const command = program
    .command("keys")
    .summary("list the JWT signing keys and the intermediate CA")
    .description(
      "Reads the key set from DynamoDB: every JWT key with its state (prepared, active, retired) " +
        "and times, and the intermediate CA's validity.",
    );
  addKeySetOptions(command);
  command.addHelpText(
    "after",
    `
Examples:
  $ svid-bridge keys                     # after: source .svid-bridge/env
  $ svid-bridge keys --key-set-table svid-bridge-keys --json`,
  );
  command.action(async (flags: KeySetFlags) => {
    const { store, close } = openKeySetStore(flags, io.env);
    try {
      const listing = await listKeys(store);
      if (flags.json) return void writeJson(io.stdout, listing);
      io.stdout.write(
        formatTable(listing.keys, [
          { header: "KID", value: (k) => k.kid },
          { header: "ALG", value: (k) => k.alg },
          { header: "STATE", value: (k) => k.state },
          { header: "CREATED", value: (k) => k.createdAt },
          { header: "ACTIVE FROM", value: (k) => k.activatedAt ?? k.activateAfter },
          { header: "PUBLISHED UNTIL", value: (k) => k.publishUntil ?? "" },
        ]),
      );
      if (listing.x509)
        io.stdout.write(`intermediate CA: ${listing.x509.notBefore} .. ${listing.x509.notAfter}\n`);
      io.stdout.write(`sequence: ${listing.sequence}\n`);
    } finally {
      close();
    }
  });
  return command;
}
