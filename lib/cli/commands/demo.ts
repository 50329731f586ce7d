import { access, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Writable } from "node:stream";
import { fromNodeProviderChain } from "@aws-sdk/credential-providers";
import type { Command } from "commander";
import type { DemoBridge, DemoMode, DemoReport } from "../../dev/demo.js";
import { createDevLog, type DevLog } from "../../dev/dev-log.js";
import { BridgeError } from "../../errors.js";
import { readEventFile } from "../event-file.js";
import { UsageError } from "../exit-codes.js";
import { type CliIo, formatFields, writeJson } from "../output.js";

interface DemoFlags {
  event?: string;
  layer?: string;
  function?: string;
  keep?: boolean;
  profile?: string;
  json?: boolean;
  quiet?: boolean;
  inProcess?: boolean;
}

export const DEFAULT_DEMO_EVENT = { audience: "demo" };

/** The event file, or the default event. */
export function readEvent(io: CliIo, path: string | undefined): Promise<unknown> {
  return path === undefined ? Promise.resolve(DEFAULT_DEMO_EVENT) : readEventFile(io, path);
}

/**
 * The extension's and the function's output, a line at a time with where it came from,
 * so it reads like the function's CloudWatch log stream.
 */
export function sandboxOutput(out: Writable): (source: "extension" | "function", text: string) => void {
  const pending = { extension: "", function: "" };
  return (source, text) => {
    const lines = (pending[source] + text).split("\n");
    pending[source] = lines.pop() ?? "";
    for (const line of lines) if (line.trim()) out.write(`  ${source.padEnd(9)} | ${line}\n`);
  };
}

export function formatDemoReport(report: DemoReport): string {
  const files = Array.isArray(report.result.files) ? (report.result.files as string[]) : [];
  return formatFields([
    ["spiffe_id", String(report.result.spiffeId)],
    ["function", "its own process, started through the layer's exec wrapper, as Lambda does"],
    ["init", `${report.init.ms} ms: the extension proved the role and fetched the SVIDs`],
    [
      "jwt_svid",
      `aud=${report.checks.jwt.audience} alg=${report.checks.jwt.alg} kid=${report.checks.jwt.kid} expires ${report.checks.jwt.expiresAt}: verified through OIDC discovery`,
    ],
    [
      "x509_svid",
      `not after ${report.checks.x509.notAfter}, path of ${report.checks.x509.path.length} to a bundle root: verified against the SPIFFE bundle`,
    ],
    ["files", files.length > 0 ? `${files.join(", ")} in SVID_BRIDGE_FILES_DIR` : undefined],
    [
      "workload_api",
      report.checks.workloadApi &&
        `the same X.509-SVID through the SPIFFE Workload API on ${report.checks.workloadApi.socket}`,
    ],
    [
      "shutdown",
      `extension exited ${report.shutdown.code ?? "(killed)"} after ${report.shutdown.ms} ms${report.shutdown.exitedInTime ? "" : " (past Lambda's deadline)"}`,
    ],
  ]);
}

/**
 * `demo --in-process`: the same function with the layer and in process, side by side.
 * Init: the sandbox's start to ready (extension and function, or the function alone).
 */
export function formatDemoComparison(layer: DemoReport, inProcess: DemoReport): string {
  const col = (a: string, b: string) => `${a.padEnd(18)} ${b}`;
  const total = (r: DemoReport) => Math.round((r.memory.functionMiB + r.memory.extensionMiB) * 10) / 10;
  return formatFields([
    ["spiffe_id", `${String(inProcess.result.spiffeId)} (the same in both modes)`],
    ["mode", col("with the layer", "in process, no layer")],
    ["init", col(`${layer.init.ms} ms`, `${inProcess.init.ms} ms`)],
    ["function process", col(`${layer.memory.functionMiB} MiB`, `${inProcess.memory.functionMiB} MiB`)],
    ["extension process", col(`${layer.memory.extensionMiB} MiB`, "none")],
    ["resident in all", col(`${total(layer)} MiB`, `${total(inProcess)} MiB`)],
    ["jwt_svid", "verified through OIDC discovery, in both modes"],
    ["x509_svid", "verified against the SPIFFE bundle, in both modes"],
  ]);
}

/** Both modes, one after the other; they must agree on who the function is. */
async function demoBothModes(run: DemoRun): Promise<{ extension: DemoReport; inProcess: DemoReport }> {
  const extension = await demoOnce(run);
  const inProcess = await demoOnce({ ...run, mode: "in-process" });
  if (extension.result.spiffeId !== inProcess.result.spiffeId)
    throw new BridgeError(
      "function_failed",
      `the modes disagree: ${String(extension.result.spiffeId)} with the layer, ${String(inProcess.result.spiffeId)} in process`,
    );
  return { extension, inProcess };
}

async function bridgeFromEnv(env: NodeJS.ProcessEnv, profile: string | undefined): Promise<DemoBridge> {
  const need = (name: string, alt?: string) => {
    const value = env[name] ?? (alt !== undefined ? env[alt] : undefined);
    if (!value)
      throw new UsageError(
        `${name} is not set: start \`svid-bridge dev\` and \`source .svid-bridge/env\`, or set it for a deployed bridge`,
      );
    return value;
  };
  const url = need("SVID_BRIDGE_URL");
  const issuer = need("SVID_BRIDGE_ISSUER");
  const serverId = env.SVID_BRIDGE_SERVER_ID ?? issuer;
  const trustDomain = need("SVID_BRIDGE_TRUST_DOMAIN");
  const region = need("AWS_REGION", "AWS_DEFAULT_REGION");
  const credentials = await fromNodeProviderChain(profile ? { profile } : {})().catch((error: unknown) => {
    throw new UsageError(`no AWS credentials for the function's role: ${(error as Error).message}`);
  });
  // Lambda gives a function a role session; the extension's local API is guarded by its token.
  if (!credentials.sessionToken)
    throw new UsageError(
      "the function's credentials need a session token (a role session, as Lambda has): long-term access keys will not do",
    );
  return {
    url,
    issuer,
    serverId,
    trustDomain,
    region,
    credentials: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      sessionToken: credentials.sessionToken,
    },
  };
}

