import { randomUUID } from "node:crypto";
import { IAMClient } from "@aws-sdk/client-iam";
import type { Command } from "commander";
import { validateRegistration } from "../../registrations/validate-entry.js";
import { awsClientConfig } from "../aws-options.js";
import { addEntryFlags, applyEntryFlags, type EntryFlags } from "../entry-flags.js";
import { entryDetails } from "../entry-output.js";
import { UsageError } from "../exit-codes.js";
import { type CliIo, writeJson } from "../output.js";
import { resolveRoleId } from "../resolve-role-id.js";
import { addStoreOptions, openStore, type StoreOptions, trustDomainOf } from "../store-options.js";
import { registrationLimits } from "../ttl-limits.js";

export function attach(program: Command, io: CliIo): Command {
  const command = program
    .command("register")
    .summary("create a registration entry")
    .description(
      "Create a registration entry: which IAM caller (account, role, optional role ID pin, " +
        "session-name glob) gets which SPIFFE ID. Everything is validated before anything is " +
        "written; a bad SPIFFE ID names the rule it breaks.",
    );
  addEntryFlags(command, "register");
  addStoreOptions(command, { trustDomain: true });
  command.addHelpText(
    "after",
    `
Examples:
  $ svid-bridge register --spiffe-id spiffe://example.org/orders --account 111122223333 --role orders-fn-role
  $ svid-bridge register --id orders --account 111122223333 --role app --session-name 'orders-*' \\
      --spiffe-id 'spiffe://example.org/aws/{account}/{session}' --kind jwt --audience sts.amazonaws.com
  $ svid-bridge register --spiffe-id spiffe://example.org/billing --account 111122223333 --role billing \\
      --resolve-role-id --profile prod --json`,
  );
  command.action(async (flags: EntryFlags & StoreOptions) => {
    const trustDomain = trustDomainOf(flags, io.env);
    const limits = registrationLimits(io.env);
    if (flags.resolveRoleId && flags.roleId)
      throw new UsageError("give --role-id or --resolve-role-id, not both");
    const raw = applyEntryFlags({}, { ...flags, id: flags.id ?? randomUUID() });
    // Validate before asking IAM: a typo in the account should not cost an AWS call.
    let entry = validateRegistration(raw, { trustDomain, limits });
    if (flags.resolveRoleId) {
      const { endpoint: _dynamoEndpoint, ...config } = awsClientConfig(flags, io.env);
      const iam = new IAMClient(config);
      try {
        const roleId = await resolveRoleId(iam, entry.selectors.account, entry.selectors.roleName);
        entry = validateRegistration(
          { ...entry, selectors: { ...entry.selectors, roleId } },
          { trustDomain, limits },
        );
      } finally {
        iam.destroy();
      }
    }
    const { store, close } = openStore(flags, io.env);
    try {
      const created = await store.create(entry);
      if (flags.json) writeJson(io.stdout, created);
      else io.stdout.write(entryDetails(created));
    } finally {
      close();
    }
  });
  return command;
}
