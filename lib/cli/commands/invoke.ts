import type { Command } from "commander";
import { DEV_LAMBDAS, type DevLambda } from "../../dev/dev-defaults.js";
import { createDevLog } from "../../dev/dev-log.js";
import { readEventFile } from "../event-file.js";
import { UsageError } from "../exit-codes.js";
import { type CliIo, writeJson } from "../output.js";

interface InvokeFlags {
  event: string;
  trustDomain: string;
  verbose?: boolean;
}

export function attach(program: Command, io: CliIo): Command {
  const command = program
    .command("invoke")
    .summary("run a Lambda handler in process on a sample event")
    .description(
      "Starts the dev parts in this process (dynalite in memory, local STS, keys and CA: the " +
        "same wiring as `svid-bridge dev`), runs the named handler (exchange, discovery or " +
        "rotation) on the event file, prints its response as JSON and stops.",
    )
    .argument("<lambda>", DEV_LAMBDAS.join(" | "))
    .requiredOption("--event <file>", "the event JSON (see events/), or - for stdin")
    .option("--trust-domain <name>", "the bridge's trust domain", "example.org")
    .option("--verbose", "show the handler's log lines on stderr")
    .option("--json", "errors as JSON too (the response is JSON either way)");
  command.addHelpText(
    "after",
    `
Examples:
  $ svid-bridge invoke discovery --event events/discovery-openid-configuration.json
  $ svid-bridge invoke rotation --event events/rotation-scheduled.json`,
  );
  command.action(async (lambda: string, flags: InvokeFlags) => {
    if (!(DEV_LAMBDAS as readonly string[]).includes(lambda))
      throw new UsageError(`unknown lambda ${JSON.stringify(lambda)}: one of ${DEV_LAMBDAS.join(", ")}`);
    const event = await readEventFile(io, flags.event);
    const log = createDevLog(io.stderr, { verbose: true });
    const quiet = { debug() {}, info() {}, warn: log.warn, error: log.error };
    const { startDevStack } = await import("../../dev/dev-stack.js");
    const stack = await startDevStack({
      port: 0,
      trustDomain: flags.trustDomain,
      region: "us-east-1",
      log: flags.verbose ? log : quiet,
    });
    try {
      writeJson(io.stdout, await stack.invoke(lambda as DevLambda, event));
    } finally {
      await stack.stop();
    }
  });
  return command;
}
