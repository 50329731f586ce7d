import { writeFile } from "node:fs/promises";
import { type Command, Option } from "commander";
import type { RegistrationEntry } from "../../ports/registration-store.js";
import type { CliIo } from "../output.js";
import { type DocumentFormat, formatDocument } from "../registration-document.js";
import { addStoreOptions, openStore, type StoreOptions } from "../store-options.js";

export function attach(program: Command, io: CliIo): Command {
  const command = program
    .command("export")
    .summary("write every registration entry as JSON or YAML")
    .description(
      "Write registration entries (all, or one account's) as a document `import` reads back: " +
        "keep it in git and apply it with `svid-bridge import`. Sorted by id for stable diffs.",
    )
    .addOption(new Option("--format <format>", "document format").choices(["json", "yaml"]).default("json"))
    .option("-o, --output <file>", "write here instead of stdout")
    .option("--account <account-id>", "only this account's entries");
  addStoreOptions(command);
  command.addHelpText(
    "after",
    `
Examples:
  $ svid-bridge export --format yaml -o registrations.yaml
  $ svid-bridge export --account 111122223333 > prod.json`,
  );
  command.action(
    async (flags: StoreOptions & { format: DocumentFormat; output?: string; account?: string }) => {
      const { store, close } = openStore(flags, io.env);
      try {
        const entries: RegistrationEntry[] = [];
        let nextToken: string | undefined;
        do {
          const page = await store.list({
            limit: 1000,
            ...(flags.account !== undefined && { account: flags.account }),
            ...(nextToken !== undefined && { nextToken }),
          });
          entries.push(...page.items);
          nextToken = page.nextToken;
        } while (nextToken);
        entries.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
        const text = formatDocument(entries, flags.format);
        if (flags.output) {
          await writeFile(flags.output, text);
          io.stderr.write(`wrote ${entries.length} entries to ${flags.output}\n`);
        } else io.stdout.write(text);
      } finally {
        close();
      }
    },
  );
  return command;
}
