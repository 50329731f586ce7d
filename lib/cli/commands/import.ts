import type { Command } from "commander";
import { BridgeError } from "../../errors.js";
import type { NewRegistration, RegistrationStore } from "../../ports/registration-store.js";
import { validateRegistration } from "../../registrations/validate-entry.js";
import { portableEntry } from "../entry-output.js";
import { UsageError } from "../exit-codes.js";
import { type CliIo, formatTable, writeJson } from "../output.js";
import { parseDocument } from "../registration-document.js";
import { addStoreOptions, openStore, type StoreOptions, trustDomainOf } from "../store-options.js";
import { registrationLimits } from "../ttl-limits.js";

type Action = "create" | "update" | "unchanged";
interface Step {
  id: string;
  action: Action;
  entry: NewRegistration;
  version?: number;
  result?: string;
}

/** Key-order-independent equality of two plain JSON values. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

export function attach(program: Command, io: CliIo): Command {
  const command = program
    .command("import")
    .summary("create or update entries from a JSON or YAML document")
    .description(
      "Apply a document written by `export` (or by hand): entries not in the table are " +
        "created, changed ones updated, equal ones left alone. Entries absent from the " +
        "document are not deleted. Every entry is validated before anything is written. " +
        "Each update is conditional on the version read during planning: a concurrent " +
        "change stops the import with exit 3 (version_conflict).",
    )
    .argument("<file>", "JSON or YAML document, '-' for stdin")
    .option("--dry-run", "print the plan, write nothing")
    .option("--create-only", "refuse (exit 3) if any entry already exists");
  addStoreOptions(command, { trustDomain: true });
  command.addHelpText(
    "after",
    `
Examples:
  $ svid-bridge import registrations.yaml --dry-run
  $ svid-bridge export --format yaml | svid-bridge import - --table other-table`,
  );
  command.action(async (file: string, flags: ImportFlags) => {
    const entries = await readEntries(file, flags, io);
    const { store, close } = openStore(flags, io.env);
    try {
      const plan = await planImport(store, entries, flags.createOnly ?? false);
      if (!flags.dryRun) await applyPlan(store, plan);
      writePlan(plan, flags, io);
    } finally {
      close();
    }
  });
  return command;
}

type ImportFlags = StoreOptions & { dryRun?: boolean; createOnly?: boolean };

/** The document's entries, each validated (`entries[i]: …` on a refusal), no id twice. */
async function readEntries(file: string, flags: ImportFlags, io: CliIo): Promise<NewRegistration[]> {
  const trustDomain = trustDomainOf(flags, io.env);
  const limits = registrationLimits(io.env);
  const text = await io.readInput(file).catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read ${file === "-" ? "stdin" : file}: ${error.code ?? error.message}`);
  });
  const raw = parseDocument(text, file === "-" ? "stdin" : file);
  const entries = raw.map((input, i) => {
    try {
      return validateRegistration(input, { trustDomain, limits });
    } catch (error) {
      if (error instanceof BridgeError)
        throw new BridgeError(error.code, `entries[${i}]: ${error.message}`, { details: error.details });
      throw error;
    }
  });
  const seen = new Set<string>();
  for (const e of entries) {
    if (seen.has(e.id)) throw new BridgeError("registration_invalid", `id ${e.id} appears twice in ${file}`);
    seen.add(e.id);
  }
  return entries;
}

/** Each entry against the table: create, update (at the version read now) or unchanged. */
async function planImport(
  store: RegistrationStore,
  entries: NewRegistration[],
  createOnly: boolean,
): Promise<Step[]> {
  const plan: Step[] = [];
  for (const entry of entries) {
    const current = await store.get(entry.id);
    if (!current) plan.push({ id: entry.id, action: "create", entry });
    else if (createOnly)
      throw new BridgeError("registration_exists", `registration ${entry.id} already exists (--create-only)`);
    else if (canonical(portableEntry(current)) === canonical(entry))
      plan.push({ id: entry.id, action: "unchanged", entry });
    else plan.push({ id: entry.id, action: "update", entry, version: current.version });
  }
  return plan;
}

async function applyPlan(store: RegistrationStore, plan: Step[]): Promise<void> {
  for (const step of plan) {
    if (step.action === "create") step.result = `version ${(await store.create(step.entry)).version}`;
    if (step.action === "update")
      step.result = `version ${(await store.update(step.entry, step.version!)).version}`;
  }
}

function writePlan(plan: Step[], flags: ImportFlags, io: CliIo): void {
  const rows = plan.map((s) => ({ id: s.id, action: s.action, ...(s.result && { result: s.result }) }));
  if (flags.json) writeJson(io.stdout, { dryRun: Boolean(flags.dryRun), steps: rows });
  else
    io.stdout.write(
      formatTable(rows, [
        { header: "ID", value: (r) => r.id },
        { header: flags.dryRun ? "PLAN" : "ACTION", value: (r) => r.action },
        { header: "RESULT", value: (r) => r.result ?? "" },
      ]),
    );
}
