/**
 * JWT-SVIDs (JWT-SVID.md): minted through a Signer port (the key may live in KMS, so
 * jose cannot hold it: we build the signing input, sign through the port and assemble
 * the compact JWS), validated against a trust bundle with node:crypto (lib/crypto/jws-verify.ts).
 */
import type { JsonWebKey, KeyObject } from "node:crypto";
import type { JWTPayload } from "jose";
import { type Clock, epochSeconds, systemClock } from "../clock.js";
import { JWT_SVID_ALGORITHMS, type JwtSvidAlgorithm } from "../crypto/algorithms.js";
import { importVerificationKey, UnusableKeyError, verifyJwsSignature } from "../crypto/jws-verify.js";
import { assertSoundJwk } from "../crypto/sound-key.js";
import { BridgeError } from "../errors.js";
import type { Signer } from "../ports/key-manager.js";
import { BundleSet, type JwtAuthority, type TrustBundle, type X509Authority } from "./bundle.js";
import { assertExpWithin, assertNoDuplicateMembers } from "./jwt-strict.js";
import { SpiffeId, type TrustDomain } from "./spiffe-id.js";
import { MAX_JWT_SVID_TTL_SECONDS } from "./svid-ttl.js";

export interface MintJwtSvidInput {
  spiffeId: SpiffeId;
  /** At least one; one narrowly scoped audience is what the spec recommends. */
  audience: readonly string[];
  ttlSeconds: number;
  signer: Signer;
  /** `iss`: the bridge's issuer URL, so OIDC relying parties (AWS IAM, GCP) accept it. */
  issuer?: string;
  /** Adds a random `jti` (SPIRE makes it optional per entry). */
  jti?: string;
  clock?: Clock;
}

export interface JwtSvid {
  token: string;
  spiffeId: SpiffeId;
  audience: string[];
  /** Seconds since the epoch. */
  expiresAt: number;
  issuedAt: number;
}

/** base64url of UTF-8 text or bytes: node's own encoder (JOSE's is made for every runtime). */
const b64url = (data: string | Uint8Array): string =>
  (typeof data === "string"
    ? Buffer.from(data, "utf8")
    : Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  ).toString("base64url");

/**
 * The encoded header depends on alg and kid alone: encode it once per key. (Signers are
 * made per request, so the cache is keyed by value; a handful of keys live at a time.)
 */
const encodedHeaders = new Map<string, string>();
function encodedHeader(signer: Signer): string {
  const key = `${signer.alg} ${signer.kid}`;
  let header = encodedHeaders.get(key);
  if (header === undefined) {
    header = b64url(JSON.stringify({ alg: signer.alg, kid: signer.kid, typ: "JWT" }));
    if (encodedHeaders.size >= 64) encodedHeaders.clear();
    encodedHeaders.set(key, header);
  }
  return header;
}

export async function mintJwtSvid(input: MintJwtSvidInput): Promise<JwtSvid> {
  if (input.audience.length === 0)
    throw new BridgeError("invalid_request", "a JWT-SVID needs at least one audience");
  if (input.audience.some((a) => typeof a !== "string" || a.length === 0))
    throw new BridgeError("invalid_request", "audiences must be non-empty strings");
  if (!Number.isSafeInteger(input.ttlSeconds) || input.ttlSeconds <= 0)
    throw new BridgeError("invalid_request", "ttlSeconds must be a positive integer");
  const iat = epochSeconds(input.clock ?? systemClock);
  const exp = iat + input.ttlSeconds;
  const payload: JWTPayload = {
    sub: input.spiffeId.toString(),
    aud: [...input.audience],
    exp,
    iat,
    ...(input.issuer !== undefined && { iss: input.issuer }),
    ...(input.jti !== undefined && { jti: input.jti }),
  };
  const signingInput = `${encodedHeader(input.signer)}.${b64url(JSON.stringify(payload))}`;
  const signature = await input.signer.sign(Buffer.from(signingInput, "utf8"));
  return {
    token: `${signingInput}.${b64url(signature)}`,
    spiffeId: input.spiffeId,
    audience: [...input.audience],
    expiresAt: exp,
    issuedAt: iat,
  };
}

export interface ValidateJwtSvidOptions {
  /** The validator's own audience; the token's `aud` must contain it. */
  audience: string;
  /** Bundles by trust domain; the key is looked up only in the bundle of `sub`'s domain. */
  bundles: BundleSet<X509Authority> | TrustBundle<X509Authority>;
  /** When set, `sub` must be in one of these trust domains. */
  trustDomains?: readonly TrustDomain[];
  /** Default: every algorithm JWT-SVID allows. */
  algorithms?: readonly JwtSvidAlgorithm[];
  /** Leeway for exp/nbf/iat, seconds. Default 60 (go-spiffe, SPIRE). */
  clockSkewSeconds?: number;
  /** When set, `iss` must equal it. */
  issuer?: string;
  /** `exp` may be at most this far ahead (plus skew). Default: the longest lifetime the bridge issues. */
  maxLifetimeSeconds?: number;
  clock?: Clock;
}

