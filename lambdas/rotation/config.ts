/**
 * Rotation Lambda configuration, read once at cold start, validated, frozen.
 *
 *   SVID_BRIDGE_KEY_SET_TABLE       DynamoDB table of the key set                  required
 *   SVID_BRIDGE_KEY_SET_ID          item key inside the table                      default "default"
 *   SVID_BRIDGE_KEY_MANAGER         kms | memory (memory: tests and dev only)      default kms
 *   SVID_BRIDGE_JWT_ALG             RS256 | ES256 | ES384                          default RS256
 *   SVID_BRIDGE_ROTATION_PERIOD     seconds a key signs                            default 86400
 *   SVID_BRIDGE_PUBLICATION_LEAD    seconds a key is published before it signs     default 3600
 *   SVID_BRIDGE_MAX_JWT_TTL         longest JWT-SVID lifetime the exchange mints   default 3600
 *   SVID_BRIDGE_CLOCK_SKEW          verifiers' leeway, seconds                     default 60
 *   SVID_BRIDGE_SIGNING_KEY_CACHE   seconds an exchange sandbox caches the key     default 60
 */

import { SIGNING_ALGORITHMS } from "../../lib/crypto/algorithms.js";
import { BridgeError } from "../../lib/errors.js";
import { type Env, integer, oneOf, optionalString, requiredString } from "../../lib/http/env.js";
import { type RotationConfig, resolveRotationConfig } from "../../lib/rotation/rotation-config.js";

export const KEY_MANAGER_KINDS = ["kms", "memory"] as const;
export type KeyManagerKind = (typeof KEY_MANAGER_KINDS)[number];

export interface RotationLambdaConfig {
  keySetTable: string;
  keySetId: string;
  keyManager: KeyManagerKind;
  rotation: Readonly<RotationConfig>;
}

export function loadRotationConfig(env: Env): Readonly<RotationLambdaConfig> {
  const partial = {
    alg: oneOf(env, "SVID_BRIDGE_JWT_ALG", SIGNING_ALGORITHMS, "RS256"),
    rotationPeriodSeconds: integer(env, "SVID_BRIDGE_ROTATION_PERIOD", 86_400, { min: 60 }),
    publicationLeadSeconds: integer(env, "SVID_BRIDGE_PUBLICATION_LEAD", 3600),
    maxJwtTtlSeconds: integer(env, "SVID_BRIDGE_MAX_JWT_TTL", 3600, { min: 1, max: 48 * 3600 }),
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
  return Object.freeze({
    keySetTable: requiredString(env, "SVID_BRIDGE_KEY_SET_TABLE"),
    keySetId: optionalString(env, "SVID_BRIDGE_KEY_SET_ID") ?? "default",
    keyManager: oneOf(env, "SVID_BRIDGE_KEY_MANAGER", KEY_MANAGER_KINDS, "kms"),
    rotation,
  });
}
