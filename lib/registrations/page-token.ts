/**
 * Opaque pagination tokens. A token names the listing it belongs to (`scope`), so a token
 * from one listing replayed against another is refused instead of skipping entries; a
 * token that does not decode is `invalid_request` (400), never a store error.
 */
import { BridgeError } from "../errors.js";

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

export function encodePageToken(scope: string, position: Record<string, string>): string {
  return Buffer.from(JSON.stringify({ s: scope, p: position }), "utf8").toString("base64url");
}

/** The position inside `scope`; every value a string, only the `allowedKeys`. */
export function decodePageToken(
  token: string,
  scope: string,
  allowedKeys: readonly string[],
): Record<string, string> {
  const bad = (why: string): never => {
    throw new BridgeError("invalid_request", `invalid page token: ${why}`);
  };
  if (typeof token !== "string" || token.length === 0 || token.length > 4096) bad("wrong length");
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    return bad("not a token");
  }
  if (typeof parsed !== "object" || parsed === null) return bad("not a token");
  const { s, p } = parsed as { s?: unknown; p?: unknown };
  if (s !== scope) return bad("it belongs to another listing");
  if (typeof p !== "object" || p === null || Array.isArray(p)) return bad("not a token");
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(p)) {
    if (!allowedKeys.includes(k) || typeof v !== "string") bad("not a token");
    out[k] = v as string;
  }
  return out;
}

export function pageSize(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE)
    throw new BridgeError("invalid_request", `limit must be a whole number from 1 to ${MAX_PAGE_SIZE}`);
  return limit;
}

/** Which listing a request is: at most one of account, spiffeId. */
export function listScope(options: { account?: string; spiffeId?: string }): string {
  if (options.account !== undefined && options.spiffeId !== undefined)
    throw new BridgeError("invalid_request", "list by account or by SPIFFE ID, not both");
  if (options.account !== undefined) return `account:${options.account}`;
  if (options.spiffeId !== undefined) return `spiffe-id:${options.spiffeId}`;
  return "all";
}
