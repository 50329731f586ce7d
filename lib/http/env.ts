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
