/**
 * `svid-bridge demo` (and `dev --with-function`): a sample function with the built layer,
 * run the way Lambda runs it, against a bridge, and what it got checked from outside.
 *
 *   1. build the layer tree (or take a built one) and bundle the function with esbuild,
 *      as a deploy would;
 *   2. start a sandbox (lib/local/lambda-sandbox.ts): the layer's extension as its
 *      own process with Lambda's environment and the caller's credentials as the
 *      function's role, the function as its own process through the layer's
 *      AWS_LAMBDA_EXEC_WRAPPER; init proves the role to the bridge and fetches SVIDs;
 *   3. invoke the function once with the event; it reads its SVIDs from the extension
 *      (local API, files, and the SPIFFE Workload API socket);
 *   4. check what it returned as a relying party would, from the bridge's public
 *      documents only: the JWT-SVID through OIDC discovery, the X.509 chain against the
 *      SPIFFE bundle endpoint;
 *   5. SHUTDOWN, as Lambda ends a sandbox; the extension must exit within its 2 s.
 *
 * In `in-process` mode the same function runs with no layer at all (an empty layer tree,
 * no exec wrapper): its own process proves the role and calls the exchange during init.
 *
 * Not core code: it is dev tooling beside dev-stack.ts and uses the same stand-ins.
 */
