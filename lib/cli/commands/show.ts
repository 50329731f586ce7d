import type { Command } from "commander";
import { BridgeError } from "../../errors.js";
import { entryDetails } from "../entry-output.js";
import { type CliIo, writeJson } from "../output.js";
import { addStoreOptions, openStore, type StoreOptions } from "../store-options.js";

export function attach(program: Command, io: CliIo): Command {
  const command = program
    .command("show")
    .summary("show one registration entry")
    .description("Show one registration entry, with its version (update and delete need it).")
    .argument("<id>", "entry id");
  addStoreOptions(command);
  command.addHelpText(
    "after",
    `
Examples:
  $ svid-bridge show orders
  $ svid-bridge show orders --json | jq .version`,
  );
  command.action(async (id: string, flags: StoreOptions) => {
    const { store, close } = openStore(flags, io.env);
    try {
      const entry = await store.get(id);
      if (!entry) throw new BridgeError("registration_not_found", `registration ${id} does not exist`);
      if (flags.json) writeJson(io.stdout, entry);
      else io.stdout.write(entryDetails(entry));
    } finally {
      close();
    }
  });
  return command;
}
