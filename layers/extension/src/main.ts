/**
 * The svid-bridge extension's lifecycle, and only that: read config, start fetching
 * SVIDs, open the local API and the Workload API socket, register, wait for the SVIDs
 * within the init budget, then hand over to the Lambda driver (refresh on INVOKE, clean
 * up on SHUTDOWN). Every job
 * lives in its own module; the SVID manager is the core the agent shares.
 */
import { systemClock } from "../../../lib/clock.js";
import { BridgeError } from "../../../lib/errors.js";
import { type ExtensionConfig, readConfig } from "./config.js";
import { credentialProvider } from "./credentials.js";
import { HttpExchangeClient } from "./exchange-client.js";
import { ExtensionsApiClient } from "./extensions-api.js";
import { FilesWriter } from "./files-writer.js";
import { initWithRetry } from "./init-retry.js";
import { driveLambda } from "./lambda-driver.js";
import { createLocalApi, listen } from "./local-api/server.js";
import { errorFields, jsonLogger as log } from "./log.js";
import { stsProofBuilder } from "./proof-builder.js";
import { SvidManager } from "./svid-manager.js";
import { WorkloadApiSocket } from "./workload-api/socket-server.js";

const started = Date.now();

/**
 * The longest the local work waits for init's request to go out. Connecting takes a few ms
 * (in AWS: DNS, TCP and TLS, ~5-30 ms); past this the exchange is slow to reach, and the
 * listeners and register go ahead so that a degraded start is not delayed by it.
 */
const LOCAL_WORK_WAITS_AT_MOST_MS = 200;

/**
 * `sent` resolves once `signal` is called (init's first exchange request has been handed to
 * the OS, or its first attempt ended) or after `capMs`. The local work waits for it: it is
 * synchronous work in this one thread, and run before the socket connects it delays the
 * very request it should overlap (~10 ms of a ~100 ms cold start: bench/cold-start.bench.ts).
 */
function firstRequestOut(capMs: number): { sent: Promise<void>; signal: () => void } {
  let resolve!: () => void;
  const sent = new Promise<void>((r) => {
    resolve = r;
  });
  const timer = setTimeout(resolve, capMs);
  return {
    sent,
    signal: () => {
      clearTimeout(timer);
      resolve();
    },
  };
}

async function main(): Promise<void> {
  const runtimeApi = process.env.AWS_LAMBDA_RUNTIME_API;
  if (!runtimeApi) {
    log.log("error", "AWS_LAMBDA_RUNTIME_API is not set: not running in Lambda");
    process.exit(1);
  }
  const api = new ExtensionsApiClient(runtimeApi);
  const config = await configOrExit(api);
  const out = firstRequestOut(LOCAL_WORK_WAITS_AT_MOST_MS);
  const { manager, files } = createManager(config, out.signal);

  // Init's exchange call starts first: its round trips (proof, STS, KMS) overlap opening
  // the listeners and registering, which are local work (the cold-start tax, issue 16).
  // It never rejects: true, or the last error once the init budget is spent.
  const init = initWithRetry(
    () => manager.initialize().finally(out.signal),
    started + config.initTimeoutMs,
    log,
  );
  await out.sent;

  // The listener opens before register, so it is up before the function's init runs.
  const server = createLocalApi({ manager, apiToken: config.apiToken, issuer: config.issuer });
  await listen(server, config.httpPort);
  const socket = await socketOrExit(config, manager, api);
  await api.register();
  await readyOrExit(await init, config, api);

  await driveLambda({
    next: () => api.next(),
    manager,
    logger: log,
    shutdown: async () => {
      // Streams end first (status OK), then the sockets close, then the key files go.
      manager.close();
      server.closeAllConnections();
      await Promise.all([new Promise<void>((resolve) => server.close(() => resolve())), socket?.close(500)]);
      await files.remove().catch((e) => log.log("warn", "removing files failed", errorFields(e)));
    },
  });
  process.exit(0);
}

/** The config; a bad one is reported as init/error (after register: it needs an extension id). */
async function configOrExit(api: ExtensionsApiClient): Promise<ExtensionConfig> {
  try {
    return readConfig();
  } catch (error) {
    await api.register();
    await api.initError("Extension.ConfigInvalid", (error as Error).message);
    process.exit(1);
  }
}

/** The SVID manager, proving the function's role, with the files writer listening. */
function createManager(
  config: ExtensionConfig,
  onRequestWritten: () => void,
): { manager: SvidManager; files: FilesWriter } {
  const credentials = credentialProvider(config.credentials, systemClock);
  const proofs = stsProofBuilder({ credentials, region: config.region, serverId: config.serverId });
  const files = new FilesWriter({
    ...(config.filesDir && { dir: config.filesDir }),
    tokenFiles: config.tokenFiles,
  });
  const manager = new SvidManager({
    exchange: new HttpExchangeClient({ baseUrl: config.bridgeUrl, proofs, onRequestWritten }),
    jwtAudiences: [...new Set([...config.jwtAudiences, ...config.tokenFiles.map((f) => f.audience)])],
    ...(config.spiffeId && { spiffeId: config.spiffeId }),
    x509: config.x509,
    snapStart: config.snapStart,
    clockJumpMs: config.clockJumpMs,
    listener: files,
    logger: log,
  });
  return { manager, files };
}

/** The Workload API socket when configured; one that cannot open is an init/error. */
async function socketOrExit(
  config: ExtensionConfig,
  manager: SvidManager,
  api: ExtensionsApiClient,
): Promise<WorkloadApiSocket | undefined> {
  try {
    if (config.workloadSocket)
      return await WorkloadApiSocket.listen({ path: config.workloadSocket, manager, logger: log });
    return undefined;
  } catch (error) {
    await api.register();
    await api.initError("Extension.ConfigInvalid", `Workload API socket: ${(error as Error).message}`);
    process.exit(1);
  }
}

/** Init's outcome: ready, or (no SVIDs) an init/error under `fail`, else a degraded start. */
async function readyOrExit(
  ready: true | unknown,
  config: ExtensionConfig,
  api: ExtensionsApiClient,
): Promise<void> {
  if (ready === true) {
    log.log("info", "ready", { ms: Date.now() - started, port: config.httpPort });
    return;
  }
  const message = `no SVIDs at init: ${(ready as Error).message}`;
  if (config.initFailure === "fail") {
    log.log("error", message, errorFields(ready));
    await api.initError(
      ready instanceof BridgeError && ready.code === "exchange_rejected"
        ? "Extension.ExchangeRejected"
        : "Extension.ExchangeUnavailable",
      message,
    );
    process.exit(1);
  }
  log.log("warn", `${message}; starting degraded (503 not_ready until the exchange answers)`);
}

main().catch((error) => {
  log.log("error", "the extension failed", errorFields(error));
  process.exit(1);
});
