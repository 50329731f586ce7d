/**
 * KeyManager, kms-wrapped mode: a software key pair made by KMS GenerateDataKeyPair,
 * kept at rest only as KMS ciphertext in a WrappedKeyStore, decrypted with one KMS
 * Decrypt per key per sandbox and then used locally with node:crypto.
 *
 * Trade-off (README, "Keys (KMS)"): sub-millisecond signing and one KMS request per cold
 * start instead of one per SVID, against the private key living in Lambda memory for
 * the sandbox's life (as SPIRE's default key manager keeps it in the server's). KMS still
 * gates every use: no kms:Decrypt permission, no signing.
 *
 * The ciphertext is bound to its record: the encryption context carries the record's
 * keyId, and the decrypted key must match the record's public key, so a record whose
 * ciphertext was swapped for another key's does not decrypt or is refused.
 */
import { createPrivateKey, createPublicKey, type KeyObject, randomUUID, sign } from "node:crypto";
import {
  DecryptCommand,
  GenerateDataKeyPairCommand,
  type GenerateDataKeyPairCommandOutput,
  type KMSClient,
} from "@aws-sdk/client-kms";
import { type Clock, epochSeconds, systemClock } from "../clock.js";
import { algorithmProfile, type SigningAlgorithm } from "../crypto/algorithms.js";
import { publicKeyInfoFromSpki } from "../crypto/public-key.js";
import { BridgeError } from "../errors.js";
import type { CreateKeyOptions, KeyManager, PublicKeyInfo } from "../ports/key-manager.js";
import type { WrappedKeyRecord, WrappedKeyStore } from "../ports/wrapped-key-store.js";
import { kmsError } from "./kms-errors.js";

/** Encryption-context key binding a ciphertext to its record's keyId. */
export const WRAPPED_KEY_CONTEXT = "svid-bridge:wrapped-key-id";

const KEY_PAIR_SPECS = {
  ES256: "ECC_NIST_P256",
  ES384: "ECC_NIST_P384",
  RS256: "RSA_2048",
} as const satisfies Record<SigningAlgorithm, string>;

export interface KmsWrappedKeyManagerInit {
  client: KMSClient;
  /** The symmetric (ENCRYPT_DECRYPT) KMS key that wraps new key pairs. */
  wrappingKeyId: string;
  store: WrappedKeyStore;
  clock?: Clock;
}

interface UnwrappedKey {
  info: PublicKeyInfo;
  privateKey: KeyObject;
}

export class KmsWrappedKeyManager implements KeyManager {
  readonly #client: KMSClient;
  readonly #wrappingKeyId: string;
  readonly #store: WrappedKeyStore;
  readonly #clock: Clock;
  readonly #publicKeys = new Map<string, Promise<PublicKeyInfo>>();
  /** One Decrypt per key per sandbox; concurrent first signers share the same promise. */
  readonly #unwrapped = new Map<string, Promise<UnwrappedKey>>();

  constructor(init: KmsWrappedKeyManagerInit) {
    this.#client = init.client;
    this.#wrappingKeyId = init.wrappingKeyId;
    this.#store = init.store;
    this.#clock = init.clock ?? systemClock;
  }

  /** Makes and stores a new key pair (ES256 by default); the creator holds it unwrapped already. */
  async createKey(alg: SigningAlgorithm = "ES256", _options?: CreateKeyOptions): Promise<PublicKeyInfo> {
    const { record, privateKey } = await this.#generate(alg);
    await this.#store.put(record);
    const info = await publicKeyInfoFromSpki(record.keyId, alg, Buffer.from(record.publicKeySpki, "base64"));
    this.#publicKeys.set(record.keyId, Promise.resolve(info));
    this.#unwrapped.set(record.keyId, Promise.resolve({ info, privateKey }));
    return info;
  }

