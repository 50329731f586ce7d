/**
 * KeyManager: the port behind every signature the bridge makes (JWT-SVIDs, X.509
 * leaves, the intermediate CA's CSR). Adapters: InMemoryKeyManager (dev, tests),
 * KmsKeyManager (a KMS key per signing key), KmsWrappedKeyManager (a KMS-made key
 * pair decrypted once per sandbox).
 */
import type { JWK } from "jose";
import type { SigningAlgorithm } from "../crypto/algorithms.js";

export interface PublicKeyInfo {
  /** The adapter's own handle for the key (KMS key ARN, or a local id). Never published. */
  keyId: string;
  alg: SigningAlgorithm;
  /** Public key as a JWK (kty and its parameters only). */
  jwk: JWK;
  /** DER SubjectPublicKeyInfo. */
  spki: Uint8Array;
  /** RFC 7638 thumbprint of the public key: what the bridge publishes as `kid`. */
  thumbprint: string;
}

export interface CreateKeyOptions {
  /** Free text the adapter may attach (KMS description, tags). */
  description?: string;
}

export interface KeyManager {
  createKey(alg: SigningAlgorithm, options?: CreateKeyOptions): Promise<PublicKeyInfo>;
  getPublicKey(keyId: string): Promise<PublicKeyInfo>;
  /**
   * Signs `data` (the adapter hashes it with the algorithm's hash). ECDSA signatures
   * come back in raw R||S form (JOSE, WebCrypto), never DER.
   */
  sign(keyId: string, data: Uint8Array): Promise<Uint8Array>;
  /**
   * Optional (added for rotation): schedules the key's deletion (KMS: ScheduleKeyDeletion,
   * with its 7–30 day waiting period) once no published document and no live token needs
   * it. Must be idempotent: the rotation may call it again for a key already scheduled or
   * already gone. Adapters without it simply keep retired keys.
   */
  scheduleDeletion?(keyId: string): Promise<void>;
}

/** A key bound to its manager: what the JWT minter and the certificate builder take. */
export interface Signer {
  readonly alg: SigningAlgorithm;
  /** Published key id (`kid`). */
  readonly kid: string;
  readonly spki: Uint8Array;
  sign(data: Uint8Array): Promise<Uint8Array>;
}

export async function signerFor(keys: KeyManager, keyId: string): Promise<Signer> {
  const info = await keys.getPublicKey(keyId);
  return {
    alg: info.alg,
    kid: info.thumbprint,
    spki: info.spki,
    sign: (data) => keys.sign(keyId, data),
  };
}
