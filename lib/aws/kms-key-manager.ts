/**
 * KeyManager on AWS KMS: one asymmetric KMS key per signing key. The private key never
 * leaves KMS; each signature is one billed `Sign` call (RSA_2048 at a fifth of an ECC
 * sign, hence RS256 by default). We hash locally and send the digest (MessageType
 * DIGEST, as SPIRE's aws_kms does): no 4096-byte message ceiling, less on the wire.
 * KMS returns ECDSA signatures DER-encoded; JOSE and WebCrypto want raw R||S.
 */
import { createHash } from "node:crypto";
import {
  CreateKeyCommand,
  GetPublicKeyCommand,
  type GetPublicKeyCommandOutput,
  type KeySpec,
  type KMSClient,
  ScheduleKeyDeletionCommand,
  SignCommand,
  type SigningAlgorithmSpec,
} from "@aws-sdk/client-kms";
import { algorithmProfile, type SigningAlgorithm } from "../crypto/algorithms.js";
import { publicKeyInfoFromSpki } from "../crypto/public-key.js";
import { AsnEcSignatureFormatter } from "../crypto/x509.js";
import { BridgeError } from "../errors.js";
import type { CreateKeyOptions, KeyManager, PublicKeyInfo } from "../ports/key-manager.js";
import type { TrustDomain } from "../spiffe/spiffe-id.js";
import { kmsError } from "./kms-errors.js";

type EcdsaAlgorithm = Parameters<AsnEcSignatureFormatter["toWebSignature"]>[0];

/** RS256 on RSA_2048: $0.03 per 10,000 signs against $0.15 for an ECC key. */
export const DEFAULT_KMS_ALGORITHM: SigningAlgorithm = "RS256";

export const TRUST_DOMAIN_TAG = "svid-bridge:trust-domain";
export const ALGORITHM_TAG = "svid-bridge:alg";

interface KmsAlgorithm {
  keySpec: KeySpec;
  signingAlgorithm: SigningAlgorithmSpec;
}

const KMS_ALGORITHMS: Record<SigningAlgorithm, KmsAlgorithm> = {
  RS256: { keySpec: "RSA_2048", signingAlgorithm: "RSASSA_PKCS1_V1_5_SHA_256" },
  ES256: { keySpec: "ECC_NIST_P256", signingAlgorithm: "ECDSA_SHA_256" },
  ES384: { keySpec: "ECC_NIST_P384", signingAlgorithm: "ECDSA_SHA_384" },
};

/** The JOSE algorithm a KMS key spec signs with, when the key can sign it. */
export function algorithmForKeySpec(
  keySpec: string | undefined,
  signingAlgorithms: readonly string[] = [],
): SigningAlgorithm | undefined {
  for (const [alg, kms] of Object.entries(KMS_ALGORITHMS) as [SigningAlgorithm, KmsAlgorithm][])
    if (kms.keySpec === keySpec && signingAlgorithms.includes(kms.signingAlgorithm)) return alg;
  return undefined;
}

/**
 * DER ECDSA-Sig-Value (RFC 3279 §2.2.3) → raw R||S of the curve's size. DER integers are
 * minimal (shorter than the curve size when their top bytes are zero, one byte longer
 * when the top bit is set), so the conversion must parse, never slice at fixed offsets.
 */
export function derToJoseSignature(alg: SigningAlgorithm, der: Uint8Array): Uint8Array {
  const profile = algorithmProfile(alg);
  if (profile.kty !== "EC") return der;
  let raw: ArrayBuffer | null;
  try {
    raw = new AsnEcSignatureFormatter().toWebSignature(
      { name: "ECDSA", namedCurve: profile.crv } as EcdsaAlgorithm,
      der,
    );
  } catch (cause) {
    throw new BridgeError("key_unavailable", "KMS returned a signature that is not DER ECDSA", { cause });
  }
  if (!raw || raw.byteLength !== 2 * profile.ecIntegerBytes!)
    throw new BridgeError("key_unavailable", `KMS returned an ECDSA signature that does not fit ${alg}`);
  return new Uint8Array(raw);
}

export interface KmsKeyManagerInit {
  client: KMSClient;
  /** Tagged on every key it creates (`svid-bridge:trust-domain`), so keys are findable and scoped. */
  trustDomain: TrustDomain;
  /** Extra tags for created keys (cost allocation, ownership). Not used with `keyPolicy`. */
  tags?: Record<string, string>;
  /**
   * The key policy created keys get (CreateKey `Policy`, see kms-key-policy.ts). With it,
   * keys are created untagged: tagging at creation needs `kms:TagResource` on every key of
   * the account, a right a deployed bridge does not hold. Without it, KMS's default policy.
   */
  keyPolicy?: string;
  /** How long a fresh key may answer NotFound/AccessDenied (KMS is eventually consistent). @default 20 000 ms */
  freshKeyWaitMs?: number;
}

/** Errors a key just created can give while KMS propagates it. */
const FRESH_KEY_ERRORS = new Set(["NotFoundException", "AccessDeniedException"]);