import { copyFileSync, readFileSync, rmSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { buildLayerTree } from "../../scripts/build-layer.js";
import { verifyJwtSvidThroughDiscovery, verifyX509SvidThroughBundle } from "../discovery/relying-party.js";
import { BridgeError } from "../errors.js";
import {
  freePort,
  type InitResult,
  type InvokeOutcome,
  LambdaSandbox,
  type ShutdownResult,
} from "../local/lambda-sandbox.js";
import type { DevPrincipal } from "../local/sts-server.js";
import { TrustDomain } from "../spiffe/spiffe-id.js";
import type { DevLog } from "./dev-log.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** Sources beside sources, compiled JavaScript beside compiled (dist/, an installed package). */
const EXT = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
export const DEMO_FUNCTION_ENTRY = join(ROOT, "examples", "demo-function", `index${EXT}`);
export const DEMO_FUNCTION_NAME = "svid-bridge-demo";

/** The bridge the demo's function talks to: what `svid-bridge dev` prints. */
export interface DemoBridge {
  url: string;
  serverId: string;
  issuer: string;
  trustDomain: string;
  region: string;
  /** The function's role: Lambda puts a role session's credentials in its environment. */
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
}

export type DemoMode = "extension" | "in-process";

export interface DemoOptions {
  bridge: DemoBridge;
  /** With the layer (default), or in process with no layer. */
  mode?: DemoMode;
  /** The invoke's payload; the sample function reads `audience` from it. */
  event: unknown;
  /** Builds go here (layer/, function/, files/); removed afterwards unless `keep`. */
  workDir: string;
  keep?: boolean;
  /** A built layer tree (`npm run build:layer` writes dist/layer); default: build one now. */
  layerDir?: string;
  /** A module exporting `handler` (TypeScript or JavaScript); default: the sample function. */
  functionEntry?: string;
  log: DevLog;
  /** The extension's and the function's own output, as it comes. */
  onOutput?: (source: "extension" | "function", text: string) => void;
}

export interface DemoChecks {
  jwt: { spiffeId: string; audience: string; kid: string; alg: string; expiresAt: string };
  x509: { spiffeId: string; notAfter: string; path: string[] };
  /** The X.509-SVID the function read through the Workload API socket: the same one. */
  workloadApi?: { socket: string; spiffeId: string; sameCertificate: boolean };
}

export interface DemoReport {
  mode: DemoMode;
  init: Extract<InitResult, { ok: true }>;
  /** Resident memory in MiB after the invoke: the function's process, and the extension's (0 in process). */
  memory: { functionMiB: number; extensionMiB: number };
  /** What the function answered (its JSON result). */
  result: Record<string, unknown>;
  checks: DemoChecks;
  shutdown: ShutdownResult;
}

/** The JWT audience the function asks for; the extension is told to fetch it at init. */
function audienceOf(event: unknown): string {
  const audience = (event as { audience?: unknown } | null)?.audience;
  return typeof audience === "string" && audience ? audience : "demo";
}

async function bundleFunction(entry: string, outDir: string): Promise<void> {
  await build({
    entryPoints: [entry],
    outfile: join(outDir, "index.mjs"),
    bundle: true,
    platform: "node",
    target: "node22",
    format: "esm",
    // CommonJS dependencies (the sample's @grpc/grpc-js) call require() on node builtins.
    banner: {
      js: 'import { createRequire } from "node:module"; const require = createRequire(import.meta.url);',
    },
    logLevel: "error",
  });
}

export async function runDemo(options: DemoOptions): Promise<DemoReport> {
  const { bridge, log } = options;
  const trustDomain = TrustDomain.parse(bridge.trustDomain);
  const audience = audienceOf(options.event);
  await mkdir(options.workDir, { recursive: true });
  // The work dir holds the SVID's private key (files mode): gone even if this process is
  // made to exit mid-run (the sandbox kills its own children the same way).
  const removeWorkDir = () => rmSync(options.workDir, { recursive: true, force: true });
  if (!options.keep) process.on("exit", removeWorkDir);
  let sandbox: LambdaSandbox | undefined;
  try {
    const mode = options.mode ?? "extension";
    const { layerDir, taskRoot } = await buildCode(options, mode);
    sandbox = await startSandbox(options, mode, audience, layerDir, taskRoot);
    const init = initialised(sandbox, mode, log);
    const result = await invokeOnce(sandbox, options.event, log);
    const checks = await checkFromOutside(result, bridge, audience, trustDomain);
    const workloadApi = checkWorkloadApi(result, checks);
    if (workloadApi) checks.workloadApi = workloadApi;
    log.info("demo: JWT-SVID and X.509-SVID verified from the bridge's public documents", {
      spiffeId: checks.x509.spiffeId,
    });
    const memory = {
      functionMiB: mib(Number(result.rssBytes)),
      extensionMiB: sandbox.extensions[0] ? mib(residentBytes(sandbox.extensions[0].child.pid!)) : 0,
    };
    const shutdown = await sandbox.shutdown();
    log.info("demo: sandbox shut down", { ms: shutdown.ms, extensionExit: shutdown.code });
    return { mode, init, memory, result, checks, shutdown };
  } finally {
    await sandbox?.close();
    if (!options.keep) {
      process.off("exit", removeWorkDir);
      await rm(options.workDir, { recursive: true, force: true });
    }
  }
}

/** Step 1: the layer tree (none in process) and the function's bundle, as a deploy makes them. */
async function buildCode(
  options: DemoOptions,
  mode: DemoMode,
): Promise<{ layerDir: string; taskRoot: string }> {
  const started = Date.now();
  const layerDir =
    mode === "in-process"
      ? await emptyLayerTree(options.workDir)
      : (options.layerDir ?? (await buildLayerTree(options.workDir)).dir);
  const taskRoot = join(options.workDir, "function");
  await bundleFunction(options.functionEntry ?? DEMO_FUNCTION_ENTRY, taskRoot);
  // The sample function's Workload API client loads the proto at run time (the layer's
  // wrapper exports SPIFFE_ENDPOINT_SOCKET; in process there is no layer and no socket).
  if (mode === "extension")
    copyFileSync(join(layerDir, "svid-bridge", "workload.proto"), join(taskRoot, "workload.proto"));
  options.log.info("demo: layer and function built", { ms: Date.now() - started, layer: layerDir });
  return { layerDir, taskRoot };
}

/** Step 2: the sandbox, its init run (the extension, or the function itself, fetches SVIDs). */
async function startSandbox(
  options: DemoOptions,
  mode: DemoMode,
  audience: string,
  layerDir: string,
  taskRoot: string,
): Promise<LambdaSandbox> {
  // The sandbox needs only the credentials to put in Lambda's environment; who they
  // belong to is for the bridge's STS to say.
  const principal: DevPrincipal = { ...options.bridge.credentials, arn: "", userId: "" };
  return LambdaSandbox.start({
    layerDir,
    principal,
    functionName: DEMO_FUNCTION_NAME,
    runtime: { taskRoot, handler: "index.handler" },
    env: sandboxEnv(mode, options.bridge, audience, layerDir, options.workDir, await freePort()),
    ...(options.onOutput && { onOutput: options.onOutput }),
  });
}

/** The init's outcome: `function_init_failed` unless it succeeded. */
function initialised(sandbox: LambdaSandbox, mode: DemoMode, log: DevLog): Extract<InitResult, { ok: true }> {
  const init = sandbox.initResult!;
  if (!init.ok)
    throw new BridgeError(
      "function_init_failed",
      `the sandbox did not start (${init.errorType}): ${initMessage(init.message)}`,
    );
  log.info(
    `demo: sandbox initialised (${mode === "in-process" ? "the function" : "extension ready,"} SVIDs fetched)`,
    { ms: init.ms },
  );
  return init;
}

/** Step 3: one invoke with the event; `function_failed` unless the function answered. */
async function invokeOnce(
  sandbox: LambdaSandbox,
  event: unknown,
  log: DevLog,
): Promise<Record<string, unknown>> {
  const outcome: InvokeOutcome = await sandbox.invokeEvent(event, 10_000);
  if (!outcome.ok)
    throw new BridgeError(
      "function_failed",
      `the function failed: ${outcome.errorType}: ${outcome.errorMessage}`,
    );
  const result = outcome.result as Record<string, unknown>;
  log.info("demo: function invoked", { spiffeId: result.spiffeId });
  return result;
}

/**
 * The X.509-SVID the function read through the Workload API socket, when it did: it must be
 * the one the local API served (`function_failed` otherwise).
 */
function checkWorkloadApi(result: Record<string, unknown>, checks: DemoChecks): DemoChecks["workloadApi"] {
  const viaSocket = result.workloadApi as
    | { socket: string; spiffeId: string; serialNumber: string }
    | undefined;
  if (!viaSocket) return undefined;
  const serial = (result.x509Svid as { serialNumber?: unknown }).serialNumber;
  const workloadApi = {
    socket: viaSocket.socket,
    spiffeId: viaSocket.spiffeId,
    sameCertificate: viaSocket.serialNumber === serial && viaSocket.spiffeId === checks.x509.spiffeId,
  };
  if (!workloadApi.sameCertificate)
    throw new BridgeError("function_failed", "the Workload API served another X.509-SVID than the local API");
  return workloadApi;
}

/** What a relying party does with what the function returned: the bridge's public documents only. */
async function checkFromOutside(
  result: Record<string, unknown>,
  bridge: DemoBridge,
  audience: string,
  trustDomain: TrustDomain,
): Promise<DemoChecks> {
  const jwtToken = (result.jwtSvid as { token?: unknown } | undefined)?.token;
  const chain = (result.x509Svid as { certificateChain?: unknown } | undefined)?.certificateChain;
  if (typeof jwtToken !== "string" || typeof chain !== "string")
    throw new BridgeError(
      "function_failed",
      "the function's answer has no jwtSvid.token or x509Svid.certificateChain",
    );
  const jwt = await verifyJwtSvidThroughDiscovery(jwtToken, {
    issuer: bridge.issuer,
    audience,
    trustDomain,
  });
  const x509 = await verifyX509SvidThroughBundle(chain, { issuer: bridge.issuer, trustDomain });
  return {
    jwt: {
      spiffeId: jwt.spiffeId.toString(),
      audience,
      kid: jwt.kid,
      alg: jwt.alg,
      expiresAt: new Date((jwt.claims.exp ?? 0) * 1000).toISOString(),
    },
    x509: {
      spiffeId: x509.spiffeId.toString(),
      notAfter: x509.path[0]!.notAfter.toISOString(),
      path: x509.path.map((c) => c.subject || "(empty subject)"),
    },
  };
}

/** What Lambda's environment adds for the function (and, with the layer, its extension). */
function sandboxEnv(
  mode: DemoMode,
  bridge: DemoBridge,
  audience: string,
  layerDir: string,
  workDir: string,
  httpPort: number,
): Record<string, string> {
  const common = {
    AWS_REGION: bridge.region,
    AWS_DEFAULT_REGION: bridge.region,
    SVID_BRIDGE_URL: bridge.url,
    SVID_BRIDGE_SERVER_ID: bridge.serverId,
    SVID_BRIDGE_JWT_AUDIENCES: audience,
  };
  if (mode === "in-process") return common;
  return {
    ...common,
    AWS_LAMBDA_EXEC_WRAPPER: join(layerDir, "svid-bridge", "svid-bridge-wrapper"),
    SVID_BRIDGE_HTTP_PORT: String(httpPort),
    SVID_BRIDGE_FILES_DIR: join(workDir, "files"),
    // No retries to wait out: a refusal is the demo's answer.
    SVID_BRIDGE_INIT_TIMEOUT_MS: "3000",
  };
}

/** No layer: a layer tree with no extensions in it, as a function without layers has. */
async function emptyLayerTree(workDir: string): Promise<string> {
  const dir = join(workDir, "no-layer");
  await mkdir(join(dir, "extensions"), { recursive: true });
  return dir;
}

function residentBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith("VmRSS:"));
  return Number(/(\d+)/.exec(line ?? "")?.[1] ?? Number.NaN) * 1024;
}

const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

/** The extension's init error body is Lambda's `{errorMessage, errorType}` JSON; show the message. */
function initMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === "string") return parsed.errorMessage;
  } catch {
    // not JSON: show it as it came
  }
  return body;
}
