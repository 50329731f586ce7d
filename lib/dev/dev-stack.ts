/**
 * The whole bridge on one machine, on real protocols, for `svid-bridge dev` and the
 * end-to-end tests. Not core code: like the CLI it sits outside lib/'s core and wires
 * the same pieces the Lambdas wire, with the local stand-ins of test/support/:
 *
 *   DynamoDB      dynalite (in memory, or on disk under --data-dir)
 *   STS           LocalSts: checks real SigV4 against the dev principal's secret
 *   keys, CA      DevKeyManager (in memory; PKCS#8 files under --data-dir), LocalCaRenewer
 *   exchange      lambdas/exchange composeExchange + createExchangeHandler, StsCallerVerifier
 *   discovery     lambdas/discovery createDiscoveryHandler + createDiscoveryEndpoint
 *   rotation      lambdas/rotation createRotationHandler, on a timer
 *
 * One loopback port serves everything, as payload-v2 Function URL events: `/v1/*` to the
 * exchange, `/_dev/*` to the dev admin API (bearer token), the rest to discovery (the
 * issuer is http://127.0.0.1:PORT, so discovery lives at its root).
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CreateTableCommand, type DynamoDBClient, ResourceInUseException } from "@aws-sdk/client-dynamodb";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { createDiscoveryHandler } from "../../lambdas/discovery/app.js";
import { auditIssued, createExchangeHandler } from "../../lambdas/exchange/app.js";
import { composeExchange } from "../../lambdas/exchange/compose.js";
import { createRotationHandler } from "../../lambdas/rotation/app.js";
import { DynamoDbKeySetStore, keySetTableDefinition } from "../aws/dynamodb-key-set-store.js";
import {
  DynamoDbRegistrationStore,
  registrationTableDefinition,
} from "../aws/dynamodb-registration-store.js";
import { DynamoDbReplayCache, replayCacheTableDefinition } from "../aws/dynamodb-replay-cache.js";
import { systemClock } from "../clock.js";
import { createDiscoveryEndpoint } from "../discovery/discovery-endpoint.js";
import { BridgeError } from "../errors.js";
import { errorToResponse } from "../http/responses.js";
import { type RunningDynamoDb, startDynalite } from "../local/dynamodb-server.js";
import { type RunningFunctionUrl, startFunctionUrlServer } from "../local/function-url-server.js";
import { localLambdaContext } from "../local/lambda-context.js";
import { LocalCaRenewer } from "../local/local-ca-renewer.js";
import { type DevPrincipal, LocalSts, makeDevRolePrincipal } from "../local/sts-server.js";
import { StsCallerVerifier } from "../proof/sts-caller-verifier.js";
import { rotateNow } from "../rotation/operations.js";
import type { RotationResult } from "../rotation/rotate-keys.js";
import { type RotationConfig, resolveRotationConfig } from "../rotation/rotation-config.js";
import { TrustDomain } from "../spiffe/spiffe-id.js";
import { parseCertificatesPem } from "../spiffe/x509-svid.js";
import { lockDataDir } from "./data-dir-lock.js";
import { DEMO_ENTRY_ID, DEV_LAMBDAS, DEV_ROLE, DEV_TABLES, type DevLambda } from "./dev-defaults.js";
import { DevKeyManager } from "./dev-key-manager.js";
import type { DevLog } from "./dev-log.js";
import { startRotationTimer } from "./rotation-timer.js";

export { DEMO_ENTRY_ID, DEV_LAMBDAS, DEV_ROLE, DEV_TABLES, type DevLambda };

export interface DevStackOptions {
  /** Loopback port for everything; 0 picks a free one. */
  port: number;
  trustDomain: string;
  region: string;
  /** Keep DynamoDB, keys, the root CA and the dev credentials here between runs. */
  dataDir?: string;
  /** Create the demo registration for the dev principal (if it is not there). Default true. */
  seed?: boolean;
  /** How often the rotation runs. Default 60 s. */
  rotationIntervalSeconds?: number;
  /** How long a JWT key signs. Default 24 h; the publication lead is a quarter of it, at most 1 h. */
  rotationPeriodSeconds?: number;
  /** More principals LocalSts knows (tests: callers that prove who they are but are not registered). */
  extraPrincipals?: readonly DevPrincipal[];
  log: DevLog;
}

