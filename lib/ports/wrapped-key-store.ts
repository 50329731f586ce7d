/**
 * WrappedKeyStore: where kms-wrapped signing keys live at rest. A record holds the
 * private key only as KMS ciphertext (it decrypts under the KMS key named in the record,
 * with the record's key id as encryption context), so the store itself holds no secret.
 * Adapters: InMemoryWrappedKeyStore (tests, dev); the key-set table in DynamoDB, kept
 * by the rotation Lambda, in AWS.
 */
import type { SigningAlgorithm } from "../crypto/algorithms.js";

export interface WrappedKeyRecord {
  /** The bridge's handle for the key (what KeyManager calls keyId). */
  keyId: string;
  alg: SigningAlgorithm;
  /** ARN of the symmetric KMS key that wraps the private key. */
  kmsKeyId: string;
  /** base64 of the KMS ciphertext of the PKCS #8 DER private key. */
  encryptedPrivateKey: string;
  /** base64 of the DER SubjectPublicKeyInfo. */
  publicKeySpki: string;
  /** Seconds since the epoch. */
  createdAt: number;
}

export interface WrappedKeyStore {
  /** Stores a new record; a record with the same keyId must not be overwritten. */
  put(record: WrappedKeyRecord): Promise<void>;
  get(keyId: string): Promise<WrappedKeyRecord | undefined>;
}
