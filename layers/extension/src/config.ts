/**
 * The extension's configuration: read from the environment once, at process start,
 * validated, frozen. A refusal names the variable, so the init error a function owner
 * sees in CloudWatch says what to fix.
 */
import { isAbsolute } from "node:path";
import { BridgeError } from "../../../lib/errors.js";
import { audienceRule } from "../../../lib/spiffe/jwt-svid-limits.js";
import { SpiffeId } from "../../../lib/spiffe/spiffe-id.js";

/** Default port of the local API; Parameters and Secrets uses 2773, we take a neighbour. */
export const DEFAULT_HTTP_PORT = 2775;
/** Lambda gives every extension 10 s of init in all; leave room for the runtime's own. */
export const DEFAULT_INIT_TIMEOUT_MS = 8_000;
/** Where the Workload API listens; the exec wrapper exports it as SPIFFE_ENDPOINT_SOCKET. */
export const DEFAULT_WORKLOAD_SOCKET = "/tmp/svid-bridge/workload.sock";
/** A wall clock that moves this much more (or less) than the monotonic clock means a restore. */
export const DEFAULT_CLOCK_JUMP_SECONDS = 300;

export type InitFailureMode = "fail" | "degraded";

export interface AwsCredentialSource {
  /** Static keys from the environment (on-demand and provisioned sandboxes). */
  env?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** The container-credentials endpoint SnapStart sandboxes use. */
  container?: { fullUri: string; authorizationToken: string };
}

/** A web-identity token file and the audience of the JWT-SVID it holds. */
export interface TokenFile {
  readonly path: string;
  readonly audience: string;
}

/**
 * The token files the extension keeps, each with the audience its reader's relying party
 * expects: AWS STS `sts.amazonaws.com` (or the client ID registered on the IAM OIDC
 * provider), Microsoft Entra `api://AzureADTokenExchange`.
 */
export const TOKEN_FILES = [
  {
    file: "AWS_WEB_IDENTITY_TOKEN_FILE",
    audience: "SVID_BRIDGE_AWS_TOKEN_AUDIENCE",
    fallback: "sts.amazonaws.com",
  },
  {
    file: "AZURE_FEDERATED_TOKEN_FILE",
    audience: "SVID_BRIDGE_AZURE_TOKEN_AUDIENCE",
    fallback: "api://AzureADTokenExchange",
  },
] as const;

function tokenFilesOf(env: Env): TokenFile[] {
  if (env.SVID_BRIDGE_TOKEN_AUDIENCE?.trim())
    configInvalid(
      "SVID_BRIDGE_TOKEN_AUDIENCE",
      "is gone: each token file has its own audience, SVID_BRIDGE_AWS_TOKEN_AUDIENCE and SVID_BRIDGE_AZURE_TOKEN_AUDIENCE",
    );
  const files: TokenFile[] = [];
  for (const t of TOKEN_FILES) {
    const path = env[t.file]?.trim();
    if (!path) continue;
    if (!isAbsolute(path)) configInvalid(t.file, "must be an absolute path");
    const audience = env[t.audience]?.trim() || t.fallback;
    const broken = audienceRule(audience);
    if (broken) configInvalid(t.audience, `is not an audience: it ${broken}`);
    files.push({ path, audience });
  }
  return files;
}

export interface ExtensionConfig {
  /** Base URL of the bridge's exchange, no trailing slash. */
  readonly bridgeUrl: string;
  /** The value the proof's server-ID header carries: binds a proof to this bridge. */
  readonly serverId: string;
  /** `iss` of the bridge's JWT-SVIDs (SVID_BRIDGE_ISSUER; default SVID_BRIDGE_SERVER_ID, which is the issuer unless the deployment chose another server ID). */
  readonly issuer: string;
  readonly region: string;
  readonly functionName: string | undefined;
  readonly runtimeApi: string;
  readonly httpPort: number;
  /** JWT-SVIDs fetched at init and kept fresh. More are minted on demand. */
  readonly jwtAudiences: readonly string[];
  /** Asks for this SPIFFE ID when the caller's role has several registrations. */
  readonly spiffeId: string | undefined;
  readonly x509: boolean;
  /** Files mode when set: svid.pem, svid_key.pem, bundle.pem (and token files) here. */
  readonly filesDir: string | undefined;
  /** The Workload API's Unix socket; undefined when SVID_BRIDGE_WORKLOAD_SOCKET=off. */
  readonly workloadSocket: string | undefined;
  /** Token files to keep fresh, each with its own audience (see TOKEN_FILES). */
  readonly tokenFiles: readonly TokenFile[];
  readonly initFailure: InitFailureMode;
  readonly initTimeoutMs: number;
  readonly clockJumpMs: number;
  readonly snapStart: boolean;
  readonly credentials: AwsCredentialSource;
  /** What the SSRF guard expects in `X-Svid-Bridge-Token`. */
  readonly apiToken: string;
}

type Env = Record<string, string | undefined>;

// The helpers below are shared with the in-process client (layers/client/in-process/config.ts):
// the same variables, read by the same rules.
export function configInvalid(name: string, why: string): never {
  throw new BridgeError("config_invalid", `${name} ${why}`, { expose: true });
}

export function required(env: Env, name: string): string {
  const v = env[name]?.trim();
  if (!v) configInvalid(name, "must be set");
  return v;
}

export function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!/^\d+$/.test(raw)) configInvalid(name, `must be an integer, not ${JSON.stringify(raw)}`);
  const n = Number(raw);
  if (n < min || n > max) configInvalid(name, `must be between ${min} and ${max}, not ${n}`);
  return n;
}

