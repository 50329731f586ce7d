/**
 * FakeKms: a local AWS KMS endpoint (JSON 1.1, `X-Amz-Target: TrentService.<Op>`) so the
 * real @aws-sdk/client-kms runs end to end in tests. It follows the documented API for
 * the calls the bridge makes: CreateKey (RSA_2048, ECC_NIST_P256/P384 for SIGN_VERIFY;
 * SYMMETRIC_DEFAULT for ENCRYPT_DECRYPT), DescribeKey, ListResourceTags, GetPublicKey,
 * Sign (RAW and DIGEST; ECDSA signatures DER-encoded as KMS returns them),
 * GenerateDataKeyPair(+WithoutPlaintext), Decrypt, DisableKey, EnableKey,
 * ScheduleKeyDeletion. Key ids or key ARNs are accepted; aliases are not modelled.
 * SigV4 is not checked (see aws-json-endpoint.ts). Not modelled: grants, policies,
 * RSASSA-PSS, multi-Region keys.
 */
import {
  constants,
  createCipheriv,
  createDecipheriv,
  createECDH,
  createHash,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  privateEncrypt,
  randomBytes,
  randomUUID,
  sign,
} from "node:crypto";
import { KMSClient } from "@aws-sdk/client-kms";
import { type Clock, systemClock } from "../../lib/clock.js";
import { AsnEcSignatureFormatter } from "../../lib/crypto/x509.js";
import {
  AwsJsonEndpoint,
  AwsServiceError,
  requireBlob,
  requireString,
  type WireInput,
} from "./aws-json-endpoint.js";

type AsymmetricSpec = "RSA_2048" | "ECC_NIST_P256" | "ECC_NIST_P384";
type KeySpec = AsymmetricSpec | "SYMMETRIC_DEFAULT";
type KeyState = "Enabled" | "Disabled" | "PendingDeletion";

interface FakeKey {
  keyId: string;
  arn: string;
  spec: KeySpec;
  usage: "SIGN_VERIFY" | "ENCRYPT_DECRYPT";
  state: KeyState;
  description: string;
  tags: { TagKey: string; TagValue: string }[];
  createdAt: number;
  deletionDate?: number;
  privateKey?: KeyObject;
  publicKey?: KeyObject;
  /** AES-256 key material of a symmetric key. */
  secret?: Buffer;
}

interface SigningAlgorithmSpec {
  hash: "sha256" | "sha384" | "sha512";
  digestBytes: number;
}

const SIGNING: Record<string, SigningAlgorithmSpec> = {
  RSASSA_PKCS1_V1_5_SHA_256: { hash: "sha256", digestBytes: 32 },
  RSASSA_PKCS1_V1_5_SHA_384: { hash: "sha384", digestBytes: 48 },
  RSASSA_PKCS1_V1_5_SHA_512: { hash: "sha512", digestBytes: 64 },
  ECDSA_SHA_256: { hash: "sha256", digestBytes: 32 },
  ECDSA_SHA_384: { hash: "sha384", digestBytes: 48 },
  ECDSA_SHA_512: { hash: "sha512", digestBytes: 64 },
};

/** What KMS lists per key spec (PSS omitted: the bridge does not use it, the fake does not sign it). */
const ALGORITHMS_FOR: Record<AsymmetricSpec, string[]> = {
  RSA_2048: ["RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384", "RSASSA_PKCS1_V1_5_SHA_512"],
  ECC_NIST_P256: ["ECDSA_SHA_256"],
  ECC_NIST_P384: ["ECDSA_SHA_384"],
};

interface Curve {
  openssl: string;
  jose: "P-256" | "P-384";
  order: bigint;
  bytes: number;
}

const CURVES: Record<"ECC_NIST_P256" | "ECC_NIST_P384", Curve> = {
  ECC_NIST_P256: {
    openssl: "prime256v1",
    jose: "P-256",
    order: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
    bytes: 32,
  },
  ECC_NIST_P384: {
    openssl: "secp384r1",
    jose: "P-384",
    order:
      0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
    bytes: 48,
  },
};

