import type { Command } from "commander";
import type { RegistrationEntry } from "../../ports/registration-store.js";
import { templateProblem } from "../../registrations/spiffe-template.js";
import { wholeNumber } from "../entry-flags.js";
import { entryTable } from "../entry-output.js";
import { type CliIo, writeJson } from "../output.js";
import { addStoreOptions, openStore, type StoreOptions } from "../store-options.js";

interface ListFlags extends StoreOptions {
  account?: string;
  spiffeId?: string;
  limit?: number;
  nextToken?: string;
  all?: boolean;
}

export function attach(program: Command, io: CliIo): Command {
  const command = program
    .command("list")
    .summary("list registration entries")
    .description(
      "List registration entries, all or by account or SPIFFE ID, a page at a time. " +
        "The next page's token goes to stderr (or into the JSON); --all follows every page.",
    )
    .option("--account <account-id>", "only this account's entries")
    .option("--spiffe-id <id>", "only entries with exactly this SPIFFE ID (or template text)")
    .option("--limit <n>", "page size, 1–1000 (default 100)", wholeNumber)
    .option("--next-token <token>", "continue from the token a previous page printed")
    .option("--all", "fetch every page");
  addStoreOptions(command);
  command.addHelpText(
    "after",
    `
Examples:
  $ svid-bridge list --table svid-bridge-registrations
  $ svid-bridge list --account 111122223333 --all --json | jq '.items[].id'
  $ svid-bridge list --spiffe-id spiffe://example.org/orders`,
  );
  command.action(async (flags: ListFlags) => {
    const { store, close } = openStore(flags, io.env);
    try {
      const items: RegistrationEntry[] = [];
      let nextToken = flags.nextToken;
      do {
        const page = await store.list({
          ...(flags.account !== undefined && { account: flags.account }),
          ...(flags.spiffeId !== undefined && { spiffeId: flags.spiffeId }),
          ...(flags.limit !== undefined && { limit: flags.limit }),
          ...(nextToken !== undefined && { nextToken }),
        });
        items.push(...page.items);
        nextToken = page.nextToken;
      } while (flags.all && nextToken);
      // Entries stored before a template rule existed (issue 14, fault 3): the exchange refuses them.
      const flagged = items.flatMap((e) => {
        const rule = templateProblem(e.spiffeId);
        return rule ? [{ id: e.id, spiffeId: e.spiffeId, rule }] : [];
      });
      if (flags.json)
        writeJson(io.stdout, {
          items,
          ...(nextToken && { nextToken }),
          ...(flagged.length > 0 && { flagged }),
        });
      else {
        io.stdout.write(entryTable(items));
        if (nextToken) io.stderr.write(`more entries: --next-token ${nextToken}\n`);
      }
      for (const f of flagged) io.stderr.write(`warning: entry ${f.id}: ${f.spiffeId}: ${f.rule}\n`);
    } finally {
      close();
    }
  });
  return command;
}
