import type { Command } from "commander";
import { BridgeError } from "../../errors.js";
import { wholeNumber } from "../entry-flags.js";
import { type CliIo, writeJson } from "../output.js";
import { addStoreOptions, openStore, type StoreOptions } from "../store-options.js";

export function attach(program: Command, io: CliIo): Command {
  const command = program
    .command("delete")
    .summary("delete a registration entry")
    .description(
      "Delete an entry. Conditional on the version read (or --expect-version): an entry " +
        "changed meanwhile is not deleted (exit 3, version_conflict).",
    )
    .argument("<id>", "entry id")
    .option("--expect-version <n>", "fail unless the entry is still at this version", wholeNumber);
  addStoreOptions(command);
  command.addHelpText(
    "after",
    `
Examples:
  $ svid-bridge delete orders
  $ svid-bridge delete orders --expect-version 4 --json`,
  );
  command.action(async (id: string, flags: StoreOptions & { expectVersion?: number }) => {
    const { store, close } = openStore(flags, io.env);
    try {
      const current = await store.get(id);
      if (!current) throw new BridgeError("registration_not_found", `registration ${id} does not exist`);
      const version = flags.expectVersion ?? current.version;
      await store.delete(id, version);
      if (flags.json) writeJson(io.stdout, { deleted: id, version });
      else io.stdout.write(`deleted ${id} (version ${version})\n`);
    } finally {
      close();
    }
  });
  return command;
}
