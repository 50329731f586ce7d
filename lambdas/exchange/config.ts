/**
 * Exchange Lambda configuration, read once at cold start, validated, frozen. A bad value
 * fails init with a message naming the variable.
 *
 *   SVID_BRIDGE_TRUST_DOMAIN         trust domain of every SVID                     required
 *   SVID_BRIDGE_ISSUER               https issuer URL (iss, discovery)              required
 *   SVID_BRIDGE_SERVER_ID            value proofs must sign (binds them to us)      default: the issuer
 *   SVID_BRIDGE_REGISTRATIONS_TABLE  registrations table                            required
 *   SVID_BRIDGE_KEY_SET_TABLE        key set table (also kms-wrapped key records)   required
 *   SVID_BRIDGE_KEY_SET_ID           item key of this bridge's key set              default "default"
 *   SVID_BRIDGE_REPLAY_TABLE         replay table (single-use proofs)               required
 *   SVID_BRIDGE_KEY_MANAGER          kms | kms-wrapped                              default kms
 *   SVID_BRIDGE_WRAPPING_KEY_ID      symmetric KMS key (kms-wrapped only)           required for kms-wrapped
 *   SVID_BRIDGE_CA_MODE              intermediate | direct | none (JWT-SVIDs only)  default intermediate
 *   SVID_BRIDGE_PCA_ARN              ACM PCA CA ARN                                 required for direct
 *   SVID_BRIDGE_ALLOWED_REGIONS      regions whose STS may vouch (comma list)       default AWS_REGION
 *   SVID_BRIDGE_OWN_REGION_ONLY      only proofs for AWS_REGION (issue 14, fault 9) default false
 *   SVID_BRIDGE_ALLOW_IAM_USERS      accept IAM users, not only role sessions       default false
 *   SVID_BRIDGE_MAX_JWT_TTL          longest JWT-SVID, seconds                      default 3600
 *   SVID_BRIDGE_MAX_X509_TTL         longest X.509-SVID, seconds                    default 86400
 *   SVID_BRIDGE_SIGNING_KEY_CACHE    seconds the key set is cached in a sandbox     default 60
 *   SVID_BRIDGE_REGISTRATION_CACHE   seconds a registration lookup is cached        default 5
 */

import { BridgeError } from "../../lib/errors.js";
import {
  type CaMode,
  caModeFrom,
  issuerFrom,
  keySetLocationFrom,
  pcaArnFrom,
  trustDomainFrom,
  wrappingKeyIdFrom,
} from "../../lib/http/bridge-env.js";
import { boolean, type Env, integer, oneOf, optionalString, requiredString } from "../../lib/http/env.js";
import { isRegionName } from "../../lib/proof/sts-endpoints.js";
import type { TrustDomain } from "../../lib/spiffe/spiffe-id.js";
import {
  DEFAULT_MAX_JWT_TTL_SECONDS,
  DEFAULT_MAX_X509_TTL_SECONDS,
  MAX_JWT_SVID_TTL_SECONDS,
  MAX_X509_SVID_TTL_SECONDS,
} from "../../lib/spiffe/svid-ttl.js";

export const EXCHANGE_KEY_MANAGERS = ["kms", "kms-wrapped"] as const;

export interface ExchangeConfig {
  trustDomain: TrustDomain;
  issuer: string;
  serverId: string;
  registrationsTable: string;
  keySetTable: string;
  keySetId: string;
  replayTable: string;
  keyManager: (typeof EXCHANGE_KEY_MANAGERS)[number];
  wrappingKeyId: string | undefined;
  caMode: CaMode;
  pcaArn: string | undefined;
  allowedRegions: string[];
  /** AWS_REGION when SVID_BRIDGE_OWN_REGION_ONLY is true: proofs for other regions are refused. */
  ownRegion: string | undefined;
  allowIamUsers: boolean;
  maxJwtTtlSeconds: number;
  maxX509TtlSeconds: number;
  signingKeyCacheSeconds: number;
  registrationCacheSeconds: number;
}

export function loadExchangeConfig(env: Env): Readonly<ExchangeConfig> {
  const trustDomain = trustDomainFrom(env);
  const issuer = issuerFrom(env);
  const keyManager = oneOf(env, "SVID_BRIDGE_KEY_MANAGER", EXCHANGE_KEY_MANAGERS, "kms");
  const wrappingKeyId = wrappingKeyIdFrom(env, keyManager);
  const caMode = caModeFrom(env);
  const pcaArn = pcaArnFrom(env, caMode === "direct", "SVID_BRIDGE_CA_MODE=direct");
  const regionsRaw = optionalString(env, "SVID_BRIDGE_ALLOWED_REGIONS") ?? optionalString(env, "AWS_REGION");
  if (!regionsRaw)
    throw new BridgeError("config_invalid", "SVID_BRIDGE_ALLOWED_REGIONS is required (or AWS_REGION)");
  const allowedRegions = regionsRaw
    .split(",")
    .map((r) => r.trim())
    .filter(Boolean);
  for (const r of allowedRegions)
    if (!isRegionName(r))
      // the verifier's own rule (lib/proof/sts-endpoints.ts)
      throw new BridgeError(
        "config_invalid",
        `SVID_BRIDGE_ALLOWED_REGIONS: ${JSON.stringify(r)} is not a region name`,
      );
  const ownRegion = boolean(env, "SVID_BRIDGE_OWN_REGION_ONLY", false)
    ? optionalString(env, "AWS_REGION")
    : undefined;
  if (ownRegion !== undefined && !allowedRegions.includes(ownRegion))
    throw new BridgeError(
      "config_invalid",
      `SVID_BRIDGE_OWN_REGION_ONLY: AWS_REGION ${ownRegion} is not in SVID_BRIDGE_ALLOWED_REGIONS`,
    );
  if (boolean(env, "SVID_BRIDGE_OWN_REGION_ONLY", false) && ownRegion === undefined)
    throw new BridgeError("config_invalid", "SVID_BRIDGE_OWN_REGION_ONLY needs AWS_REGION");
  return Object.freeze({
    trustDomain,
    issuer,
    serverId: optionalString(env, "SVID_BRIDGE_SERVER_ID") ?? issuer,
    registrationsTable: requiredString(env, "SVID_BRIDGE_REGISTRATIONS_TABLE"),
    ...keySetLocationFrom(env),
    replayTable: requiredString(env, "SVID_BRIDGE_REPLAY_TABLE"),
    keyManager,
    wrappingKeyId,
    caMode,
    pcaArn,
    allowedRegions,
    ownRegion,
    allowIamUsers: boolean(env, "SVID_BRIDGE_ALLOW_IAM_USERS", false),
    maxJwtTtlSeconds: integer(env, "SVID_BRIDGE_MAX_JWT_TTL", DEFAULT_MAX_JWT_TTL_SECONDS, {
      min: 60,
      max: MAX_JWT_SVID_TTL_SECONDS,
    }),
    maxX509TtlSeconds: integer(env, "SVID_BRIDGE_MAX_X509_TTL", DEFAULT_MAX_X509_TTL_SECONDS, {
      min: 60,
      max: MAX_X509_SVID_TTL_SECONDS,
    }),
    signingKeyCacheSeconds: integer(env, "SVID_BRIDGE_SIGNING_KEY_CACHE", 60, { min: 1, max: 3600 }),
    registrationCacheSeconds: integer(env, "SVID_BRIDGE_REGISTRATION_CACHE", 5, { max: 300 }),
  });
}