export function oneOf<T extends string>(env: Env, name: string, values: readonly T[], fallback: T): T {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return fallback;
  if (!(values as readonly string[]).includes(raw))
    configInvalid(name, `must be one of ${values.join(", ")}, not ${JSON.stringify(raw)}`);
  return raw as T;
}

export function bridgeUrl(env: Env): string {
  const raw = required(env, "SVID_BRIDGE_URL");
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    configInvalid("SVID_BRIDGE_URL", `is not a URL: ${JSON.stringify(raw)}`);
  }
  const loopback = url.hostname === "127.0.0.1" || url.hostname === "localhost" || url.hostname === "[::1]";
  // Proofs and SVIDs cross this link: plain HTTP only to this machine (dev, tests).
  if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback))
    configInvalid("SVID_BRIDGE_URL", "must be https (plain http is allowed for loopback only)");
  if (url.search || url.hash || url.username || url.password)
    configInvalid("SVID_BRIDGE_URL", "must have no query, fragment or credentials");
  return url.toString().replace(/\/+$/, "");
}

export function audiences(env: Env, name: string): string[] {
  const raw = env[name];
  if (!raw) return [];
  const list = raw
    .split(",")
    .map((a) => a.trim())
    .filter((a) => a.length > 0);
  for (const a of list) {
    const broken = audienceRule(a);
    if (broken) configInvalid(name, `has an audience that ${broken}`);
  }
  return [...new Set(list)];
}

export function credentials(env: Env): AwsCredentialSource {
  const source: AwsCredentialSource = {};
  const accessKeyId = env.AWS_ACCESS_KEY_ID?.trim();
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY?.trim();
  if (accessKeyId && secretAccessKey) {
    const sessionToken = env.AWS_SESSION_TOKEN?.trim();
    source.env = { accessKeyId, secretAccessKey, ...(sessionToken && { sessionToken }) };
  }
  const fullUri = env.AWS_CONTAINER_CREDENTIALS_FULL_URI?.trim();
  const authorizationToken = env.AWS_CONTAINER_AUTHORIZATION_TOKEN?.trim();
  if (fullUri && authorizationToken) source.container = { fullUri, authorizationToken };
  if (!source.env && !source.container)
    configInvalid(
      "AWS_ACCESS_KEY_ID",
      "and AWS_SECRET_ACCESS_KEY, or AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN, must be set",
    );
  return source;
}

export function readConfig(env: Env = process.env): ExtensionConfig {
  const spiffeId = env.SVID_BRIDGE_SPIFFE_ID?.trim() || undefined;
  if (spiffeId) {
    const parsed = SpiffeId.tryParse(spiffeId);
    if (!parsed.ok) configInvalid("SVID_BRIDGE_SPIFFE_ID", parsed.error.message);
  }
  const filesDir = env.SVID_BRIDGE_FILES_DIR?.trim() || undefined;
  if (filesDir && !isAbsolute(filesDir)) configInvalid("SVID_BRIDGE_FILES_DIR", "must be an absolute path");
  const socket = env.SVID_BRIDGE_WORKLOAD_SOCKET?.trim() || DEFAULT_WORKLOAD_SOCKET;
  if (socket !== "off" && !isAbsolute(socket))
    configInvalid("SVID_BRIDGE_WORKLOAD_SOCKET", "must be an absolute path or off");
  // sun_path holds 108 bytes on Linux, the terminating NUL included.
  if (Buffer.byteLength(socket) > 107)
    configInvalid("SVID_BRIDGE_WORKLOAD_SOCKET", "is longer than 107 bytes");
  const tokenFiles = tokenFilesOf(env);
  const creds = credentials(env);
  // The SSRF guard accepts whichever secret the function's own environment holds.
  const apiToken = creds.env?.sessionToken ?? creds.container?.authorizationToken;
  if (!apiToken)
    configInvalid(
      "AWS_SESSION_TOKEN",
      "(or AWS_CONTAINER_AUTHORIZATION_TOKEN) must be set: it guards the local API",
    );
  const region = env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim();
  if (!region) configInvalid("AWS_REGION", "must be set");
  return Object.freeze({
    bridgeUrl: bridgeUrl(env),
    serverId: required(env, "SVID_BRIDGE_SERVER_ID"),
    issuer: env.SVID_BRIDGE_ISSUER?.trim() || required(env, "SVID_BRIDGE_SERVER_ID"),
    region,
    functionName: env.AWS_LAMBDA_FUNCTION_NAME?.trim() || undefined,
    runtimeApi: required(env, "AWS_LAMBDA_RUNTIME_API"),
    httpPort: integer(env, "SVID_BRIDGE_HTTP_PORT", DEFAULT_HTTP_PORT, 1, 65535),
    jwtAudiences: Object.freeze(audiences(env, "SVID_BRIDGE_JWT_AUDIENCES")),
    spiffeId,
    x509: oneOf(env, "SVID_BRIDGE_X509", ["on", "off"], "on") === "on",
    filesDir,
    workloadSocket: socket === "off" ? undefined : socket,
    tokenFiles: Object.freeze(tokenFiles),
    initFailure: oneOf(env, "SVID_BRIDGE_INIT_FAILURE", ["fail", "degraded"], "fail"),
    initTimeoutMs: integer(env, "SVID_BRIDGE_INIT_TIMEOUT_MS", DEFAULT_INIT_TIMEOUT_MS, 100, 900_000),
    clockJumpMs:
      integer(env, "SVID_BRIDGE_CLOCK_JUMP_SECONDS", DEFAULT_CLOCK_JUMP_SECONDS, 1, 86_400 * 365) * 1000,
    snapStart: env.AWS_LAMBDA_INITIALIZATION_TYPE === "snap-start",
    credentials: Object.freeze(creds),
    apiToken,
  });
}
