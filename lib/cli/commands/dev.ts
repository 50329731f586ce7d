import { resolve } from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import { DEMO_ENTRY_ID, DEV_ROLE } from "../../dev/dev-defaults.js";
import { createDevLog, type DevLog } from "../../dev/dev-log.js";
import type { DevStack } from "../../dev/dev-stack.js";
import { BridgeError } from "../../errors.js";
import { claimEnvFile } from "../dev-env-file.js";
import { UsageError } from "../exit-codes.js";
import type { CliIo } from "../output.js";
import { awsRegion } from "../values.js";
import { demoOnce, formatDemoReport, readEvent } from "./demo.js";

interface DevFlags {
  port: number;
  trustDomain: string;
  region: string;
  dataDir?: string;
  envOut: string;
  seed: boolean;
  rotationInterval: number;
  rotationPeriod: number;
  json?: boolean;
  verbose?: boolean;
  withFunction?: string;
}

function integer(min: number, max: number) {
  return (value: string) => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max)
      throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}`);
    return n;
  };
}

/** `export NAME='value'`: safe to eval or source whatever the value holds. */
export function exportLine(name: string, value: string): string {
  return `export ${name}='${value.replaceAll("'", `'\\''`)}'`;
}

export function attach(program: Command, io: CliIo): Command {
  const command = program
    .command("dev")
    .summary("run the whole bridge on this machine (no AWS account)")
    .description(
      "Starts the bridge on 127.0.0.1 with local stand-ins on real protocols: dynalite for DynamoDB, " +
        "a local STS that checks SigV4, local keys and CA, the exchange and discovery handlers served " +
        "as Function URLs, the rotation on a timer. Seeds a registration for a dev principal and prints " +
        "its credentials and the bridge's settings as `export` lines (stdout, and --env-out). " +
        "Runs until Ctrl-C.",
    )
    .option("--port <n>", "port for the exchange, discovery and the dev admin API", integer(0, 65535), 8787)
    .option("--trust-domain <name>", "the bridge's trust domain", "example.org")
    .option("--region <region>", "the dev principal's AWS Region", awsRegion, "us-east-1")
    .option("--data-dir <dir>", "keep DynamoDB, dev keys (PKCS#8, 0600), the root CA and credentials here")
    .option(
      "--env-out <path>",
      "also write the export lines here (mode 0600; one dev per file: a second is refused)",
      ".svid-bridge/env",
    )
    .option("--no-seed", `do not create the demo registration (${DEMO_ENTRY_ID})`)
    .option("--rotation-interval <seconds>", "how often the rotation runs", integer(1, 86_400), 60)
    .option(
      "--rotation-period <seconds>",
      "how long a JWT key signs (published a quarter of it, at most 1 h, before)",
      integer(60, 365 * 86_400),
      86_400,
    )
    .option(
      "--with-function <event-file>",
      "once up, run the demo function with the layer on this event (as `svid-bridge demo`)",
    )
    .option("--json", "log JSON lines instead of short text")
    .option("--verbose", "also log debug lines");
  command.addHelpText(
    "after",
    `
Examples:
  $ npm run dev                                   # terminal 1
  $ source .svid-bridge/env                       # terminal 2
  $ npx svid-bridge token --audience demo
  $ svid-bridge dev --port 9000 --data-dir .svid-bridge/data --trust-domain dev.example.org
  $ svid-bridge dev --with-function events/demo-function.json`,
  );
  command.action((flags: DevFlags) => runDev(flags, io));
  return command;
}