export interface DevStack {
  url: string;
  issuer: string;
  serverId: string;
  trustDomain: string;
  region: string;
  principal: DevPrincipal;
  dynamodbEndpoint: string;
  adminToken: string;
  /** What `svid-bridge dev` prints: the variables the client commands and the registration CLI read. */
  env: Readonly<Record<string, string>>;
  rotateNow(): Promise<RotationResult>;
  /** Runs one of the stack's Lambda handlers in process on an event (`svid-bridge invoke`). */
  invoke(lambda: DevLambda, event: unknown): Promise<unknown>;
  stop(): Promise<void>;
}

async function createTables(client: DynamoDBClient): Promise<void> {
  for (const def of [
    registrationTableDefinition(DEV_TABLES.registrations),
    keySetTableDefinition(DEV_TABLES.keySet),
    replayCacheTableDefinition(DEV_TABLES.replay),
  ]) {
    try {
      await client.send(new CreateTableCommand(def));
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
  }
}

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/** The dev principal; with a data dir, the same one every run (its credentials are dev-only secrets). */
async function devPrincipal(dataDir: string | undefined): Promise<DevPrincipal> {
  if (dataDir === undefined) return makeDevRolePrincipal(DEV_ROLE);
  const path = join(dataDir, "dev-principal.json");
  const saved = await readJson<DevPrincipal>(path);
  if (saved) return saved;
  const principal = makeDevRolePrincipal(DEV_ROLE);
  await writeFile(path, JSON.stringify(principal, null, 2), { mode: 0o600, flag: "wx" });
  return principal;
}

/** The local root CA; with a data dir, the same root (certificate + key file) every run. */
async function localCa(
  keys: DevKeyManager,
  trustDomain: TrustDomain,
  dataDir: string | undefined,
): Promise<LocalCaRenewer> {
  const options = { trustDomain, keys, clock: systemClock };
  if (dataDir === undefined) return LocalCaRenewer.create(options);
  const path = join(dataDir, "root-ca.json");
  const saved = await readJson<{ trustDomain: string; rootKeyId: string; certificatePem: string }>(path);
  if (saved) {
    if (saved.trustDomain !== trustDomain.name)
      throw new BridgeError(
        "config_invalid",
        `--data-dir holds the trust domain ${saved.trustDomain}, not ${trustDomain.name}: use another directory`,
      );
    const [root] = parseCertificatesPem(saved.certificatePem, "config_invalid"); // strict PEM reader
    if (!root) throw new BridgeError("config_invalid", `${path} holds no root certificate`);
    return LocalCaRenewer.restore(root, saved.rootKeyId, options);
  }
  const renewer = await LocalCaRenewer.create(options);
  await writeFile(
    path,
    JSON.stringify({
      trustDomain: trustDomain.name,
      rootKeyId: renewer.rootKeyId,
      certificatePem: renewer.root.toString("pem"),
    }),
    { flag: "wx" },
  );
  return renewer;
}

function devRotationConfig(periodSeconds = 86_400): Readonly<RotationConfig> {
  return resolveRotationConfig({
    rotationPeriodSeconds: periodSeconds,
    publicationLeadSeconds: Math.min(3600, Math.floor(periodSeconds / 4)),
  });
}

/** Each handler call gets its own request ID; dev gives every call a minute. */
function lambdaContext(functionName: string): Context {
  return localLambdaContext(functionName, randomBytes(16).toString("hex"), () => 60_000);
}

function json(statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { "content-type": "application/json", "cache-control": "no-store" },
    body: JSON.stringify(body),
  };
}

type Closers = Array<() => Promise<void> | void>;
type UrlHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

const notReady: UrlHandler = async () =>
  errorToResponse(new BridgeError("not_ready", "the dev bridge is starting"));

/**
 * The public port, opened first: a port in use is the likeliest failure and the cheapest to
 * report. Every request goes to `route.handler`, which answers 503 until the stack is up.
 */
