/**
 * What every `svid-bridge` command does the same way, applied once to the whole program
 * after the commands are attached (main.ts), so a new command gets it by being listed:
 *
 * - required options say so in `--help` ("(required)"), and are checked after commander
 *   has looked for unknown options: `token --audiance x` is "unknown option '--audiance'
 *   (Did you mean --audience?)", not "required option '--audience' not specified";
 * - `--json` asks for JSON errors too (see jsonRequested).
 */
import type { Command } from "commander";

/** Marks and defers every mandatory option of `command` and its subcommands. */
export function deferRequiredOptions(command: Command): void {
  for (const sub of command.commands) deferRequiredOptions(sub);
  const required = command.options.filter((option) => option.mandatory);
  if (required.length === 0) return;
  for (const option of required) {
    option.makeOptionMandatory(false);
    option.description = `${option.description} (required)`;
  }
  // preAction runs after the unknown-option check and the arguments' parsing.
  command.hook("preAction", (self) => {
    const values = self.opts();
    for (const option of required)
      if (values[option.attributeName()] === undefined)
        self.error(`error: required option '${option.flags}' not specified`, {
          code: "commander.missingMandatoryOptionValue",
        });
  });
}

/** `--json` among the arguments (before a `--`): errors are printed as JSON too. */
export function jsonRequested(argv: readonly string[]): boolean {
  const args = argv.slice(2);
  const end = args.indexOf("--");
  return (end === -1 ? args : args.slice(0, end)).includes("--json");
}

/** The commands (at any depth) that have no `--json` option: none should. */
export function commandsWithoutJson(command: Command): string[] {
  return command.commands.flatMap((sub) => [
    ...(sub.options.some((o) => o.long === "--json") ? [] : [sub.name()]),
    ...commandsWithoutJson(sub),
  ]);
}