export interface ValidatedJwtSvid {
  spiffeId: SpiffeId;
  claims: JWTPayload;
  kid: string;
  alg: JwtSvidAlgorithm;
}

const ALLOWED_HEADER_PARAMS = new Set(["alg", "kid", "typ"]);
const BASE64URL = /^[A-Za-z0-9_-]*$/;

function bad(code: ConstructorParameters<typeof BridgeError>[0], message: string, cause?: unknown): never {
  throw new BridgeError(code, message, { cause });
}

interface DecodedJws {
  header: Record<string, unknown>;
  claims: JWTPayload;
  signingInput: Buffer;
  signature: Buffer;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Splits and decodes a compact JWS (RFC 7515 §7.1): strict base64url, JSON objects. */
function decodeCompact(token: unknown): DecodedJws {
  if (typeof token !== "string") bad("jwt_malformed", "a JWT-SVID must be a JWS in compact serialization");
  const parts = token.split(".");
  if (parts.length !== 3) bad("jwt_malformed", "a JWT-SVID must be a JWS in compact serialization");
  const [h, p, sig] = parts as [string, string, string];
  // An empty signature (alg "none") decodes, and is refused by the alg rule that follows.
  if (h === "" || p === "" || !BASE64URL.test(h) || !BASE64URL.test(p) || !BASE64URL.test(sig))
    bad("jwt_malformed", "the token is not three base64url segments");
  const headerJson = Buffer.from(h, "base64url").toString("utf8");
  const claimsJson = Buffer.from(p, "base64url").toString("utf8");
  let header: unknown;
  let claims: unknown;
  try {
    header = JSON.parse(headerJson);
    claims = JSON.parse(claimsJson);
  } catch (cause) {
    bad("jwt_malformed", "the token cannot be decoded", cause);
  }
  assertNoDuplicateMembers(headerJson, claimsJson); // as strict as the signer (issue 14, fault 6)
  if (!isObject(header) || !isObject(claims))
    bad("jwt_malformed", "the token's header and claims must be JSON objects");
  return {
    header,
    claims: claims as JWTPayload,
    signingInput: Buffer.from(`${h}.${p}`, "ascii"),
    signature: Buffer.from(sig, "base64url"),
  };
}

/** The header rules: the alg check first, before any key is looked at (RFC 8725 §3.1). */
function checkHeader(header: Record<string, unknown>, options: ValidateJwtSvidOptions) {
  const allowed = options.algorithms ?? JWT_SVID_ALGORITHMS;
  if (typeof header.alg !== "string" || !(allowed as readonly string[]).includes(header.alg))
    bad("jwt_alg_not_allowed", `algorithm ${JSON.stringify(header.alg)} is not allowed for JWT-SVIDs`);
  const alg = header.alg as JwtSvidAlgorithm;
  for (const name of Object.keys(header))
    if (!ALLOWED_HEADER_PARAMS.has(name))
      bad("jwt_header_invalid", `header parameter ${JSON.stringify(name)} is not allowed`);
  if (header.typ !== undefined && header.typ !== "JWT" && header.typ !== "JOSE")
    bad("jwt_header_invalid", `typ must be JWT or JOSE, not ${JSON.stringify(header.typ)}`);
  if (typeof header.kid !== "string" || header.kid === "") bad("jwt_kid_missing", "the token has no kid");
  return { alg, kid: header.kid };
}

/** `sub` is a SPIFFE ID in an expected trust domain; `aud` and `exp` are present. */
function checkSubject(claims: JWTPayload, options: ValidateJwtSvidOptions): SpiffeId {
  if (typeof claims.sub !== "string") bad("jwt_claims_invalid", "the token has no sub");
  const parsed = SpiffeId.tryParse(claims.sub);
  if (!parsed.ok) bad("jwt_claims_invalid", `sub is not a SPIFFE ID: ${parsed.error.message}`);
  const spiffeId = parsed.id;
  if (options.trustDomains && !options.trustDomains.some((td) => spiffeId.isMemberOf(td)))
    throw new BridgeError("trust_domain_mismatch", `sub ${spiffeId} is not in an expected trust domain`);
  if (claims.aud === undefined) bad("jwt_claims_invalid", "the token has no aud");
  if (claims.exp === undefined) bad("jwt_claims_invalid", "the token has no exp");
  return spiffeId;
}

/** The key that must have signed: `kid` in the bundle of `sub`'s trust domain, fit for `alg`. */
function authorityKey(
  options: ValidateJwtSvidOptions,
  spiffeId: SpiffeId,
  kid: string,
  alg: JwtSvidAlgorithm,
) {
  const bundles = options.bundles instanceof BundleSet ? options.bundles : new BundleSet([options.bundles]);
  const bundle = bundles.get(spiffeId.trustDomain);
  if (!bundle) bad("jwt_kid_unknown", `no bundle for trust domain ${spiffeId.trustDomain}`);
  const authority = bundle.findJwtAuthority(kid);
  if (!authority) bad("jwt_kid_unknown", `kid ${kid} is not in the bundle of ${spiffeId.trustDomain}`);
  if (authority.alg !== undefined && authority.alg !== alg)
    bad("jwt_alg_not_allowed", `kid ${kid} is published for ${authority.alg}, the token says ${alg}`);
  const keyType = alg.startsWith("ES") ? "EC" : "RSA";
  if (authority.jwk.kty !== keyType)
    bad("jwt_alg_not_allowed", `algorithm ${alg} does not fit a ${authority.jwk.kty} key`);
  try {
    return importedKey(authority, alg);
  } catch (cause) {
    if (cause instanceof UnusableKeyError) bad("jwt_alg_not_allowed", `kid ${kid}: ${cause.message}`, cause);
    throw cause;
  }
}

/**
 * The registered claims, with jose's semantics (RFC 7519 §4.1): `iss` when asked, `aud`
 * containing the validator's audience, numeric `iat`/`nbf`/`exp`, `nbf` not ahead and
 * `exp` not behind by more than the skew; and, as go-jose and SPIRE do, no future `iat`.
 */
function checkClaims(claims: JWTPayload, options: ValidateJwtSvidOptions, now: number, skew: number): void {
  if (options.issuer !== undefined && claims.iss !== options.issuer)
    bad("jwt_claims_invalid", "claim iss is invalid: unexpected issuer");
  // No exp further ahead than the longest lifetime the bridge issues (issue 14, fault 6).
  assertExpWithin(claims.exp, now, options.maxLifetimeSeconds ?? MAX_JWT_SVID_TTL_SECONDS, skew);
  const aud = claims.aud;
  const audiences = typeof aud === "string" ? [aud] : Array.isArray(aud) ? aud : [];
  if (!audiences.includes(options.audience))
    bad("jwt_audience_mismatch", "the token is not for this audience");
  for (const name of ["iat", "nbf", "exp"] as const)
    if (claims[name] !== undefined && typeof claims[name] !== "number")
      bad(name === "exp" ? "jwt_claims_invalid" : "jwt_not_yet_valid", `claim ${name} must be a number`);
  if (claims.nbf !== undefined && claims.nbf > now + skew)
    bad("jwt_not_yet_valid", "the token is not yet valid");
  if ((claims.exp as number) <= now - skew) bad("jwt_expired", "the token has expired");
  if (claims.iat !== undefined && claims.iat > now + skew) bad("jwt_not_yet_valid", "iat is in the future");
}

/**
 * Validates a JWT-SVID (JWT-SVID.md §4): alg allow-listed before anything else, only
 * alg/kid/typ in the header, `sub` a SPIFFE ID of an expected trust domain, the key found
 * by `kid` in that domain's bundle and fit for `alg`, the signature (node:crypto,
 * synchronous), then the claims. Every refusal is a 401 BridgeError with a `jwt_*` code
 * (or `trust_domain_mismatch`).
 */
export async function validateJwtSvid(
  token: string,
  options: ValidateJwtSvidOptions,
): Promise<ValidatedJwtSvid> {
  const jws = decodeCompact(token);
  const { alg, kid } = checkHeader(jws.header, options);
  const spiffeId = checkSubject(jws.claims, options);
  const key = authorityKey(options, spiffeId, kid, alg);
  if (!verifyJwsSignature(alg, key, jws.signingInput, jws.signature))
    bad("jwt_signature_invalid", "the token's signature does not verify");
  const clock = options.clock ?? systemClock;
  checkClaims(jws.claims, options, epochSeconds(clock), options.clockSkewSeconds ?? 60);
  return { spiffeId, claims: jws.claims, kid, alg };
}

// Importing a JWK builds a KeyObject (an ASN.1 round trip): once per key of a key set,
// kept as long as the bundle that holds the authority.
const importedKeys = new WeakMap<JwtAuthority, Map<JwtSvidAlgorithm, KeyObject>>();
function importedKey(authority: JwtAuthority, alg: JwtSvidAlgorithm): KeyObject {
  let byAlg = importedKeys.get(authority);
  if (!byAlg) {
    byAlg = new Map();
    importedKeys.set(authority, byAlg);
  }
  let key = byAlg.get(alg);
  if (!key) {
    // A JWKS a relying party fetched is outside input too (issue 14, fault 2).
    assertSoundJwk(authority.jwk, "jwt_key_unsupported", `kid ${authority.kid}: `);
    key = importVerificationKey(authority.jwk as JsonWebKey, alg);
    byAlg.set(alg, key);
  }
  return key;
}
