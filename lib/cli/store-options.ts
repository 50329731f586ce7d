/**
 * What every registration command needs: the table (`--table` or SVID_BRIDGE_TABLE), the
 * bridge's trust domain (`--trust-domain` or SVID_BRIDGE_TRUST_DOMAIN) and a DynamoDB
 * connection (see aws-options.ts).
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { Command } from "commander";
import { DynamoDbRegistrationStore } from "../aws/dynamodb-registration-store.js";
import type { RegistrationStore } from "../ports/registration-store.js";
import { TrustDomain } from "../spiffe/spiffe-id.js";
import { type AwsOptions, addAwsOptions, awsClientConfig } from "./aws-options.js";
import { UsageError } from "./exit-codes.js";

export interface StoreOptions extends AwsOptions {
  table?: string;
  trustDomain?: string;
  json?: boolean;
}

export function addStoreOptions(command: Command, { trustDomain = false } = {}): Command {
  command.option("--table <name>", "registration table (default: SVID_BRIDGE_TABLE)");
  if (trustDomain)
    command.option("--trust-domain <name>", "the bridge's trust domain (default: SVID_BRIDGE_TRUST_DOMAIN)");
  return addAwsOptions(command).option("--json", "print JSON for scripts instead of a table");
}

export function tableName(options: StoreOptions, env: NodeJS.ProcessEnv): string {
  const name = options.table ?? env.SVID_BRIDGE_TABLE;
  if (!name) throw new UsageError("no registration table: pass --table or set SVID_BRIDGE_TABLE");
  return name;
}

export function trustDomainOf(options: StoreOptions, env: NodeJS.ProcessEnv): TrustDomain {
  const name = options.trustDomain ?? env.SVID_BRIDGE_TRUST_DOMAIN;
  if (!name) throw new UsageError("no trust domain: pass --trust-domain or set SVID_BRIDGE_TRUST_DOMAIN");
  return TrustDomain.parse(name);
}

export interface OpenStore {
  store: RegistrationStore;
  close(): void;
}

export function openStore(options: StoreOptions, env: NodeJS.ProcessEnv): OpenStore {
  const table = tableName(options, env);
  const client = new DynamoDBClient({ ...awsClientConfig(options, env), maxAttempts: 3 });
  return {
    store: new DynamoDbRegistrationStore({ client, tableName: table }),
    close: () => client.destroy(),
  };
}
