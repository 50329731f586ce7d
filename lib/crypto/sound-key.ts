/**
 * The one rule for a public key that comes from outside (a CSR at the exchange, a JWK or
 * x5c certificate in a SPIFFE bundle or JWKS): only sound keys (issue 14, fault 2: an RSA
 * key with e = 1 was certified, and with e = 1 anyone forges its signatures).
 *
 *   RSA  exponent exactly 65537 (F4, what every current library generates; NIST SP 800-56B
 *        allows other odd values but nothing we serve needs them), modulus 2048–8192 bits;
 *        RSA-PSS-restricted keys are refused (X.509-SVID and JWT-SVID use rsaEncryption).
 *   EC   named curve P-256 or P-384 (SEC 1 §2.3.3 / FIPS 186-5), the point's coordinates
 *        below the field prime and on the curve (y² = x³ − 3x + b mod p). OpenSSL checks
 *        this too when it reads the key; the check here does not depend on that.
 *
 * Everything else (P-521, P-192, Ed25519, DSA, DH…) is refused. Refusals throw
 * BridgeError with the caller's code (unsupported_key for a CSR, bundle_malformed for a
 * bundle) and a message naming the rule.
 */
import { createPublicKey, type JsonWebKey, type KeyObject } from "node:crypto";
import { BridgeError, type ErrorCode } from "../errors.js";

export const RSA_EXPONENT = 65537n;
export const RSA_MIN_BITS = 2048;
export const RSA_MAX_BITS = 8192;

export type SoundKeyKind = "ec-p256" | "ec-p384" | `rsa-${number}`;

interface Curve {
  kind: "ec-p256" | "ec-p384";
  p: bigint;
  b: bigint;
  bytes: number;
}

// FIPS 186-5 §3.2.1.3 and §3.2.1.4 (a = −3 for both).
const CURVES: Record<string, Curve> = {
  prime256v1: {
    kind: "ec-p256",
    p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
    b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
    bytes: 32,
  },
  secp384r1: {
    kind: "ec-p384",
    p: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn,
    b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
    bytes: 48,
  },
};

const bigintOf = (b64url: string | undefined): bigint =>
  BigInt(`0x${Buffer.from(b64url ?? "", "base64url").toString("hex") || "0"}`);

function onCurve(curve: Curve, jwk: JsonWebKey): boolean {
  const x = bigintOf(jwk.x);
  const y = bigintOf(jwk.y);
  const { p, b } = curve;
  if (x >= p || y >= p) return false;
  const left = (y * y) % p;
  const right = (((x * x) % p) * x - 3n * x + b) % p;
  return left === (right + p) % p;
}

/**
 * Checks a public key (a KeyObject, or DER SubjectPublicKeyInfo) against the rule above.
 * @returns its kind, e.g. "ec-p256" or "rsa-2048".
 * @throws BridgeError(code) naming what is wrong.
 */
export function assertSoundPublicKey(
  input: KeyObject | Uint8Array,
  code: ErrorCode = "unsupported_key",
  prefix = "",
): SoundKeyKind {
  const refuse = (message: string): never => {
    throw new BridgeError(code, `${prefix}${message}`);
  };
  let key: KeyObject;
  try {
    key =
      input instanceof Uint8Array
        ? createPublicKey({ key: Buffer.from(input), format: "der", type: "spki" })
        : input;
  } catch (cause) {
    throw new BridgeError(code, `${prefix}the public key cannot be read`, { cause });
  }
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === "rsa") {
    const bits = details.modulusLength ?? 0;
    if (bits < RSA_MIN_BITS) refuse(`RSA keys need at least ${RSA_MIN_BITS} bits, this one has ${bits}`);
    if (bits > RSA_MAX_BITS) refuse(`RSA keys above ${RSA_MAX_BITS} bits are not accepted`);
    if (details.publicExponent !== RSA_EXPONENT)
      refuse(`RSA keys must have public exponent 65537, this one has ${String(details.publicExponent)}`);
    return `rsa-${bits}`;
  }
  if (key.asymmetricKeyType === "ec") {
    const curve = CURVES[details.namedCurve ?? ""];
    if (!curve) return refuse(`EC curve ${details.namedCurve} is not accepted; use P-256 or P-384`);
    if (!onCurve(curve, key.export({ format: "jwk" })))
      refuse("the EC public key is not a point on its curve");
    return curve.kind;
  }
  return refuse(`key type ${key.asymmetricKeyType} is not accepted; use EC P-256/P-384 or RSA`);
}

/** The same rule for a JWK (public members only are read). */
export function assertSoundJwk(jwk: object, code: ErrorCode, prefix = ""): SoundKeyKind {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: jwk as JsonWebKey, format: "jwk" });
  } catch (cause) {
    throw new BridgeError(code, `${prefix}not a valid public JWK`, { cause });
  }
  return assertSoundPublicKey(key, code, prefix);
}
