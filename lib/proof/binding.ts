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

/** What an X.509-SVID request asks for: every field of the request but the proof. */
export interface X509Ask {
  /** The CSR exactly as sent in the request's `csr` field (PEM or base64 DER text). */
  csr: string;
  /** The SPIFFE ID asked for, when the caller names one. */
  spiffeId?: string;
}

/**
 * Binding for an X.509-SVID request: {"csr":<the CSR text as sent>,"kind":"x509"[,"spiffe_id":…]}.
 * It covers the CSR text itself (and so its key) and the SPIFFE ID, like the JWT binding
 * covers audience and SPIFFE ID (issue 14, fault 5), and the exchange computes it without
 * parsing the CSR, so every proof rule runs before any CSR is read (fault 1).
 */
export function x509Binding(ask: X509Ask): string {
  const body: Record<string, Canonical> = { kind: "x509", csr: ask.csr };
  if (ask.spiffeId !== undefined) body.spiffe_id = ask.spiffeId;
  return digest(canonicalJson(body));
}

/** What one exchange request asks for, in the shape the extension's exchange client uses. */
export type ProofAsk = ({ kind: "jwt" } & JwtAsk) | ({ kind: "x509" } & X509Ask);

export function bindingOf(ask: ProofAsk): string {
  return ask.kind === "jwt" ? jwtBinding(ask) : x509Binding(ask);
}

/** One X.509 ask inside a batch: the same fields as a lone X.509 request (CSR text as sent, SPIFFE ID). */
export type BatchX509Ask = X509Ask;

/** Every ask of one refresh cycle, sent under one proof to POST /v1/svid/batch. */
export interface BatchAsk {
  jwt: readonly JwtAsk[];
  x509?: BatchX509Ask;
}

/**
 * Binding for a batched request: SHA-256 over
 * {"jwt":[sorted member digests],"kind":"batch"[,"x509":member digest]}, where a JWT
 * member's digest is jwtBinding(ask) and the X.509 member's is x509Binding(ask) (the CSR
 * text as sent and the SPIFFE ID). Every ask (its audiences, its SPIFFE ID, the CSR) is
 * covered, computable without parsing the CSR, so a captured proof buys neither more nor other asks; the JWT
 * asks form a set (order does not change the binding; the exchange refuses repeats).
 */
export function batchBinding(ask: BatchAsk): string {
  const body: Record<string, Canonical> = { kind: "batch", jwt: ask.jwt.map((a) => jwtBinding(a)).sort() };
  if (ask.x509 !== undefined) body.x509 = x509Binding(ask.x509);
  return digest(canonicalJson(body));
}
