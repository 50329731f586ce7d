/**
 * The rotation's timing. Defaults, and why:
 *
 * - rotationPeriodSeconds 86 400 (24 h): a key signs for a day.
 * - publicationLeadSeconds 3 600 (1 h): a new key is published (as `prepared`) this long
 *   before it signs anything. It must cover every cache between DynamoDB and a relying
 *   party: the discovery Lambda's key cache (seconds), the documents' Cache-Control
 *   max-age (default 300 s), and SPIFFE federation's advice to publish 3–5 × the
 *   bundle refresh hint ahead (5 × 300 s = 1 500 s). AWS IAM's JWKS cache lifetime is
 *   undocumented, which is one more reason for a generous lead.
 * - maxJwtTtlSeconds 3 600 and clockSkewSeconds 60: a retired key stays published until
 *   every token it can have signed has expired, plus verifiers' leeway. The exchange
 *   must never mint a JWT-SVID that lives longer than maxJwtTtlSeconds.
 * - signingKeyCacheSeconds 60: how long an exchange sandbox may keep signing with the
 *   key it read before a rotation retired it; added to the retention for the same reason.
 */
import { isSigningAlgorithm, type SigningAlgorithm } from "../crypto/algorithms.js";
import { BridgeError } from "../errors.js";
import { DEFAULT_MAX_JWT_TTL_SECONDS } from "../spiffe/svid-ttl.js";

export interface RotationConfig {
  alg: SigningAlgorithm;
  rotationPeriodSeconds: number;
  publicationLeadSeconds: number;
  maxJwtTtlSeconds: number;
  clockSkewSeconds: number;
  signingKeyCacheSeconds: number;
}

export const DEFAULT_ROTATION_CONFIG: Readonly<RotationConfig> = Object.freeze({
  alg: "RS256",
  rotationPeriodSeconds: 24 * 3600,
  publicationLeadSeconds: 3600,
  maxJwtTtlSeconds: DEFAULT_MAX_JWT_TTL_SECONDS,
  clockSkewSeconds: 60,
  signingKeyCacheSeconds: 60,
});

/** Fills in defaults and checks the timing makes sense; throws `config_invalid` naming the field. */
export function resolveRotationConfig(partial: Partial<RotationConfig> = {}): Readonly<RotationConfig> {
  const config: RotationConfig = { ...DEFAULT_ROTATION_CONFIG, ...stripUndefined(partial) };
  if (!isSigningAlgorithm(config.alg))
    throw new BridgeError("config_invalid", `alg ${String(config.alg)} is not RS256, ES256 or ES384`);
  for (const field of [
    "rotationPeriodSeconds",
    "publicationLeadSeconds",
    "maxJwtTtlSeconds",
    "clockSkewSeconds",
    "signingKeyCacheSeconds",
  ] as const) {
    const value = config[field];
    if (!Number.isSafeInteger(value) || value < 0)
      throw new BridgeError("config_invalid", `${field} must be a non-negative integer, not ${value}`);
  }
  if (config.rotationPeriodSeconds <= 0)
    throw new BridgeError("config_invalid", "rotationPeriodSeconds must be positive");
  if (config.publicationLeadSeconds >= config.rotationPeriodSeconds)
    throw new BridgeError(
      "config_invalid",
      `publicationLeadSeconds (${config.publicationLeadSeconds}) must be shorter than rotationPeriodSeconds (${config.rotationPeriodSeconds})`,
    );
  return Object.freeze(config);
}

/** How long a key stays published after it stops signing. */
export function retentionSeconds(config: RotationConfig): number {
  return config.signingKeyCacheSeconds + config.maxJwtTtlSeconds + config.clockSkewSeconds;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
