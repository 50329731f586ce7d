/**
 * The signature half of a compact JWS (RFC 7515 §5.2, algorithms of RFC 7518 §3),
 * verified synchronously with node:crypto. jose 6 verifies through WebCrypto, whose
 * asynchronous job cost three to eight times the verification itself; the key checks
 * jose makes on import (RSA modulus ≥ 2048 bits, the curve the algorithm names) are
 * made here, once per key.
 */
import { constants, createPublicKey, type JsonWebKey, type KeyObject, verify } from "node:crypto";
import type { JwtSvidAlgorithm } from "./algorithms.js";

interface Profile {
  hash: "sha256" | "sha384" | "sha512";
  kty: "RSA" | "EC";
  /** node:crypto's name for the curve an ES algorithm requires. */
  curve?: "prime256v1" | "secp384r1" | "secp521r1";
  pss?: boolean;
}

const PROFILES: Record<JwtSvidAlgorithm, Profile> = {
  RS256: { hash: "sha256", kty: "RSA" },
  RS384: { hash: "sha384", kty: "RSA" },
  RS512: { hash: "sha512", kty: "RSA" },
  PS256: { hash: "sha256", kty: "RSA", pss: true },
  PS384: { hash: "sha384", kty: "RSA", pss: true },
  PS512: { hash: "sha512", kty: "RSA", pss: true },
  ES256: { hash: "sha256", kty: "EC", curve: "prime256v1" },
  ES384: { hash: "sha384", kty: "EC", curve: "secp384r1" },
  ES512: { hash: "sha512", kty: "EC", curve: "secp521r1" },
};

const SALT_LENGTH = { sha256: 32, sha384: 48, sha512: 64 } as const;
const MIN_RSA_BITS = 2048;

/** Why a key cannot verify an algorithm. */
export class UnusableKeyError extends Error {}

/**
 * Imports a public JWK for `alg`. Throws UnusableKeyError when the key does not parse,
 * is not the algorithm's type, names another curve, or is an RSA key under 2048 bits.
 */
export function importVerificationKey(jwk: JsonWebKey, alg: JwtSvidAlgorithm): KeyObject {
  const profile = PROFILES[alg];
  let key: KeyObject;
  try {
    const { kty, n, e, crv, x, y } = jwk;
    key = createPublicKey({ key: { kty, n, e, crv, x, y } as JsonWebKey, format: "jwk" });
  } catch (cause) {
    throw new UnusableKeyError("the key does not parse as a public JWK", { cause });
  }
  if (key.asymmetricKeyType !== profile.kty.toLowerCase())
    throw new UnusableKeyError(`${alg} needs an ${profile.kty} key`);
  const details = key.asymmetricKeyDetails ?? {};
  if (profile.curve && details.namedCurve !== profile.curve)
    throw new UnusableKeyError(`${alg} needs the curve ${profile.curve}, not ${details.namedCurve}`);
  if (profile.kty === "RSA" && (details.modulusLength ?? 0) < MIN_RSA_BITS)
    throw new UnusableKeyError(`${alg} needs an RSA key of at least ${MIN_RSA_BITS} bits`);
  return key;
}

/**
 * True when `signature` (as the JWS carries it: R||S for ECDSA) is `alg`'s signature of
 * `signingInput` under `key`. A signature of the wrong length is false, not an error.
 */
export function verifyJwsSignature(
  alg: JwtSvidAlgorithm,
  key: KeyObject,
  signingInput: Uint8Array,
  signature: Uint8Array,
): boolean {
  const profile = PROFILES[alg];
  try {
    if (profile.kty === "EC")
      return verify(profile.hash, signingInput, { key, dsaEncoding: "ieee-p1363" }, signature);
    if (profile.pss)
      return verify(
        profile.hash,
        signingInput,
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: SALT_LENGTH[profile.hash] },
        signature,
      );
    return verify(profile.hash, signingInput, key, signature);
  } catch {
    return false;
  }
}
