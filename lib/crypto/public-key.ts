/**
 * Public-key conversions every KeyManager adapter needs: DER SPKI → JWK → RFC 7638
 * thumbprint, and the check that a key's type fits the algorithm it claims.
 */
import { createPublicKey, type KeyObject } from "node:crypto";
import { calculateJwkThumbprint, exportJWK, type JWK } from "jose";
import { BridgeError } from "../errors.js";
import type { PublicKeyInfo } from "../ports/key-manager.js";
import { algorithmProfile, type SigningAlgorithm } from "./algorithms.js";

/** Only the public parameters of a JWK, in a stable order. */
export function publicJwk(jwk: JWK): JWK {
  if (jwk.kty === "RSA") return { kty: "RSA", n: jwk.n, e: jwk.e };
  if (jwk.kty === "EC") return { kty: "EC", crv: jwk.crv, x: jwk.x, y: jwk.y };
  throw new BridgeError("unsupported_key", `unsupported key type ${String(jwk.kty)}`);
}

export function assertKeyFitsAlgorithm(key: KeyObject, alg: SigningAlgorithm): void {
  const profile = algorithmProfile(alg);
  const type = key.asymmetricKeyType;
  if (profile.kty === "RSA") {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (type !== "rsa" || bits < 2048)
      throw new BridgeError("unsupported_key", `${alg} needs an RSA key of at least 2048 bits`);
    return;
  }
  const curve = key.asymmetricKeyDetails?.namedCurve;
  const want = profile.crv === "P-256" ? "prime256v1" : "secp384r1";
  if (type !== "ec" || curve !== want)
    throw new BridgeError("unsupported_key", `${alg} needs an EC ${profile.crv} key`);
}

export async function publicKeyInfoFromSpki(
  keyId: string,
  alg: SigningAlgorithm,
  spki: Uint8Array,
): Promise<PublicKeyInfo> {
  const key = createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" });
  assertKeyFitsAlgorithm(key, alg);
  const jwk = publicJwk(await exportJWK(key));
  return {
    keyId,
    alg,
    jwk,
    spki: new Uint8Array(spki),
    thumbprint: await calculateJwkThumbprint(jwk, "sha256"),
  };
}