/** RFC 8017 §9.2 note 1: the DER DigestInfo prefix PKCS #1 v1.5 puts before a digest. */
const DIGEST_INFO_PREFIX: Record<SigningAlgorithmSpec["hash"], string> = {
  sha256: "3031300d060960864801650304020105000420",
  sha384: "3041300d060960864801650304020205000430",
  sha512: "3051300d060960864801650304020305000440",
};

const CIPHERTEXT_VERSION = 1;

export interface FakeKmsOptions {
  region?: string;
  account?: string;
  clock?: Clock;
}

export class FakeKms {
  readonly region: string;
  readonly account: string;
  readonly #clock: Clock;
  readonly #keys = new Map<string, FakeKey>();
  readonly #endpoint: AwsJsonEndpoint;

  constructor(options: FakeKmsOptions = {}) {
    this.region = options.region ?? "us-east-1";
    this.account = options.account ?? "111122223333";
    this.#clock = options.clock ?? systemClock;
    this.#endpoint = new AwsJsonEndpoint("TrentService", {
      CreateKey: (i) => this.#createKey(i),
      DescribeKey: (i) => ({ KeyMetadata: this.#metadata(this.#find(i)) }),
      ListResourceTags: (i) => ({ Tags: this.#find(i).tags, Truncated: false }),
      GetPublicKey: (i) => this.#getPublicKey(i),
      Sign: (i) => this.#sign(i),
      GenerateDataKeyPair: (i) => this.#generateDataKeyPair(i, true),
      GenerateDataKeyPairWithoutPlaintext: (i) => this.#generateDataKeyPair(i, false),
      Decrypt: (i) => this.#decrypt(i),
      DisableKey: (i) => this.#setEnabled(i, false),
      EnableKey: (i) => this.#setEnabled(i, true),
      ScheduleKeyDeletion: (i) => this.#scheduleKeyDeletion(i),
    });
  }

  start(): Promise<string> {
    return this.#endpoint.start();
  }

  stop(): Promise<void> {
    return this.#endpoint.stop();
  }

  get url(): string {
    return this.#endpoint.url;
  }

  /** Requests per operation, e.g. callCount("Decrypt"). */
  callCount(operation: string): number {
    return this.#endpoint.callCount(operation);
  }

  resetCounts(): void {
    this.#endpoint.resetCounts();
  }

  /** Drops every pending injected failure (of `operation`, or of all operations). */
  clearInjections(operation?: string): void {
    this.#endpoint.clearInjections(operation);
  }

  /** Makes the next `times` calls of `operation` fail with the AWS error `type`. */
  inject(operation: string, type: string, options?: { times?: number; status?: number }): void {
    this.#endpoint.inject(operation, type, options);
  }

  // ------------------------------------------------------------------------ operations

  #createKey(input: WireInput) {
    const spec = (input.KeySpec ?? input.CustomerMasterKeySpec ?? "SYMMETRIC_DEFAULT") as string;
    const usage = (input.KeyUsage ?? "ENCRYPT_DECRYPT") as string;
    const keyId = randomUUID();
    const key: FakeKey = {
      keyId,
      arn: `arn:aws:kms:${this.region}:${this.account}:key/${keyId}`,
      spec: spec as KeySpec,
      usage: usage as FakeKey["usage"],
      state: "Enabled",
      description: typeof input.Description === "string" ? input.Description : "",
      tags: Array.isArray(input.Tags) ? input.Tags : [],
      createdAt: this.#now(),
    };
    if (spec === "SYMMETRIC_DEFAULT") {
      if (usage !== "ENCRYPT_DECRYPT")
        throw new AwsServiceError("ValidationException", "SYMMETRIC_DEFAULT keys are ENCRYPT_DECRYPT");
      key.secret = randomBytes(32);
    } else if (spec in ALGORITHMS_FOR) {
      if (usage !== "SIGN_VERIFY")
        throw new AwsServiceError(
          "ValidationException",
          `the stand-in supports ${spec} keys for SIGN_VERIFY only, not ${usage}`,
        );
      const pair = generatePair(spec as AsymmetricSpec);
      key.privateKey = pair.privateKey;
      key.publicKey = pair.publicKey;
    } else {
      throw new AwsServiceError("ValidationException", `KeySpec ${spec} is not supported by the stand-in`);
    }
    this.#keys.set(keyId, key);
    return { KeyMetadata: this.#metadata(key) };
  }

  #getPublicKey(input: WireInput) {
    const key = this.#usable(input);
    if (!key.publicKey)
      throw new AwsServiceError("UnsupportedOperationException", "symmetric keys have no public key");
    return {
      KeyId: key.arn,
      PublicKey: key.publicKey.export({ format: "der", type: "spki" }).toString("base64"),
      KeySpec: key.spec,
      CustomerMasterKeySpec: key.spec,
      KeyUsage: key.usage,
      SigningAlgorithms: ALGORITHMS_FOR[key.spec as AsymmetricSpec],
    };
  }

  #sign(input: WireInput) {
    const algorithm = requireString(input, "SigningAlgorithm");
    const message = requireBlob(input, "Message");
    const messageType = (input.MessageType ?? "RAW") as string;
    const spec = SIGNING[algorithm];
    if (!spec) throw new AwsServiceError("ValidationException", `unknown SigningAlgorithm ${algorithm}`);
    if (messageType !== "RAW" && messageType !== "DIGEST")
      throw new AwsServiceError("ValidationException", `unknown MessageType ${messageType}`);
    if (message.length < 1 || message.length > 4096)
      throw new AwsServiceError("ValidationException", "Message must be 1 to 4096 bytes");
    const key = this.#usable(input);
    if (key.usage !== "SIGN_VERIFY" || !key.privateKey)
      throw new AwsServiceError("InvalidKeyUsageException", `${key.arn} is not a SIGN_VERIFY key`);
    if (!ALGORITHMS_FOR[key.spec as AsymmetricSpec].includes(algorithm))
      throw new AwsServiceError(
        "InvalidKeyUsageException",
        `SigningAlgorithm ${algorithm} is not valid for a ${key.spec} key`,
      );
    if (messageType === "DIGEST" && message.length !== spec.digestBytes)
      throw new AwsServiceError(
        "ValidationException",
        `a ${spec.hash} digest is ${spec.digestBytes} bytes, the Message has ${message.length}`,
      );
    const signature =
      messageType === "RAW"
        ? sign(spec.hash, message, { key: key.privateKey, dsaEncoding: "der" })
        : signDigest(key, spec, message);
    return { KeyId: key.arn, Signature: signature.toString("base64"), SigningAlgorithm: algorithm };
  }