export interface DemoRun {
  bridge: DemoBridge;
  mode?: DemoMode;
  event: unknown;
  layer?: string;
  function?: string;
  keep?: boolean;
  log: DevLog;
  output?: Writable;
}

/** A missing layer or handler file is the user's to fix: say which, before anything builds. */
async function checkInputs(run: DemoRun): Promise<void> {
  if (run.layer !== undefined)
    await access(join(resolve(run.layer), "extensions", "svid-bridge")).catch(() => {
      throw new UsageError(
        `--layer ${run.layer} is not a built layer tree (no extensions/svid-bridge): run npm run build:layer and pass dist/layer`,
      );
    });
  if (run.function !== undefined)
    await access(resolve(run.function)).catch(() => {
      throw new UsageError(`--function ${run.function}: no such file`);
    });
}

/** What `demo` and `dev --with-function` share: a work dir, the run, the sandbox's output. */
export async function demoOnce(run: DemoRun): Promise<DemoReport> {
  await checkInputs(run);
  // Loaded here, not at start: esbuild and the Lambda sandbox are for the demo alone.
  const { runDemo } = await import("../../dev/demo.js");
  const workDir = await mkdtemp(join(tmpdir(), "svid-bridge-demo-"));
  if (run.keep) run.log.info("demo: builds and SVID files kept", { dir: workDir });
  return runDemo({
    bridge: run.bridge,
    event: run.event,
    workDir,
    ...(run.mode && { mode: run.mode }),
    keep: run.keep ?? false,
    log: run.log,
    ...(run.layer !== undefined && { layerDir: resolve(run.layer) }),
    ...(run.function !== undefined && { functionEntry: resolve(run.function) }),
    ...(run.output && { onOutput: sandboxOutput(run.output) }),
  });
}

async function demoCommand(io: CliIo, flags: DemoFlags): Promise<void> {
  const bridge = await bridgeFromEnv(io.env, flags.profile);
  const event = await readEvent(io, flags.event);
  // Ctrl-C mid-run: exit through process.exit, so the exit hooks kill the sandbox's
  // processes (frozen ones would outlive us) and remove the work dir with its key.
  const interrupted = (signal: NodeJS.Signals) => {
    io.stderr.write(`demo: ${signal}, stopping the sandbox\n`);
    process.exit(130);
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  const run: DemoRun = {
    bridge,
    event,
    log: createDevLog(io.stderr),
    ...(flags.layer !== undefined && { layer: flags.layer }),
    ...(flags.function !== undefined && { function: flags.function }),
    ...(flags.keep && { keep: true }),
    ...(!flags.quiet && { output: io.stderr }),
  };
  try {
    if (flags.inProcess) {
      const both = await demoBothModes(run);
      if (flags.json) writeJson(io.stdout, both);
      else io.stdout.write(formatDemoComparison(both.extension, both.inProcess));
      return;
    }
    const report = await demoOnce(run);
    if (flags.json) writeJson(io.stdout, report);
    else io.stdout.write(formatDemoReport(report));
  } finally {
    process.off("SIGINT", interrupted);
    process.off("SIGTERM", interrupted);
  }
}

export function attach(program: Command, io: CliIo): Command {
  const command = program
    .command("demo")
    .summary("run a sample function with the layer against the bridge, and check its SVIDs")
    .description(
      "Builds the layer and a sample Node.js function (examples/demo-function), starts them the way " +
        "Lambda does (the extension and the function as their own processes, the function through the " +
        "layer's exec wrapper, with your AWS credentials as the function's role), invokes the function " +
        "once, and checks the SVIDs it read from the outside: the JWT-SVID through OIDC discovery, the " +
        "X.509-SVID against the SPIFFE bundle. Reads the bridge from the variables `svid-bridge dev` prints.",
    )
    .option(
      "--event <file>",
      `the invoke's event, JSON ('-' for stdin; default ${JSON.stringify(DEFAULT_DEMO_EVENT)})`,
    )
    .option(
      "--layer <dir>",
      "a built layer tree (npm run build:layer writes dist/layer; default: build one now)",
    )
    .option("--function <file>", "your own handler module (exports `handler`; TypeScript or JavaScript)")
    .option("--keep", "keep the builds and the function's SVID files (printed path)")
    .option(
      "--in-process",
      "then run the same function in process, with no layer, and show both modes' memory and init side by side",
    )
    .option("--profile <name>", "AWS profile for the function's role (default: the SDK's chain)")
    .option("--quiet", "leave out the extension's and the function's own log lines")
    .option("--json", "print the report (the function's answer and the checks) as JSON");
  command.addHelpText(
    "after",
    `
Examples:
  $ source .svid-bridge/env && npx svid-bridge demo
  $ npx svid-bridge demo --event events/demo-function.json --json
  $ npm run build:layer && npx svid-bridge demo --layer dist/layer
  $ npx svid-bridge demo --in-process`,
  );
  command.action((flags: DemoFlags) => demoCommand(io, flags));
  return command;
}
