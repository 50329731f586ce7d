/**
 * The exchange's request bodies, parsed strictly: unknown fields are refused (a typo in
 * a field name must not silently change what is asked), every field is type-checked,
 * and sizes are bounded before anything expensive happens.
 */
import { BridgeError } from "../errors.js";
import { audienceRule, MAX_AUDIENCES } from "../spiffe/jwt-svid-limits.js";
import { SpiffeId } from "../spiffe/spiffe-id.js";

export interface JwtSvidRequest {
  audience: string[];
  spiffeId?: SpiffeId;
  proof: unknown;
}

export interface X509SvidRequest {
  csr: string;
  spiffeId?: SpiffeId;
  proof: unknown;
}

function invalidRequest(message: string): never {
  throw new BridgeError("invalid_request", message);
}

function asObject(body: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    invalidRequest("the body must be a JSON object");
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key))
      throw new BridgeError(
        "unknown_field",
        `unknown field ${JSON.stringify(key)}; allowed: ${allowed.join(", ")}`,
      );
  }
  return body as Record<string, unknown>;
}

function optionalSpiffeId(value: unknown): SpiffeId | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string") invalidRequest("spiffe_id must be a string");
  return SpiffeId.parse(value);
}

function requireProof(value: unknown): unknown {
  if (value === undefined || value === null)
    throw new BridgeError("proof_malformed", "the request has no proof");
  return value;
}

/** The audience list of one JWT ask: 1 to MAX_AUDIENCES printable strings, none repeated. */
function audienceOf(value: unknown): string[] {
  const aud = typeof value === "string" ? [value] : value;
  if (!Array.isArray(aud) || aud.length === 0)
    invalidRequest("audience must be a non-empty array of strings");
  if (aud.length > MAX_AUDIENCES) invalidRequest(`at most ${MAX_AUDIENCES} audiences per JWT-SVID`);
  for (const a of aud) {
    if (typeof a !== "string" || a.length === 0) invalidRequest("every audience must be a non-empty string");
    const broken = audienceRule(a);
    if (broken) invalidRequest(`an audience ${broken}`);
  }
  if (new Set(aud).size !== aud.length) invalidRequest("audiences must not repeat");
  return aud as string[];
}

export function parseJwtSvidRequest(body: unknown): JwtSvidRequest {
  const obj = asObject(body, ["audience", "spiffe_id", "proof"]);
  const audience = audienceOf(obj.audience);
  const spiffeId = optionalSpiffeId(obj.spiffe_id);
  return { audience, ...(spiffeId && { spiffeId }), proof: requireProof(obj.proof) };
}

export function parseX509SvidRequest(body: unknown): X509SvidRequest {
  const obj = asObject(body, ["csr", "spiffe_id", "proof"]);
  if (typeof obj.csr !== "string" || obj.csr.length === 0)
    invalidRequest("csr must be a PEM or base64 DER string");
  const spiffeId = optionalSpiffeId(obj.spiffe_id);
  return { csr: obj.csr, ...(spiffeId && { spiffeId }), proof: requireProof(obj.proof) };
}

/** At most this many JWT asks in one batch: a refresh cycle asks once per configured audience set. */
export const MAX_BATCH_JWT_ASKS = 16;

export interface BatchJwtAsk {
  audience: string[];
  spiffeId?: SpiffeId;
}

export interface BatchRequest {
  /** In the order asked; the answer keeps it. */
  jwt: BatchJwtAsk[];
  x509?: { csr: string; spiffeId?: SpiffeId };
  proof: unknown;
}

/** The key two JWT asks share when they ask the same thing (audiences as a set). */
function jwtAskKey(ask: BatchJwtAsk): string {
  return JSON.stringify([[...ask.audience].sort(), ask.spiffeId?.toString() ?? null]);
}

/**
 * `{jwt?: [{audience, spiffe_id?}, …], x509?: {csr, spiffe_id?}, proof}`: at least one
 * ask, at most MAX_BATCH_JWT_ASKS JWT asks, no JWT ask repeated, unknown fields refused
 * at every level.
 */
export function parseBatchRequest(body: unknown): BatchRequest {
  const obj = asObject(body, ["jwt", "x509", "proof"]);
  const rawJwt = obj.jwt ?? [];
  if (!Array.isArray(rawJwt)) invalidRequest("jwt must be an array of JWT-SVID asks");
  if (rawJwt.length > MAX_BATCH_JWT_ASKS)
    invalidRequest(`at most ${MAX_BATCH_JWT_ASKS} JWT-SVID asks per batch`);
  const jwt = rawJwt.map((raw): BatchJwtAsk => {
    const ask = asObject(raw, ["audience", "spiffe_id"]);
    const spiffeId = optionalSpiffeId(ask.spiffe_id);
    return { audience: audienceOf(ask.audience), ...(spiffeId && { spiffeId }) };
  });
  if (new Set(jwt.map(jwtAskKey)).size !== jwt.length)
    invalidRequest("a batch must not repeat a JWT-SVID ask");
  let x509: BatchRequest["x509"];
  if (obj.x509 !== undefined) {
    const ask = asObject(obj.x509, ["csr", "spiffe_id"]);
    if (typeof ask.csr !== "string" || ask.csr.length === 0)
      invalidRequest("x509.csr must be a PEM or base64 DER string");
    const spiffeId = optionalSpiffeId(ask.spiffe_id);
    x509 = { csr: ask.csr, ...(spiffeId && { spiffeId }) };
  }
  if (jwt.length === 0 && !x509) invalidRequest("a batch must ask for at least one SVID");
  return { jwt, ...(x509 && { x509 }), proof: requireProof(obj.proof) };
}
