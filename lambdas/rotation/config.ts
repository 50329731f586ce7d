/**
 * Rotation Lambda configuration, read once at cold start, validated, frozen.
 *
 *   SVID_BRIDGE_KEY_SET_TABLE       DynamoDB table of the key set                  required
 *   SVID_BRIDGE_KEY_SET_ID          item key inside the table                      default "default"
 *   SVID_BRIDGE_KEY_MANAGER         kms | kms-wrapped | memory (memory: tests, dev) default kms
 *   SVID_BRIDGE_TRUST_DOMAIN        tags KMS keys; names the intermediate CA       required unless memory
 *   SVID_BRIDGE_WRAPPING_KEY_ID     symmetric KMS key (kms-wrapped only)           required for kms-wrapped
 *   SVID_BRIDGE_CA_MODE             intermediate | direct | none (JWT-SVIDs only)  default intermediate
 *   SVID_BRIDGE_PCA_ARN             ACM PCA CA issuing the intermediate            required for intermediate (unless memory)
 *   SVID_BRIDGE_ROTATION_ROLE_ARN   this Lambda's role: creates, signs, retires    required for kms
 *   SVID_BRIDGE_SIGNER_ROLE_ARNS    roles that sign with the keys (comma list)     required for kms
 *                                   (both go into each new key's policy: kms-key-policy.ts)
 *   SVID_BRIDGE_INTERMEDIATE_TTL    intermediate CA lifetime, seconds              default 518400 (6 days)
 *   SVID_BRIDGE_JWT_ALG             RS256 | ES256 | ES384                          default RS256
 *   SVID_BRIDGE_ROTATION_PERIOD     seconds a key signs                            default 86400
 *   SVID_BRIDGE_PUBLICATION_LEAD    seconds a key is published before it signs     default 3600
 *   SVID_BRIDGE_MAX_JWT_TTL         longest JWT-SVID lifetime the exchange mints   default 3600
 *   SVID_BRIDGE_CLOCK_SKEW          verifiers' leeway, seconds                     default 60
 *   SVID_BRIDGE_SIGNING_KEY_CACHE   seconds an exchange sandbox caches the key     default 60
 */

import { signingKeyPolicy } from "../../lib/aws/kms-key-policy.js";
import { SIGNING_ALGORITHMS } from "../../lib/crypto/algorithms.js";
import { BridgeError } from "../../lib/errors.js";
import {
  type CaMode,
  caModeFrom,
  keySetLocationFrom,
  pcaArnFrom,
  wrappingKeyIdFrom,
} from "../../lib/http/bridge-env.js";
import { type Env, integer, oneOf, optionalString, parsed, requiredString } from "../../lib/http/env.js";
import { type RotationConfig, resolveRotationConfig } from "../../lib/rotation/rotation-config.js";
import { TrustDomain } from "../../lib/spiffe/spiffe-id.js";
import { DEFAULT_MAX_JWT_TTL_SECONDS, MAX_JWT_SVID_TTL_SECONDS } from "../../lib/spiffe/svid-ttl.js";

export const KEY_MANAGER_KINDS = ["kms", "kms-wrapped", "memory"] as const;
export type KeyManagerKind = (typeof KEY_MANAGER_KINDS)[number];

export interface RotationLambdaConfig {
  keySetTable: string;
  keySetId: string;
  keyManager: KeyManagerKind;
  rotation: Readonly<RotationConfig>;
  trustDomain: TrustDomain | undefined;
  wrappingKeyId: string | undefined;
  caMode: CaMode;
  pcaArn: string | undefined;
  intermediateTtlSeconds: number;
  /** The key policy of every KMS key it creates (kms mode). */
  keyPolicy: string | undefined;
}

export function loadRotationConfig(env: Env): Readonly<RotationLambdaConfig> {
  const partial = {
    alg: oneOf(env, "SVID_BRIDGE_JWT_ALG", SIGNING_ALGORITHMS, "RS256"),
    rotationPeriodSeconds: integer(env, "SVID_BRIDGE_ROTATION_PERIOD", 86_400, { min: 60 }),
    publicationLeadSeconds: integer(env, "SVID_BRIDGE_PUBLICATION_LEAD", 3600),
    maxJwtTtlSeconds: integer(env, "SVID_BRIDGE_MAX_JWT_TTL", DEFAULT_MAX_JWT_TTL_SECONDS, {
      min: 1,
      max: MAX_JWT_SVID_TTL_SECONDS,
    }),
    clockSkewSeconds: integer(env, "SVID_BRIDGE_CLOCK_SKEW", 60, { max: 900 }),
    signingKeyCacheSeconds: integer(env, "SVID_BRIDGE_SIGNING_KEY_CACHE", 60, { max: 3600 }),
  };
  let rotation: Readonly<RotationConfig>;
  try {
    rotation = resolveRotationConfig(partial);
  } catch (cause) {
    throw new BridgeError(
      "config_invalid",
      `SVID_BRIDGE_ROTATION_PERIOD / SVID_BRIDGE_PUBLICATION_LEAD: ${(cause as Error).message}`,
      { cause },
    );
  }
  const keyManager = oneOf(env, "SVID_BRIDGE_KEY_MANAGER", KEY_MANAGER_KINDS, "kms");
  const tdRaw = optionalString(env, "SVID_BRIDGE_TRUST_DOMAIN");
  const trustDomain = parsed("SVID_BRIDGE_TRUST_DOMAIN", () =>
    tdRaw === undefined ? undefined : TrustDomain.parse(tdRaw),
  );
  if (keyManager !== "memory" && !trustDomain)
    throw new BridgeError("config_invalid", "SVID_BRIDGE_TRUST_DOMAIN is required (it tags every KMS key)");
  const wrappingKeyId = wrappingKeyIdFrom(env, keyManager);
  const caMode = caModeFrom(env);
  const pcaArn = pcaArnFrom(
    env,
    keyManager !== "memory" && caMode === "intermediate",
    "SVID_BRIDGE_CA_MODE=intermediate",
  );
  if (caMode === "none" && pcaArn)
    throw new BridgeError("config_invalid", "SVID_BRIDGE_PCA_ARN is set but SVID_BRIDGE_CA_MODE is none");
  return Object.freeze({
    keyPolicy: keyManager === "kms" ? keyPolicyFrom(env) : undefined,
    ...keySetLocationFrom(env),
    keyManager,
    rotation,
    trustDomain,
    wrappingKeyId,
    caMode,
    pcaArn,
    intermediateTtlSeconds: integer(env, "SVID_BRIDGE_INTERMEDIATE_TTL", 6 * 86_400, {
      min: 3600,
      max: 365 * 86_400,
    }),
  });
}

function keyPolicyFrom(env: Env): string {
  const rotationRoleArn = requiredString(env, "SVID_BRIDGE_ROTATION_ROLE_ARN");
  const signerRoleArns = requiredString(env, "SVID_BRIDGE_SIGNER_ROLE_ARNS")
    .split(",")
    .map((arn) => arn.trim())
    .filter(Boolean);
  return parsed("SVID_BRIDGE_ROTATION_ROLE_ARN / SVID_BRIDGE_SIGNER_ROLE_ARNS", () =>
    signingKeyPolicy({ rotationRoleArn, signerRoleArns }),
  );
}
