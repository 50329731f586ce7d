/**
 * JWT-SVIDs (JWT-SVID.md): minted through a Signer port (the key may live in KMS, so
 * jose cannot hold it: we build the signing input, sign through the port and assemble
 * the compact JWS), validated with jose against a trust bundle.
 */

import {
  decodeJwt,
  decodeProtectedHeader,
  importJWK,
  type JWTPayload,
  errors as joseErrors,
  jwtVerify,
} from "jose";
import { type Clock, epochSeconds, systemClock } from "../clock.js";
import { JWT_SVID_ALGORITHMS, type JwtSvidAlgorithm } from "../crypto/algorithms.js";
import { assertSoundJwk } from "../crypto/sound-key.js";
import { BridgeError } from "../errors.js";
import type { Signer } from "../ports/key-manager.js";
import { BundleSet, type JwtAuthority, type TrustBundle } from "./bundle.js";
import { assertExpWithin, assertNoDuplicateMembers, MAX_JWT_SVID_TTL_SECONDS } from "./jwt-strict.js";
import { SpiffeId, type TrustDomain } from "./spiffe-id.js";

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
  bundles: BundleSet | TrustBundle;
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

function bad(code: ConstructorParameters<typeof BridgeError>[0], message: string, cause?: unknown): never {
  throw new BridgeError(code, message, { status: 401, cause });
}

export async function validateJwtSvid(
  token: string,
  options: ValidateJwtSvidOptions,
): Promise<ValidatedJwtSvid> {
  if (typeof token !== "string" || token.split(".").length !== 3)
    bad("jwt_malformed", "a JWT-SVID must be a JWS in compact serialization");
  let header: ReturnType<typeof decodeProtectedHeader>;
  let claims: JWTPayload;
  try {
    header = decodeProtectedHeader(token);
    claims = decodeJwt(token);
  } catch (cause) {
    bad("jwt_malformed", "the token cannot be decoded", cause);
  }
  assertNoDuplicateMembers(token); // as strict as the signer (issue 14, fault 6)
  const allowed = options.algorithms ?? JWT_SVID_ALGORITHMS;
  // The alg check comes first, before any key is looked at (RFC 8725 §3.1).
  if (typeof header.alg !== "string" || !(allowed as readonly string[]).includes(header.alg))
    bad("jwt_alg_not_allowed", `algorithm ${JSON.stringify(header.alg)} is not allowed for JWT-SVIDs`);
  const alg = header.alg as JwtSvidAlgorithm;
  for (const name of Object.keys(header))
    if (!ALLOWED_HEADER_PARAMS.has(name))
      bad("jwt_header_invalid", `header parameter ${JSON.stringify(name)} is not allowed`);
  if (header.typ !== undefined && header.typ !== "JWT" && header.typ !== "JOSE")
    bad("jwt_header_invalid", `typ must be JWT or JOSE, not ${JSON.stringify(header.typ)}`);
  if (typeof header.kid !== "string" || header.kid === "") bad("jwt_kid_missing", "the token has no kid");

  if (typeof claims.sub !== "string") bad("jwt_claims_invalid", "the token has no sub");
  const parsed = SpiffeId.tryParse(claims.sub);
  if (!parsed.ok) bad("jwt_claims_invalid", `sub is not a SPIFFE ID: ${parsed.error.message}`);
  const spiffeId = parsed.id;
  if (options.trustDomains && !options.trustDomains.some((td) => spiffeId.isMemberOf(td)))
    throw new BridgeError("trust_domain_mismatch", `sub ${spiffeId} is not in an expected trust domain`, {
      status: 401,
    });
  if (claims.aud === undefined) bad("jwt_claims_invalid", "the token has no aud");
  if (claims.exp === undefined) bad("jwt_claims_invalid", "the token has no exp");

  const bundles = options.bundles instanceof BundleSet ? options.bundles : new BundleSet([options.bundles]);
  const bundle = bundles.get(spiffeId.trustDomain);
  if (!bundle) bad("jwt_kid_unknown", `no bundle for trust domain ${spiffeId.trustDomain}`);
  const authority = bundle.findJwtAuthority(header.kid);
  if (!authority) bad("jwt_kid_unknown", `kid ${header.kid} is not in the bundle of ${spiffeId.trustDomain}`);
  if (authority.alg !== undefined && authority.alg !== alg)
    bad("jwt_alg_not_allowed", `kid ${header.kid} is published for ${authority.alg}, the token says ${alg}`);
  const keyType = alg.startsWith("ES") ? "EC" : "RSA";
  if (authority.jwk.kty !== keyType)
    bad("jwt_alg_not_allowed", `algorithm ${alg} does not fit a ${authority.jwk.kty} key`);

  const clock = options.clock ?? systemClock;
  const skew = options.clockSkewSeconds ?? 60;
  assertExpWithin(
    claims.exp,
    epochSeconds(clock),
    options.maxLifetimeSeconds ?? MAX_JWT_SVID_TTL_SECONDS,
    skew,
  );
  try {
    const key = await importedKey(authority, alg);
    await jwtVerify(token, key, {
      algorithms: [alg],
      audience: options.audience,
      clockTolerance: skew,
      currentDate: new Date(clock.now()),
      requiredClaims: ["sub", "aud", "exp"],
      ...(options.issuer !== undefined && { issuer: options.issuer }),
    });
  } catch (cause) {
    throw mapJoseError(cause);
  }
  // go-jose (and so SPIRE) refuses an iat in the future; jose only checks it with maxTokenAge.
  if (typeof claims.iat === "number" && claims.iat > epochSeconds(clock) + skew)
    bad("jwt_not_yet_valid", "iat is in the future");
  return { spiffeId, claims, kid: header.kid, alg };
}

