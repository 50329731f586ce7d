/**
 * The binding header: base64url(SHA-256(canonical JSON of what the exchange request
 * asks for)). The client signs it into the proof; the exchange recomputes it from the
 * request it received, so a proof captured in flight or from a log buys nothing else.
 *
 * Canonical JSON here: object keys sorted, no whitespace, strings as JSON.stringify
 * writes them. The inputs are flat and made of strings only, so that is unambiguous.
 */
import { createHash } from "node:crypto";

export interface JwtAsk {
  /** Audiences asked for. A set: order and repeats do not change the binding. */
  audience: readonly string[];
  /** The SPIFFE ID asked for, when the caller names one. */
  spiffeId?: string;
}

type Canonical = string | readonly string[] | { readonly [key: string]: Canonical };

export function canonicalJson(value: Canonical): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => JSON.stringify(v)).join(",")}]`;
  const obj = value as { readonly [key: string]: Canonical };
  const keys = Object.keys(obj).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k]!)}`).join(",")}}`;
}

function digest(canonical: string): string {
  return createHash("sha256").update(canonical, "utf8").digest("base64url");
}

/** Binding for a JWT-SVID request: {"audience":[sorted, unique],"kind":"jwt"[,"spiffe_id":…]}. */
export function jwtBinding(ask: JwtAsk): string {
  const audience = [...new Set(ask.audience)].sort();
  const body: Record<string, Canonical> = { kind: "jwt", audience };
  if (ask.spiffeId !== undefined) body.spiffe_id = ask.spiffeId;
  return digest(canonicalJson(body));
}

/** Binding for an X.509-SVID request: {"kind":"x509","spki":base64url(DER SubjectPublicKeyInfo of the CSR)}. */
export function x509Binding(spkiDer: Uint8Array): string {
  return digest(canonicalJson({ kind: "x509", spki: Buffer.from(spkiDer).toString("base64url") }));
}

/** What one exchange request asks for, in the shape the extension's exchange client uses. */
export type ProofAsk = ({ kind: "jwt" } & JwtAsk) | { kind: "x509"; spki: Uint8Array };

export function bindingOf(ask: ProofAsk): string {
  return ask.kind === "jwt" ? jwtBinding(ask) : x509Binding(ask.spki);
}

/** One X.509 ask inside a batch: the CSR's public key and, when named, the SPIFFE ID asked for. */
export interface BatchX509Ask {
  /** DER SubjectPublicKeyInfo of the CSR. */
  spki: Uint8Array;
  spiffeId?: string;
}

/** Every ask of one refresh cycle, sent under one proof to POST /v1/svid/batch. */
export interface BatchAsk {
  jwt: readonly JwtAsk[];
  x509?: BatchX509Ask;
}

/**
 * Binding for a batched request: SHA-256 over
 * {"jwt":[sorted member digests],"kind":"batch"[,"x509":member digest]}, where a JWT
 * member's digest is jwtBinding(ask) and the X.509 member's is the digest of
 * {"kind":"x509","spki":…[,"spiffe_id":…]}. Every ask (its audiences, its SPIFFE ID, the
 * CSR's key) is covered, so a captured proof buys neither more nor other asks; the JWT
 * asks form a set (order does not change the binding; the exchange refuses repeats).
 */
export function batchBinding(ask: BatchAsk): string {
  const body: Record<string, Canonical> = { kind: "batch", jwt: ask.jwt.map((a) => jwtBinding(a)).sort() };
  if (ask.x509 !== undefined) {
    const x509: Record<string, Canonical> = {
      kind: "x509",
      spki: Buffer.from(ask.x509.spki).toString("base64url"),
    };
    if (ask.x509.spiffeId !== undefined) x509.spiffe_id = ask.x509.spiffeId;
    body.x509 = digest(canonicalJson(x509));
  }
  return digest(canonicalJson(body));
}
