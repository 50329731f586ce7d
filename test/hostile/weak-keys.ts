/**
 * CSRs for keys the bridge must refuse, made the way an attacker would: issue 14, fault 2
 * (RSA with e = 1: the signature is the padded digest itself, so the CSR "verifies"
 * without any private key), other exponents, small moduli, other curves.
 */
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign, webcrypto } from "node:crypto";
import { CertificationRequest, CertificationRequestInfo } from "@peculiar/asn1-csr";
import { RSAPublicKey } from "@peculiar/asn1-rsa";
import { AsnConvert } from "@peculiar/asn1-schema";
import { AlgorithmIdentifier, Name, SubjectPublicKeyInfo } from "@peculiar/asn1-x509";
import { makeCsr } from "../support/x509-fixtures.js";

const RSA_ENCRYPTION = "1.2.840.113549.1.1.1";
const SHA256_WITH_RSA = "1.2.840.113549.1.1.11";
const NULL = new Uint8Array([5, 0]).buffer;
const SHA256_DIGEST_INFO = Buffer.from("3031300d060960864801650304020105000420", "hex");
const ab = (b: Buffer) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;

/** A validly self-signed PKCS#10 CSR (PEM) for a random 2048-bit RSA "key" with public exponent 1. */
export function rsaExponentOneCsr(bytes = 256): string {
  const n = randomBytes(bytes);
  n[0] = 0xc0 | n[0]!; // top bits set: the padded digest (00 01 ff…) is below n
  n[bytes - 1] = n[bytes - 1]! | 1;
  const publicKey = new RSAPublicKey({ modulus: ab(n), publicExponent: new Uint8Array([1]).buffer });
  const info = new CertificationRequestInfo({
    subject: new Name(),
    subjectPKInfo: new SubjectPublicKeyInfo({
      algorithm: new AlgorithmIdentifier({ algorithm: RSA_ENCRYPTION, parameters: NULL }),
      subjectPublicKey: AsnConvert.serialize(publicKey),
    }),
  });
  const digest = createHash("sha256")
    .update(Buffer.from(AsnConvert.serialize(info)))
    .digest();
  const t = Buffer.concat([SHA256_DIGEST_INFO, digest]);
  // EMSA-PKCS1-v1_5 (RFC 8017 §9.2); with e = 1 the signature s satisfies s^e mod n = EM when s = EM.
  const em = Buffer.concat([
    Buffer.from([0, 1]),
    Buffer.alloc(bytes - t.length - 3, 0xff),
    Buffer.from([0]),
    t,
  ]);
  const csr = new CertificationRequest({
    certificationRequestInfo: info,
    signatureAlgorithm: new AlgorithmIdentifier({ algorithm: SHA256_WITH_RSA, parameters: NULL }),
    signature: ab(em),
  });
  const b64 = Buffer.from(AsnConvert.serialize(csr)).toString("base64");
  return `-----BEGIN CERTIFICATE REQUEST-----\n${b64.match(/.{1,64}/g)!.join("\n")}\n-----END CERTIFICATE REQUEST-----\n`;
}

/** A properly signed CSR for an RSA key with another public exponent (e.g. 3 or 17). */
export async function rsaExponentCsr(exponent: number, bits = 2048): Promise<string> {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: bits,
    publicExponent: exponent,
  });
  const alg = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
  const keys = {
    privateKey: await webcrypto.subtle.importKey(
      "pkcs8",
      privateKey.export({ format: "der", type: "pkcs8" }),
      alg,
      true,
      ["sign"],
    ),
    publicKey: await webcrypto.subtle.importKey(
      "spki",
      publicKey.export({ format: "der", type: "spki" }),
      alg,
      true,
      ["verify"],
    ),
  };
  return makeCsr(keys as webcrypto.CryptoKeyPair);
}

const SIG_OID: Record<string, string> = {
  ec: "1.2.840.10045.4.3.2", // ecdsa-with-SHA256
  rsa: SHA256_WITH_RSA,
  ed25519: "1.3.101.112",
};

/**
 * A PKCS#10 CSR for any key node:crypto can sign with (P-192, P-521, Ed25519, RSA 1024…),
 * assembled with @peculiar/asn1-csr: WebCrypto cannot make keys on most of these curves.
 */
export function csrForKeyPair(privateKey: KeyObject, publicKey: KeyObject): string {
  const type = publicKey.asymmetricKeyType ?? "";
  const info = new CertificationRequestInfo({
    subject: new Name(),
    subjectPKInfo: AsnConvert.parse(publicKey.export({ format: "der", type: "spki" }), SubjectPublicKeyInfo),
  });
  const tbs = Buffer.from(AsnConvert.serialize(info));
  const signature = sign(type === "ed25519" ? null : "sha256", tbs, privateKey);
  const csr = new CertificationRequest({
    certificationRequestInfo: info,
    signatureAlgorithm: new AlgorithmIdentifier({
      algorithm: SIG_OID[type] ?? SHA256_WITH_RSA,
      ...(type === "rsa" && { parameters: NULL }),
    }),
    signature: ab(signature),
  });
  const b64 = Buffer.from(AsnConvert.serialize(csr)).toString("base64");
  return `-----BEGIN CERTIFICATE REQUEST-----\n${b64.match(/.{1,64}/g)!.join("\n")}\n-----END CERTIFICATE REQUEST-----\n`;
}

/** CSRs for keys the bridge must refuse, by name. */
export async function weakKeyCsrs(): Promise<Array<[string, string]>> {
  const pair = (kind: string, options: object) =>
    (generateKeyPairSync as (k: string, o: object) => { privateKey: KeyObject; publicKey: KeyObject })(
      kind,
      options,
    );
  const of = (p: { privateKey: KeyObject; publicKey: KeyObject }) => csrForKeyPair(p.privateKey, p.publicKey);
  return [
    ["RSA 1024", of(pair("rsa", { modulusLength: 1024 }))],
    ["RSA e=3", await rsaExponentCsr(3)],
    ["RSA e=1", rsaExponentOneCsr()],
    ["P-192", of(pair("ec", { namedCurve: "prime192v1" }))],
    ["P-521", of(pair("ec", { namedCurve: "P-521" }))],
    ["secp256k1", of(pair("ec", { namedCurve: "secp256k1" }))],
    ["Ed25519", of(pair("ed25519", {}))],
  ];
}