// Importing a JWK builds a KeyObject (an ASN.1 round trip): do it once per authority.
const importedKeys = new WeakMap<JwtAuthority, Map<string, Promise<unknown>>>();
function importedKey(authority: JwtAuthority, alg: JwtSvidAlgorithm) {
  let byAlg = importedKeys.get(authority);
  if (!byAlg) {
    byAlg = new Map();
    importedKeys.set(authority, byAlg);
  }
  let key = byAlg.get(alg);
  if (!key) {
    // A JWKS a relying party fetched is outside input too (issue 14, fault 2).
    assertSoundJwk(authority.jwk, "unsupported_key", { status: 401, prefix: `kid ${authority.kid}: ` });
    key = importJWK(authority.jwk, alg);
    byAlg.set(alg, key);
  }
  return key as ReturnType<typeof importJWK>;
}

function mapJoseError(cause: unknown): BridgeError {
  if (cause instanceof BridgeError) return cause;
  const opts = { status: 401, cause };
  if (cause instanceof joseErrors.JWTExpired)
    return new BridgeError("jwt_expired", "the token has expired", opts);
  if (cause instanceof joseErrors.JWTClaimValidationFailed) {
    if (cause.claim === "aud")
      return new BridgeError("jwt_audience_mismatch", "the token is not for this audience", opts);
    if (cause.claim === "nbf" || cause.claim === "iat")
      return new BridgeError("jwt_not_yet_valid", "the token is not yet valid", opts);
    return new BridgeError("jwt_claims_invalid", `claim ${cause.claim} is invalid: ${cause.reason}`, opts);
  }
  if (cause instanceof joseErrors.JWSSignatureVerificationFailed)
    return new BridgeError("jwt_signature_invalid", "the token's signature does not verify", opts);
  if (cause instanceof joseErrors.JOSEAlgNotAllowed)
    return new BridgeError("jwt_alg_not_allowed", "the token's algorithm is not allowed", opts);
  if (cause instanceof joseErrors.JOSEError)
    return new BridgeError("jwt_malformed", `the token is invalid: ${cause.message}`, opts);
  return new BridgeError("jwt_malformed", "the token is invalid", opts);
}