  #generateDataKeyPair(input: WireInput, withPlaintext: boolean) {
    const pairSpec = requireString(input, "KeyPairSpec");
    if (!(pairSpec in ALGORITHMS_FOR))
      throw new AwsServiceError(
        "ValidationException",
        `KeyPairSpec ${pairSpec} is not supported by the stand-in`,
      );
    const key = this.#usable(input);
    if (key.usage !== "ENCRYPT_DECRYPT" || !key.secret)
      throw new AwsServiceError(
        "InvalidKeyUsageException",
        `${key.arn} is not a symmetric ENCRYPT_DECRYPT key`,
      );
    const pair = generatePair(pairSpec as AsymmetricSpec);
    const plaintext = pair.privateKey.export({ format: "der", type: "pkcs8" });
    return {
      KeyId: key.arn,
      KeyPairSpec: pairSpec,
      PrivateKeyCiphertextBlob: encrypt(key, plaintext, input.EncryptionContext).toString("base64"),
      ...(withPlaintext && { PrivateKeyPlaintext: plaintext.toString("base64") }),
      PublicKey: pair.publicKey.export({ format: "der", type: "spki" }).toString("base64"),
    };
  }

  #decrypt(input: WireInput) {
    const blob = requireBlob(input, "CiphertextBlob");
    const keyUuid = parseCiphertextKeyId(blob);
    const key = this.#keys.get(keyUuid);
    if (!key)
      throw new AwsServiceError("InvalidCiphertextException", "the ciphertext is not from this account");
    if (input.KeyId !== undefined && this.#find(input).keyId !== key.keyId)
      throw new AwsServiceError("IncorrectKeyException", "the ciphertext was not encrypted under KeyId");
    this.#checkState(key);
    const plaintext = decrypt(key, blob, input.EncryptionContext);
    return {
      KeyId: key.arn,
      Plaintext: plaintext.toString("base64"),
      EncryptionAlgorithm: "SYMMETRIC_DEFAULT",
    };
  }

  #setEnabled(input: WireInput, enabled: boolean) {
    const key = this.#find(input);
    if (key.state === "PendingDeletion")
      throw new AwsServiceError("KMSInvalidStateException", `${key.arn} is pending deletion`);
    key.state = enabled ? "Enabled" : "Disabled";
    return {};
  }

  #scheduleKeyDeletion(input: WireInput) {
    const key = this.#find(input);
    const days = input.PendingWindowInDays ?? 30;
    if (!Number.isInteger(days) || days < 7 || days > 30)
      throw new AwsServiceError("ValidationException", "PendingWindowInDays must be 7 to 30");
    if (key.state === "PendingDeletion")
      throw new AwsServiceError("KMSInvalidStateException", `${key.arn} is already pending deletion`);
    key.state = "PendingDeletion";
    key.deletionDate = this.#now() + days * 86400;
    return { KeyId: key.arn, DeletionDate: key.deletionDate, KeyState: key.state, PendingWindowInDays: days };
  }

  // ------------------------------------------------------------------------ helpers

  #now(): number {
    return Math.floor(this.#clock.now() / 1000);
  }

  #find(input: WireInput): FakeKey {
    const id = requireString(input, "KeyId");
    const uuid = id.startsWith("arn:aws:kms:") ? id.slice(id.indexOf(":key/") + 5) : id;
    const key = this.#keys.get(uuid);
    if (!key || (id.startsWith("arn:") && id !== key.arn))
      throw new AwsServiceError("NotFoundException", `Key '${id}' does not exist`);
    return key;
  }

  /** A key that may be used for a cryptographic operation. */
  #usable(input: WireInput): FakeKey {
    const key = this.#find(input);
    this.#checkState(key);
    return key;
  }

  #checkState(key: FakeKey): void {
    if (key.state === "Disabled") throw new AwsServiceError("DisabledException", `${key.arn} is disabled.`);
    if (key.state === "PendingDeletion")
      throw new AwsServiceError("KMSInvalidStateException", `${key.arn} is pending deletion.`);
  }

  #metadata(key: FakeKey) {
    return {
      AWSAccountId: this.account,
      KeyId: key.keyId,
      Arn: key.arn,
      CreationDate: key.createdAt,
      Enabled: key.state === "Enabled",
      Description: key.description,
      KeyUsage: key.usage,
      KeyState: key.state,
      Origin: "AWS_KMS",
      KeyManager: "CUSTOMER",
      KeySpec: key.spec,
      CustomerMasterKeySpec: key.spec,
      ...(key.spec === "SYMMETRIC_DEFAULT"
        ? { EncryptionAlgorithms: ["SYMMETRIC_DEFAULT"] }
        : { SigningAlgorithms: ALGORITHMS_FOR[key.spec] }),
      ...(key.deletionDate !== undefined && { DeletionDate: key.deletionDate }),
      MultiRegion: false,
    };
  }
}

