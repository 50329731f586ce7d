import { writeFile } from "node:fs/promises";
import { type Command, Option } from "commander";
import type { RegistrationEntry } from "../../ports/registration-store.js";
import { UsageError } from "../exit-codes.js";
import { checkOutFile } from "../out-path.js";
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
    .option("--out <file>", "write here instead of stdout")
    .option("--account <account-id>", "only this account's entries");
  addStoreOptions(command);
  command.addHelpText(
    "after",
    `
Examples:
  $ svid-bridge export --format yaml --out registrations.yaml
  $ svid-bridge export --account 111122223333 > prod.json`,
  );
  command.action(async (flags: StoreOptions & { format: DocumentFormat; out?: string; account?: string }) => {
    if (flags.json && flags.format !== "json")
      throw new UsageError(`--json writes JSON: give it or --format ${flags.format}, not both`);
    // Before reading the table: a document with nowhere to go is not worth the scan.
    if (flags.out !== undefined) await checkOutFile(flags.out);
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
      if (flags.out) {
        await writeFile(flags.out, text);
        io.stderr.write(`wrote ${entries.length} entries to ${flags.out}\n`);
      } else io.stdout.write(text);
    } finally {
      close();
    }
  });
  return command;
}
