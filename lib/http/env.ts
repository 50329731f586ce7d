/**
 * Reading a deployable's configuration from the environment: each reader names the
 * variable it refused, so a bad deploy fails at init with a message an operator can act on.
 */
import { BridgeError } from "../errors.js";

export type Env = Readonly<Record<string, string | undefined>>;

function bad(name: string, message: string): never {
  throw new BridgeError("config_invalid", `${name} ${message}`);
}

export function requiredString(env: Env, name: string): string {
  const value = env[name]?.trim();
  if (!value) bad(name, "is required");
  return value;
}

export function optionalString(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

export function integer(
  env: Env,
  name: string,
  fallback: number,
  range: { min?: number; max?: number } = {},
): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!/^\d+$/.test(raw)) bad(name, `must be a non-negative integer, not ${JSON.stringify(raw)}`);
  const value = Number(raw);
  if (!Number.isSafeInteger(value)) bad(name, "is too large");
  if (range.min !== undefined && value < range.min) bad(name, `must be at least ${range.min}`);
  if (range.max !== undefined && value > range.max) bad(name, `must be at most ${range.max}`);
  return value;
}

export function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!(allowed as readonly string[]).includes(raw))
    bad(name, `must be one of ${allowed.join(", ")}, not ${raw}`);
  return raw as T;
}

export function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return fallback;
  if (raw === "true" || raw === "1") return true;
  if (raw === "false" || raw === "0") return false;
  return bad(name, `must be true or false, not ${raw}`);
}

/**
 * Parses a value with `parse` and turns any failure into `config_invalid` naming the
 * variable: `SVID_BRIDGE_ISSUER: issuer must be an https URL …`.
 */
export function parsed<T>(name: string, parse: () => T): T {
  try {
    return parse();
  } catch (cause) {
    if (cause instanceof BridgeError && cause.code === "config_invalid" && cause.message.startsWith(name))
      throw cause;
    throw new BridgeError("config_invalid", `${name}: ${(cause as Error).message}`, { cause });
  }
}

/** `value` must be set when `condition` holds; the error says which setting requires it. */
export function requiredWhen<T>(
  name: string,
  value: T | undefined,
  condition: boolean,
  because: string,
): T | undefined {
  if (condition && value === undefined) bad(name, `is required when ${because}`);
  return value;
}