export class KmsKeyManager implements KeyManager {
  readonly #client: KMSClient;
  readonly #trustDomain: TrustDomain;
  readonly #tags: Record<string, string>;
  readonly #keyPolicy: string | undefined;
  readonly #freshKeyWaitMs: number;
  /** GetPublicKey is a billed asymmetric request and a key's public half never changes: one per key per sandbox. */
  readonly #publicKeys = new Map<string, Promise<PublicKeyInfo>>();

  constructor(init: KmsKeyManagerInit) {
    this.#client = init.client;
    this.#trustDomain = init.trustDomain;
    this.#tags = init.tags ?? {};
    this.#keyPolicy = init.keyPolicy;
    this.#freshKeyWaitMs = init.freshKeyWaitMs ?? 20_000;
  }

  async createKey(alg: SigningAlgorithm = DEFAULT_KMS_ALGORITHM, options: CreateKeyOptions = {}) {
    const kms = KMS_ALGORITHMS[alg];
    if (!kms) throw new BridgeError("config_invalid", `KMS cannot make a key for ${String(alg)}`);
    const tags = {
      ...this.#tags,
      [TRUST_DOMAIN_TAG]: this.#trustDomain.name,
      [ALGORITHM_TAG]: alg,
    };
    let arn: string | undefined;
    try {
      const created = await this.#client.send(
        new CreateKeyCommand({
          KeySpec: kms.keySpec,
          KeyUsage: "SIGN_VERIFY",
          Description:
            options.description ??
            `svid-bridge ${alg} signing key for trust domain ${this.#trustDomain.name}`,
          ...(this.#keyPolicy
            ? { Policy: this.#keyPolicy }
            : { Tags: Object.entries(tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue })) }),
        }),
      );
      arn = created.KeyMetadata?.Arn;
    } catch (cause) {
      throw kmsError("CreateKey", kms.keySpec, cause);
    }
    if (!arn) throw new BridgeError("key_unavailable", "KMS CreateKey answered without a key ARN");
    try {
      return await this.#freshPublicKey(arn);
    } catch (error) {
      // A key nobody will ever use still costs US$ 1 a month: retire it before failing.
      await this.scheduleDeletion(arn).catch(() => undefined);
      throw error;
    }
  }

  /** GetPublicKey on a key just made, retried while KMS still answers NotFound or AccessDenied. */
  async #freshPublicKey(arn: string): Promise<PublicKeyInfo> {
    const deadline = Date.now() + this.#freshKeyWaitMs;
    for (let delay = 250; ; delay = Math.min(delay * 2, 4000)) {
      try {
        return await this.getPublicKey(arn);
      } catch (error) {
        const name = ((error as BridgeError).details?.kmsError as string | undefined) ?? "";
        if (!FRESH_KEY_ERRORS.has(name) || Date.now() + delay > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  getPublicKey(keyId: string): Promise<PublicKeyInfo> {
    let info = this.#publicKeys.get(keyId);
    if (!info) {
      info = this.#fetchPublicKey(keyId);
      this.#publicKeys.set(keyId, info);
      // A failure is not cached: the next caller asks KMS again.
      info.catch(() => this.#publicKeys.delete(keyId));
    }
    return info;
  }

  async sign(keyId: string, data: Uint8Array): Promise<Uint8Array> {
    const info = await this.getPublicKey(keyId);
    const kms = KMS_ALGORITHMS[info.alg];
    const digest = createHash(algorithmProfile(info.alg).hash).update(data).digest();
    let signature: Uint8Array | undefined;
    try {
      const out = await this.#client.send(
        new SignCommand({
          KeyId: keyId,
          Message: digest,
          MessageType: "DIGEST",
          SigningAlgorithm: kms.signingAlgorithm,
        }),
      );
      signature = out.Signature;
    } catch (cause) {
      throw kmsError("Sign", keyId, cause);
    }
    if (!signature || signature.byteLength === 0)
      throw new BridgeError("key_unavailable", "KMS Sign answered without a signature");
    return derToJoseSignature(info.alg, signature);
  }

  /**
   * Schedules the key's deletion after KMS's longest-but-one waiting period (7 days, as
   * SPIRE's aws_kms does): a mistake can still be undone with CancelKeyDeletion.
   * Idempotent: a key already pending deletion is left as it is.
   */
  async scheduleDeletion(keyId: string): Promise<void> {
    try {
      await this.#client.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
    } catch (cause) {
      if ((cause as { name?: string }).name === "KMSInvalidStateException") return;
      throw kmsError("ScheduleKeyDeletion", keyId, cause);
    }
    this.#publicKeys.delete(keyId);
  }

  async #fetchPublicKey(keyId: string): Promise<PublicKeyInfo> {
    let out: GetPublicKeyCommandOutput;
    try {
      out = await this.#client.send(new GetPublicKeyCommand({ KeyId: keyId }));
    } catch (cause) {
      throw kmsError("GetPublicKey", keyId, cause);
    }
    const alg = algorithmForKeySpec(out.KeySpec, out.SigningAlgorithms);
    if (out.KeyUsage !== "SIGN_VERIFY" || !alg || !out.PublicKey)
      throw new BridgeError(
        "config_invalid",
        `KMS key ${keyId} (${out.KeySpec}, ${out.KeyUsage}) is not a signing key the bridge can use`,
      );
    return publicKeyInfoFromSpki(keyId, alg, out.PublicKey);
  }
}