function generatePair(spec: AsymmetricSpec): { privateKey: KeyObject; publicKey: KeyObject } {
  if (spec === "RSA_2048") return generateKeyPairSync("rsa", { modulusLength: 2048 });
  return generateKeyPairSync("ec", { namedCurve: CURVES[spec].openssl });
}

/**
 * Signs a digest the caller hashed (MessageType DIGEST). node:crypto only signs messages
 * it hashes itself, so: RSA pads DigestInfo || digest with the private key (PKCS #1 v1.5
 * as RFC 8017 §9.2 defines it); ECDSA takes R = k·G from OpenSSL (ECDH with the base
 * point), and s = k⁻¹(e + r·d) mod n is plain modular arithmetic. Output is DER, as KMS's.
 */
function signDigest(key: FakeKey, spec: SigningAlgorithmSpec, digest: Buffer): Buffer {
  const privateKey = key.privateKey!;
  if (key.spec === "RSA_2048") {
    const digestInfo = Buffer.concat([Buffer.from(DIGEST_INFO_PREFIX[spec.hash], "hex"), digest]);
    return privateEncrypt({ key: privateKey, padding: constants.RSA_PKCS1_PADDING }, digestInfo);
  }
  const curve = CURVES[key.spec as keyof typeof CURVES];
  const d = toBigInt(Buffer.from(privateKey.export({ format: "jwk" }).d!, "base64url"));
  const n = curve.order;
  const e = toBigInt(digest.subarray(0, curve.bytes)) % n;
  const basePoint = createECDH(curve.openssl);
  basePoint.setPrivateKey(toBytes(1n, curve.bytes));
  const g = basePoint.getPublicKey();
  for (;;) {
    const k = toBigInt(randomBytes(curve.bytes + 8)) % n;
    if (k === 0n) continue;
    const ecdh = createECDH(curve.openssl);
    ecdh.setPrivateKey(toBytes(k, curve.bytes));
    const r = toBigInt(ecdh.computeSecret(g)) % n;
    const s = (modPow(k, n - 2n, n) * ((e + r * d) % n)) % n;
    if (r === 0n || s === 0n) continue;
    const raw = Buffer.concat([toBytes(r, curve.bytes), toBytes(s, curve.bytes)]);
    const der = new AsnEcSignatureFormatter().toAsnSignature({ name: "ECDSA", namedCurve: curve.jose }, raw);
    return Buffer.from(der!);
  }
}

function toBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString("hex")}`);
}

function toBytes(value: bigint, length: number): Buffer {
  return Buffer.from(value.toString(16).padStart(length * 2, "0"), "hex");
}

function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
    e >>= 1n;
  }
  return result;
}

/**
 * The stand-in's ciphertext: version, key UUID (so Decrypt needs no KeyId, as with KMS),
 * AES-256-GCM IV, tag and body; the encryption context is the GCM additional data, so a
 * ciphertext only decrypts with the context it was made under.
 */
function encrypt(key: FakeKey, plaintext: Buffer, context: unknown): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key.secret!, iv);
  cipher.setAAD(contextBytes(context));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const uuid = Buffer.from(key.keyId.replaceAll("-", ""), "hex");
  return Buffer.concat([Buffer.of(CIPHERTEXT_VERSION), uuid, iv, cipher.getAuthTag(), body]);
}

function parseCiphertextKeyId(blob: Buffer): string {
  if (blob.length < 1 + 16 + 12 + 16 + 1 || blob[0] !== CIPHERTEXT_VERSION)
    throw new AwsServiceError("InvalidCiphertextException", "the ciphertext is malformed");
  const hex = blob.subarray(1, 17).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function decrypt(key: FakeKey, blob: Buffer, context: unknown): Buffer {
  if (!key.secret)
    throw new AwsServiceError("InvalidCiphertextException", "not a symmetric key's ciphertext");
  try {
    const decipher = createDecipheriv("aes-256-gcm", key.secret, blob.subarray(17, 29));
    decipher.setAAD(contextBytes(context));
    decipher.setAuthTag(blob.subarray(29, 45));
    return Buffer.concat([decipher.update(blob.subarray(45)), decipher.final()]);
  } catch {
    throw new AwsServiceError(
      "InvalidCiphertextException",
      "the ciphertext or its encryption context is wrong",
    );
  }
}

function contextBytes(context: unknown): Buffer {
  if (context === undefined || context === null) return Buffer.alloc(0);
  if (typeof context !== "object" || Array.isArray(context))
    throw new AwsServiceError("ValidationException", "EncryptionContext must be a string map");
  const entries = Object.entries(context as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
  return createHash("sha256").update(JSON.stringify(entries)).digest();
}

/** For tests that check a signature the way a KMS Verify would. */
export function publicKeyFromSpki(spki: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" });
}

/** The real SDK client pointed at a stand-in: static dummy credentials, `maxAttempts` 1 unless asked. */
export function kmsClientFor(url: string, options: { maxAttempts?: number } = {}): KMSClient {
  return new KMSClient({
    endpoint: url,
    region: "us-east-1",
    credentials: { accessKeyId: "AKIAFAKEKMSSTANDIN00", secretAccessKey: "fake-secret" },
    maxAttempts: options.maxAttempts ?? 1,
  });
}
