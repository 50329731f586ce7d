/**
 * The in-process source's configuration, read from the function's environment once: the
 * same variables the layer's extension reads, by the same rules (the helpers are the
 * extension's, layers/extension/src/config.ts), so moving a function between the two
 * modes changes no variable but the layer. A refusal names the variable.
 *
 *   SVID_BRIDGE_URL          the exchange (https; plain http to loopback only)
 *   SVID_BRIDGE_SERVER_ID    signed into every proof
 *   AWS_REGION               the proof names this region's STS
 *   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, or (SnapStart)
 *   AWS_CONTAINER_CREDENTIALS_FULL_URI + AWS_CONTAINER_AUTHORIZATION_TOKEN
 *   SVID_BRIDGE_SPIFFE_ID    optional: which ID, when the role has several registrations
 *   SVID_BRIDGE_TRUST_DOMAIN optional: validation before any SVID of our own is held
 *   SVID_BRIDGE_JWT_AUDIENCES, SVID_BRIDGE_X509 (on|off)  what prefetch() fetches
 *   SVID_BRIDGE_CLOCK_JUMP_SECONDS  the restore rule's threshold
 */
import { BridgeError } from "../../../lib/errors.js";
import { SpiffeId, TrustDomain } from "../../../lib/spiffe/spiffe-id.js";
import {
  type AwsCredentialSource,
  audiences,
  bridgeUrl,
  configInvalid,
  credentials,
  DEFAULT_CLOCK_JUMP_SECONDS,
  integer,
  oneOf,
  required,
} from "../../extension/src/config.js";

export interface InProcessConfig {
  readonly bridgeUrl: string;
  readonly serverId: string;
  readonly region: string;
  readonly credentials: AwsCredentialSource;
  readonly spiffeId: string | undefined;
  readonly trustDomain: string | undefined;
  readonly jwtAudiences: readonly string[];
  readonly x509: boolean;
  readonly clockJumpMs: number;
  /** AWS_LAMBDA_INITIALIZATION_TYPE=snap-start: what init fetched is cloned into every restore. */
  readonly snapStart: boolean;
}

type Env = Record<string, string | undefined>;

function optionalId(env: Env, name: string, parse: (v: string) => unknown): string | undefined {
  const value = env[name]?.trim() || undefined;
  if (value === undefined) return undefined;
  try {
    parse(value);
  } catch (error) {
    if (error instanceof BridgeError) configInvalid(name, error.message);
    throw error;
  }
  return value;
}

export function readInProcessConfig(env: Env = process.env): InProcessConfig {
  const region = env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim();
  if (!region) configInvalid("AWS_REGION", "must be set");
  return Object.freeze({
    bridgeUrl: bridgeUrl(env),
    serverId: required(env, "SVID_BRIDGE_SERVER_ID"),
    region,
    credentials: Object.freeze(credentials(env)),
    spiffeId: optionalId(env, "SVID_BRIDGE_SPIFFE_ID", (v) => SpiffeId.parse(v)),
    trustDomain: optionalId(env, "SVID_BRIDGE_TRUST_DOMAIN", (v) => TrustDomain.parse(v)),
    jwtAudiences: Object.freeze(audiences(env, "SVID_BRIDGE_JWT_AUDIENCES")),
    x509: oneOf(env, "SVID_BRIDGE_X509", ["on", "off"], "on") === "on",
    clockJumpMs:
      integer(env, "SVID_BRIDGE_CLOCK_JUMP_SECONDS", DEFAULT_CLOCK_JUMP_SECONDS, 1, 86_400 * 365) * 1000,
    snapStart: env.AWS_LAMBDA_INITIALIZATION_TYPE === "snap-start",
  });
}