  /** The public half comes from the record: publishing a JWKS needs no kms:Decrypt. */
  getPublicKey(keyId: string): Promise<PublicKeyInfo> {
    return memoise(this.#publicKeys, keyId, async () => {
      const record = await this.#record(keyId);
      return publicKeyInfoFromSpki(keyId, record.alg, Buffer.from(record.publicKeySpki, "base64"));
    });
  }

  async sign(keyId: string, data: Uint8Array): Promise<Uint8Array> {
    const key = await memoise(this.#unwrapped, keyId, () => this.#unwrap(keyId));
    return sign(algorithmProfile(key.info.alg).hash, data, {
      key: key.privateKey,
      dsaEncoding: "ieee-p1363",
    });
  }

  async #generate(alg: SigningAlgorithm): Promise<{ record: WrappedKeyRecord; privateKey: KeyObject }> {
    const spec = KEY_PAIR_SPECS[alg];
    if (!spec) throw new BridgeError("config_invalid", `kms-wrapped keys cannot be ${String(alg)}`);
    const keyId = randomUUID();
    let out: GenerateDataKeyPairCommandOutput;
    try {
      out = await this.#client.send(
        new GenerateDataKeyPairCommand({
          KeyId: this.#wrappingKeyId,
          KeyPairSpec: spec,
          EncryptionContext: { [WRAPPED_KEY_CONTEXT]: keyId },
        }),
      );
    } catch (cause) {
      throw kmsError("GenerateDataKeyPair", this.#wrappingKeyId, cause);
    }
    if (!out.PrivateKeyCiphertextBlob || !out.PrivateKeyPlaintext || !out.PublicKey || !out.KeyId)
      throw new BridgeError("key_unavailable", "KMS GenerateDataKeyPair answered without a key pair");
    const privateKey = createPrivateKey({
      key: Buffer.from(out.PrivateKeyPlaintext),
      format: "der",
      type: "pkcs8",
    });
    out.PrivateKeyPlaintext.fill(0);
    return {
      privateKey,
      record: {
        keyId,
        alg,
        kmsKeyId: out.KeyId,
        encryptedPrivateKey: Buffer.from(out.PrivateKeyCiphertextBlob).toString("base64"),
        publicKeySpki: Buffer.from(out.PublicKey).toString("base64"),
        createdAt: epochSeconds(this.#clock),
      },
    };
  }

  async #unwrap(keyId: string): Promise<UnwrappedKey> {
    const record = await this.#record(keyId);
    const info = await this.getPublicKey(keyId);
    let plaintext: Uint8Array | undefined;
    try {
      const out = await this.#client.send(
        new DecryptCommand({
          CiphertextBlob: Buffer.from(record.encryptedPrivateKey, "base64"),
          KeyId: record.kmsKeyId,
          EncryptionContext: { [WRAPPED_KEY_CONTEXT]: keyId },
        }),
      );
      plaintext = out.Plaintext;
    } catch (cause) {
      throw kmsError("Decrypt", record.kmsKeyId, cause);
    }
    if (!plaintext) throw new BridgeError("key_unavailable", "KMS Decrypt answered without plaintext");
    let privateKey: KeyObject;
    try {
      privateKey = createPrivateKey({ key: Buffer.from(plaintext), format: "der", type: "pkcs8" });
    } catch (cause) {
      throw new BridgeError("key_unavailable", `wrapped key ${keyId} is not a PKCS #8 private key`, {
        cause,
      });
    } finally {
      plaintext.fill(0);
    }
    const derived = createPublicKey(privateKey).export({ format: "der", type: "spki" });
    if (!derived.equals(Buffer.from(info.spki)))
      throw new BridgeError("key_unavailable", `wrapped key ${keyId} does not match its record's public key`);
    return { info, privateKey };
  }

  async #record(keyId: string): Promise<WrappedKeyRecord> {
    const record = await this.#store.get(keyId);
    if (!record) throw new BridgeError("key_not_found", `no wrapped key ${keyId}`);
    return record;
  }
}

/** Caches a promise per key; a rejected one is dropped so the next caller retries. */
function memoise<T>(cache: Map<string, Promise<T>>, key: string, make: () => Promise<T>): Promise<T> {
  let value = cache.get(key);
  if (!value) {
    value = make();
    cache.set(key, value);
    value.catch(() => cache.delete(key));
  }
  return value;
}