async function openPort(port: number, route: { handler: UrlHandler }): Promise<RunningFunctionUrl> {
  try {
    return await startFunctionUrlServer((event) => route.handler(event), {
      port,
      functionName: "svid-bridge-dev",
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE")
      throw new BridgeError(
        "config_invalid",
        `port ${port} on 127.0.0.1 is in use: pass --port <n> to use another`,
      );
    throw error;
  }
}

/** What the Lambdas talk to: DynamoDB (dynalite, with the tables), STS, the keys and the CA. */
interface DevBackends {
  db: RunningDynamoDb;
  principal: DevPrincipal;
  sts: LocalSts;
  keys: DevKeyManager;
  caRenewer: LocalCaRenewer;
  keySetStore: DynamoDbKeySetStore;
  registrations: DynamoDbRegistrationStore;
}

async function startBackends(
  options: DevStackOptions,
  trustDomain: TrustDomain,
  closers: Closers,
): Promise<DevBackends> {
  const { dataDir } = options;
  const db: RunningDynamoDb = await startDynalite(
    dataDir !== undefined ? { path: join(dataDir, "dynamodb") } : {},
  );
  closers.push(() => db.stop());
  await createTables(db.client);
  const principal = await devPrincipal(dataDir);
  const sts = new LocalSts({ principals: [principal, ...(options.extraPrincipals ?? [])] });
  await sts.start();
  closers.push(() => sts.stop());
  const keys = await DevKeyManager.open(dataDir !== undefined ? join(dataDir, "keys") : undefined);
  const caRenewer = await localCa(keys, trustDomain, dataDir);
  const keySetStore = new DynamoDbKeySetStore({ client: db.client, tableName: DEV_TABLES.keySet });
  const registrations = new DynamoDbRegistrationStore({
    client: db.client,
    tableName: DEV_TABLES.registrations,
  });
  return { db, principal, sts, keys, caRenewer, keySetStore, registrations };
}

/** The rotation Lambda: run once now (so there are keys to sign with), then on a timer. */
async function startRotation(
  backends: DevBackends,
  config: Readonly<RotationConfig>,
  options: DevStackOptions,
  closers: Closers,
) {
  const rotation = createRotationHandler({
    store: backends.keySetStore,
    keys: backends.keys,
    clock: systemClock,
    config,
    caRenewer: backends.caRenewer,
    logger: options.log,
  });
  const rotate = () => rotation({}, lambdaContext("svid-bridge-dev-rotation"));
  await rotate();
  const interval = (options.rotationIntervalSeconds ?? 60) * 1000;
  const timer = startRotationTimer(rotate, interval);
  closers.push(() => timer.stop());
  return rotation;
}

/** The exchange Lambda, its verifier dialling the local STS. */
function startExchange(
  backends: DevBackends,
  trustDomain: TrustDomain,
  issuer: string,
  options: DevStackOptions,
  closers: Closers,
) {
  const verifier = new StsCallerVerifier({
    serverIdValue: issuer,
    regions: [options.region],
    replayCache: new DynamoDbReplayCache({ client: backends.db.client, tableName: DEV_TABLES.replay }),
    // The proof names the real STS host (that is what the client signed); dev dials LocalSts.
    endpointFor: () => backends.sts.endpoint,
  });
  closers.push(() => verifier.close());
  const composed = composeExchange({
    trustDomain,
    issuer,
    verifier,
    // No registration cache in dev: `svid-bridge register` takes effect at once.
    registrations: backends.registrations,
    keySetStore: backends.keySetStore,
    keys: backends.keys,
    clock: systemClock,
    keySetCacheSeconds: 5,
    onIssued: (event) => auditIssued(options.log, event),
  });
  return createExchangeHandler({ ...composed, logger: options.log });
}

/** The discovery Lambda, serving an http loopback issuer with short caches. */
function discoveryLambda(
  keySetStore: DynamoDbKeySetStore,
  trustDomain: TrustDomain,
  issuer: string,
  log: DevLog,
) {
  return createDiscoveryHandler({
    endpoint: createDiscoveryEndpoint({
      issuer,
      trustDomain,
      store: keySetStore,
      clock: systemClock,
      allowHttpLoopback: true,
      cacheMaxAgeSeconds: 5,
      keySetCacheSeconds: 0,
    }),
    logger: log,
  });
}

/** The demo registration for the dev principal, unless there is one. */
async function seedDemoEntry(
  registrations: DynamoDbRegistrationStore,
  trustDomain: TrustDomain,
  log: DevLog,
): Promise<void> {
  if (await registrations.get(DEMO_ENTRY_ID)) return;
  await registrations.create({
    id: DEMO_ENTRY_ID,
    selectors: { account: DEV_ROLE.account, roleName: DEV_ROLE.roleName },
    spiffeId: `spiffe://${trustDomain.name}/aws/{account}/{role}`,
    kinds: ["jwt", "x509"],
    enabled: true,
    description: "svid-bridge dev: the demo registration for the dev principal",
  });
  log.info("seeded registration", { id: DEMO_ENTRY_ID, role: DEV_ROLE.roleName });
}

/** A rotation now, whatever the timer's schedule (`/_dev/rotate`, DevStack.rotateNow). */
function rotationForcer(
  backends: DevBackends,
  config: Readonly<RotationConfig>,
  log: DevLog,
): () => Promise<RotationResult> {
  return async () => {
    const { keySetStore: store, keys, caRenewer } = backends;
    const result = await rotateNow({ store, keys, clock: systemClock, config, caRenewer });
    log.info("rotation forced", { actions: result.actions });
    return result;
  };
}

/** `/_dev/*`: POST /_dev/rotate forces a rotation; every route needs the bearer token. */
function adminApi(adminToken: string, forceRotation: () => Promise<RotationResult>): UrlHandler {
  return async (event) => {
    const given = Buffer.from(event.headers.authorization ?? "");
    const wanted = Buffer.from(`Bearer ${adminToken}`);
    if (given.length !== wanted.length || !timingSafeEqual(given, wanted))
      return errorToResponse(
        new BridgeError("unauthorized", "the dev admin API needs SVID_BRIDGE_DEV_TOKEN"),
      );
    if (event.rawPath === "/_dev/rotate" && event.requestContext.http.method === "POST")
      return json(200, await forceRotation());
    return errorToResponse(new BridgeError("not_found", `no route ${event.rawPath}`));
  };
}

/** What `svid-bridge dev` prints: the variables the client commands and the registration CLI read. */
function devEnv(
  principal: DevPrincipal,
  region: string,
  issuer: string,
  trustDomain: TrustDomain,
  dynamodbEndpoint: string,
  adminToken: string,
): Readonly<Record<string, string>> {
  return Object.freeze({
    AWS_ACCESS_KEY_ID: principal.accessKeyId,
    AWS_SECRET_ACCESS_KEY: principal.secretAccessKey,
    AWS_SESSION_TOKEN: principal.sessionToken ?? "",
    AWS_REGION: region,
    SVID_BRIDGE_URL: issuer,
    SVID_BRIDGE_ISSUER: issuer,
    SVID_BRIDGE_SERVER_ID: issuer,
    SVID_BRIDGE_TRUST_DOMAIN: trustDomain.name,
    SVID_BRIDGE_TABLE: DEV_TABLES.registrations,
    SVID_BRIDGE_KEY_SET_TABLE: DEV_TABLES.keySet,
    // The AWS SDK reads it: `svid-bridge register/list/keys` reach dynalite with no flag.
    AWS_ENDPOINT_URL_DYNAMODB: dynamodbEndpoint,
    SVID_BRIDGE_DEV_TOKEN: adminToken,
  });
}

export async function startDevStack(options: DevStackOptions): Promise<DevStack> {
  const { log } = options;
  const trustDomain = TrustDomain.parse(options.trustDomain);
  const dataDir = options.dataDir;
  if (dataDir !== undefined) await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const closers: Closers = [];
  const stop = async () => {
    for (const close of closers.reverse()) await close();
    closers.length = 0;
  };
  try {
    if (dataDir !== undefined) closers.push(await lockDataDir(dataDir));
    const route = { handler: notReady };
    const server = await openPort(options.port, route);
    closers.push(() => server.close());
    // The issuer is the URL: discovery lives at its root.
    const url = server.url;
    const issuer = url;
    const backends = await startBackends(options, trustDomain, closers);
    const rotationConfig = devRotationConfig(options.rotationPeriodSeconds);
    const rotation = await startRotation(backends, rotationConfig, options, closers);
    const exchange = startExchange(backends, trustDomain, issuer, options, closers);
    const discovery = discoveryLambda(backends.keySetStore, trustDomain, issuer, log);
    if (options.seed !== false) await seedDemoEntry(backends.registrations, trustDomain, log);

    const adminToken = randomBytes(24).toString("base64url");
    const forceRotation = rotationForcer(backends, rotationConfig, log);
    const admin = adminApi(adminToken, forceRotation);
    const exchangeContext = lambdaContext("svid-bridge-dev-exchange");
    const discoveryContext = lambdaContext("svid-bridge-dev-discovery");
    route.handler = async (event) => {
      if (event.rawPath.startsWith("/v1/")) return exchange(event, exchangeContext);
      if (event.rawPath.startsWith("/_dev/")) return admin(event);
      return discovery(event, discoveryContext);
    };
    const { principal, db } = backends;
    return {
      url,
      issuer,
      serverId: issuer,
      trustDomain: trustDomain.name,
      region: options.region,
      principal,
      dynamodbEndpoint: db.endpoint,
      adminToken,
      env: devEnv(principal, options.region, issuer, trustDomain, db.endpoint, adminToken),
      rotateNow: forceRotation,
      invoke: (lambda, event) =>
        lambda === "exchange"
          ? exchange(event as APIGatewayProxyEventV2, exchangeContext)
          : lambda === "discovery"
            ? discovery(event as APIGatewayProxyEventV2, discoveryContext)
            : rotation(event as Record<string, never>, lambdaContext("svid-bridge-dev-rotation")),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
