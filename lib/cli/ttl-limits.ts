/**
 * The longest TTLs `register`, `update` and `import` accept: the exchange's own caps, so an
 * entry never asks for a lifetime the exchange would silently cut (a 24 h JWT-SVID entry
 * used to register, then get 1 h tokens). The caps are the exchange's settings,
 * SVID_BRIDGE_MAX_JWT_TTL and SVID_BRIDGE_MAX_X509_TTL (seconds), read from the CLI's
 * environment when set (give them your deployment's values), else the exchange's
 * defaults (lib/exchange: 3600 and 86400).
 */
import { DEFAULT_LIMITS } from "../exchange/exchange-service.js";
import type { RegistrationLimits } from "../registrations/validate-entry.js";
import { UsageError } from "./exit-codes.js";

function seconds(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = env[name];
  if (value === undefined || value === "") return fallback;
  if (!/^\d{1,9}$/.test(value)) throw new UsageError(`${name}=${value} is not a whole number of seconds`);
  return Number(value);
}

export function registrationLimits(env: NodeJS.ProcessEnv): Partial<RegistrationLimits> {
  return {
    maxJwtTtlSeconds: seconds(env, "SVID_BRIDGE_MAX_JWT_TTL", DEFAULT_LIMITS.maxJwtTtlSeconds),
    maxX509TtlSeconds: seconds(env, "SVID_BRIDGE_MAX_X509_TTL", DEFAULT_LIMITS.maxX509TtlSeconds),
  };
}
