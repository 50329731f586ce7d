/**
 * KeyManager with keys in process memory: `svid-bridge dev`, tests and benchmarks.
 * Same contract as the KMS adapter: sign() hashes, ECDSA comes back raw (R||S).
 */
import { generateKeyPairSync, type KeyObject, randomUUID, sign } from "node:crypto";
import { algorithmProfile, type SigningAlgorithm } from "../crypto/algorithms.js";
import { publicKeyInfoFromSpki } from "../crypto/public-key.js";
import { BridgeError } from "../errors.js";
import type { CreateKeyOptions, KeyManager, PublicKeyInfo } from "../ports/key-manager.js";

interface LocalKey {
  info: PublicKeyInfo;
  privateKey: KeyObject;
}

export class InMemoryKeyManager implements KeyManager {
  readonly #keys = new Map<string, LocalKey>();

  async createKey(alg: SigningAlgorithm, _options?: CreateKeyOptions): Promise<PublicKeyInfo> {
    const profile = algorithmProfile(alg);
    const pair =
      profile.kty === "RSA"
        ? generateKeyPairSync("rsa", { modulusLength: 2048 })
        : generateKeyPairSync("ec", { namedCurve: profile.crv === "P-256" ? "prime256v1" : "secp384r1" });
    return this.#add(alg, pair.privateKey, pair.publicKey);
  }

  /** Adopts an existing private key (e.g. one decrypted from a KMS-wrapped record). */
  async importKey(
    alg: SigningAlgorithm,
    privateKey: KeyObject,
    keyId: string = randomUUID(),
  ): Promise<PublicKeyInfo> {
    const { createPublicKey } = await import("node:crypto");
    return this.#add(alg, privateKey, createPublicKey(privateKey), keyId);
  }

  async getPublicKey(keyId: string): Promise<PublicKeyInfo> {
    return this.#get(keyId).info;
  }

  async sign(keyId: string, data: Uint8Array): Promise<Uint8Array> {
    const key = this.#get(keyId);
    const profile = algorithmProfile(key.info.alg);
    return sign(profile.hash, data, { key: key.privateKey, dsaEncoding: "ieee-p1363" });
  }

  async #add(
    alg: SigningAlgorithm,
    privateKey: KeyObject,
    publicKey: KeyObject,
    keyId: string = randomUUID(),
  ) {
    const spki = publicKey.export({ format: "der", type: "spki" });
    const info = await publicKeyInfoFromSpki(keyId, alg, spki);
    this.#keys.set(keyId, { info, privateKey });
    return info;
  }

  #get(keyId: string): LocalKey {
    const key = this.#keys.get(keyId);
    if (!key) throw new BridgeError("key_not_found", `no key ${keyId} in the local key manager`);
    return key;
  }
}
