import type { Command } from "commander";
import { BridgeError } from "../../errors.js";
import { validateRegistration } from "../../registrations/validate-entry.js";
import { addEntryFlags, applyEntryFlags, type EntryFlags, wholeNumber } from "../entry-flags.js";
import { entryDetails, portableEntry } from "../entry-output.js";
import { UsageError } from "../exit-codes.js";
import { type CliIo, writeJson } from "../output.js";
import { addStoreOptions, openStore, type StoreOptions, trustDomainOf } from "../store-options.js";
import { registrationLimits } from "../ttl-limits.js";

export function attach(program: Command, io: CliIo): Command {
  const command = program
    .command("update")
    .summary("change a registration entry")
    .description(
      "Change the given fields of an entry; the rest stay. The write is conditional on the " +
        "version read (or --expect-version): if someone changed the entry meanwhile, nothing " +
        "is written and the exit code is 3 (version_conflict).",
    )
    .argument("<id>", "entry id")
    .option("--expect-version <n>", "fail unless the entry is still at this version", wholeNumber);
  addEntryFlags(command, "update");
  addStoreOptions(command, { trustDomain: true });
  command.addHelpText(
    "after",
    `
Examples:
  $ svid-bridge update orders --disable
  $ svid-bridge update orders --audience sts.amazonaws.com --audience https://iam.googleapis.com/x --expect-version 3
  $ svid-bridge update orders --clear-session-name --jwt-ttl 900`,
  );
  command.action(async (id: string, flags: EntryFlags & StoreOptions & { expectVersion?: number }) => {
    const trustDomain = trustDomainOf(flags, io.env);
    const limits = registrationLimits(io.env);
    if (flags.enable && flags.disable) throw new UsageError("give --enable or --disable, not both");
    const { store, close } = openStore(flags, io.env);
    try {
      const current = await store.get(id);
      if (!current) throw new BridgeError("registration_not_found", `registration ${id} does not exist`);
      const entry = validateRegistration(applyEntryFlags(portableEntry(current), flags), {
        trustDomain,
        limits,
      });
      const updated = await store.update(entry, flags.expectVersion ?? current.version);
      if (flags.json) writeJson(io.stdout, updated);
      else io.stdout.write(entryDetails(updated));
    } finally {
      close();
    }
  });
  return command;
}
