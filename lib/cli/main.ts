/**
 * `svid-bridge`: the program, its commands, and how it ends. Each command is a module in
 * ./commands/ exporting `attach(program, io)`; add one by adding it to COMMANDS. Exit
 * codes and the `error <code>: message` line come from exit-codes.ts.
 */
import { readFile } from "node:fs/promises";
import { Command } from "commander";
import * as agentCommand from "./commands/agent.js";
import * as deleteCommand from "./commands/delete.js";
import * as demoCommand from "./commands/demo.js";
import * as devCommand from "./commands/dev.js";
import * as exportCommand from "./commands/export.js";
import * as gcpConfigCommand from "./commands/gcp-config.js";
import * as importCommand from "./commands/import.js";
import * as invokeCommand from "./commands/invoke.js";
import * as keysCommand from "./commands/keys.js";
import * as listCommand from "./commands/list.js";
import * as registerCommand from "./commands/register.js";
import * as rotateCommand from "./commands/rotate.js";
import * as showCommand from "./commands/show.js";
import * as tokenCommand from "./commands/token.js";
import * as updateCommand from "./commands/update.js";
import * as verifyCommand from "./commands/verify.js";
import * as x509Command from "./commands/x509.js";
import { deferRequiredOptions, jsonRequested } from "./conventions.js";
import { EXIT, type ExitCode, errorJson, errorLine, exitCodeFor } from "./exit-codes.js";
import type { CliIo } from "./output.js";
import { packageVersion } from "./version.js";

export interface CliCommandModule {
  attach(program: Command, io: CliIo): Command;
}

/** In `svid-bridge --help` order. */
export const COMMANDS: readonly CliCommandModule[] = [
  devCommand,
  tokenCommand,
  x509Command,
  verifyCommand,
  demoCommand,
  agentCommand,
  registerCommand,
  listCommand,
  showCommand,
  updateCommand,
  deleteCommand,
  exportCommand,
  importCommand,
  keysCommand,
  rotateCommand,
  gcpConfigCommand,
  invokeCommand,
];

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export function defaultIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    readInput: (path) => (path === "-" ? readStdin() : readFile(path, "utf8")),
  };
}

export function buildProgram(io: CliIo): Command {
  const program = new Command("svid-bridge")
    .description(
      "SPIFFE identities for AWS Lambda: run the bridge locally (dev), get and verify SVIDs, manage registrations and keys.",
    )
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      // Commander's own "error: …" lines are replaced by ours (errorLine); its help stays.
      writeErr: (s) => {
        if (!s.startsWith("error:")) io.stderr.write(s);
      },
    })
    .version(packageVersion(), "--version", "print the version")
    .exitOverride();
  program.addHelpText(
    "after",
    `
Exit codes: 0 ok, 1 usage, 2 validation, 3 conflict or not found, 4 AWS error.
Errors: one line on stderr, \`error <code>: message\`; with --json, {"error", "message", "exitCode"}.
Environment: SVID_BRIDGE_URL, SVID_BRIDGE_ISSUER, SVID_BRIDGE_SERVER_ID, SVID_BRIDGE_TABLE,
SVID_BRIDGE_KEY_SET_TABLE, SVID_BRIDGE_TRUST_DOMAIN, and the AWS SDK's (AWS_REGION, AWS_PROFILE, …).`,
  );
  for (const module of COMMANDS) module.attach(program, io);
  deferRequiredOptions(program);
  return program;
}

/** Runs the CLI on `argv` (as process.argv: node, script, args…) and returns the exit code. */
export async function main(argv: readonly string[], io: CliIo = defaultIo()): Promise<ExitCode> {
  const program = buildProgram(io);
  try {
    if (argv.length <= 2) {
      program.outputHelp();
      return EXIT.usage;
    }
    await program.parseAsync([...argv]);
    return EXIT.ok;
  } catch (error) {
    const code = exitCodeFor(error);
    if (code !== EXIT.ok) io.stderr.write(`${jsonRequested(argv) ? errorJson(error) : errorLine(error)}\n`);
    return code;
  }
}