/** Starts the stack, prints its export lines, runs the demo if asked, and waits for a signal. */
async function runDev(flags: DevFlags, io: CliIo): Promise<void> {
  const log = createDevLog(io.stderr, { json: flags.json ?? false, verbose: flags.verbose ?? false });
  // Read before anything starts: a bad event file is a usage error, not a half-started bridge.
  const demoEvent = flags.withFunction !== undefined ? await readEvent(io, flags.withFunction) : undefined;
  // Claimed before anything starts: a second dev is refused, the first one's file kept.
  const envFile = await claimEnvFile(flags.envOut);
  const stack = await startStack(flags, log).catch(async (error: unknown) => {
    await envFile.release();
    throw error;
  });
  try {
    const lines = `${Object.entries(stack.env)
      .map(([k, v]) => exportLine(k, v))
      .join("\n")}\n`;
    // Listen before the export lines go out: whoever reads them may signal at once (a
    // script, a test); Ctrl-C during the demo still stops everything cleanly.
    const stopped = untilSignal(log);
    await envFile.write(lines);
    io.stdout.write(lines);
    announce(stack, flags, io, log);
    // The bridge stays up whatever the demo's outcome: its log says what went wrong.
    if (flags.withFunction !== undefined) await demoAgainst(stack, demoEvent, flags, io, log);
    await stopped;
  } finally {
    await envFile.release();
    await stack.stop();
  }
  log.info("stopped");
}

async function startStack(flags: DevFlags, log: DevLog): Promise<DevStack> {
  // Loaded here, not at start: dynalite and the stand-ins are for dev alone.
  const { startDevStack } = await import("../../dev/dev-stack.js");
  try {
    return await startDevStack({
      port: flags.port,
      trustDomain: flags.trustDomain,
      region: flags.region,
      ...(flags.dataDir !== undefined && { dataDir: resolve(flags.dataDir) }),
      seed: flags.seed,
      rotationIntervalSeconds: flags.rotationInterval,
      rotationPeriodSeconds: flags.rotationPeriod,
      log,
    });
  } catch (error) {
    // A port in use or a --data-dir of another trust domain is the user's to fix: exit 1.
    if (error instanceof BridgeError && error.code === "config_invalid") throw new UsageError(error.message);
    throw error;
  }
}

/** Resolves on the first SIGINT or SIGTERM, and stops listening for both. */
function untilSignal(log: DevLog): Promise<void> {
  return new Promise<void>((done) => {
    const stop = (signal: string) => {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      log.info("stopping", { signal });
      done();
    };
    const onInt = () => stop("SIGINT");
    const onTerm = () => stop("SIGTERM");
    process.once("SIGINT", onInt);
    process.once("SIGTERM", onTerm);
  });
}

/** The "up" log line, and (text mode) what to do next. */
function announce(stack: DevStack, flags: DevFlags, io: CliIo, log: DevLog): void {
  log.info("svid-bridge dev is up", {
    url: stack.url,
    trustDomain: stack.trustDomain,
    principal: stack.principal.arn,
    ...(flags.dataDir !== undefined && { dataDir: flags.dataDir }),
  });
  if (!flags.json)
    io.stderr.write(
      `  dev principal ${stack.principal.arn}${flags.seed ? ` (registered as ${DEMO_ENTRY_ID}: spiffe://${stack.trustDomain}/aws/${DEV_ROLE.account}/${DEV_ROLE.roleName})` : " (not registered: --no-seed)"}\n` +
        `  in another terminal: source ${flags.envOut}   then: npx svid-bridge token --audience demo\n` +
        "  Ctrl-C stops the bridge\n",
    );
}

/** `--with-function`: the demo once against the running stack; a failure is logged, not thrown. */
async function demoAgainst(
  stack: DevStack,
  event: unknown,
  flags: DevFlags,
  io: CliIo,
  log: DevLog,
): Promise<void> {
  try {
    const report = await demoOnce({
      bridge: {
        url: stack.url,
        issuer: stack.issuer,
        serverId: stack.serverId,
        trustDomain: stack.trustDomain,
        region: stack.region,
        credentials: {
          accessKeyId: stack.principal.accessKeyId,
          secretAccessKey: stack.principal.secretAccessKey,
          sessionToken: stack.principal.sessionToken ?? "",
        },
      },
      event,
      log,
      ...(!flags.json && { output: io.stderr }),
    });
    if (flags.json) log.info("demo passed", { checks: report.checks });
    else io.stderr.write(formatDemoReport(report));
  } catch (error) {
    log.error("demo failed", { error });
  }
}
