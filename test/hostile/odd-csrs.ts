/**
 * PKCS#10 CSRs built with node:crypto and the @peculiar/asn1-* schemas, independent of
 * the product's CSR code and of WebCrypto (which cannot make P-192 or RSA e = 3 keys):
 * any key node can generate, a requested CA=true or SAN list, a broken signature. With
 * weak-keys.ts (RSA e = 1), the CSR side of the hostile fuzz suite.
 */
import { generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { CertificationRequest, CertificationRequestInfo } from "@peculiar/asn1-csr";
import { AsnConvert, OctetString } from "@peculiar/asn1-schema";
import {
  AlgorithmIdentifier,
  Attribute,
  BasicConstraints,
  Extension,
  Extensions,
  GeneralName,
  Name,
  SubjectAlternativeName,
  SubjectPublicKeyInfo,
} from "@peculiar/asn1-x509";

const EXTENSION_REQUEST = "1.2.840.113549.1.9.14";
const ECDSA_SHA256 = "1.2.840.10045.4.3.2";
const SHA256_WITH_RSA = "1.2.840.113549.1.1.11";
const ED25519 = "1.3.101.112";
const NULL = new Uint8Array([5, 0]).buffer;

export type OddKey =
  | { type: "ec"; curve: "prime192v1" | "prime256v1" | "secp384r1" | "secp521r1" | "secp256k1" }
  | { type: "rsa"; bits: number; exponent?: number }
  | { type: "ed25519" };

export interface OddCsrOptions {
  /** Ask for basicConstraints CA=true (critical). */
  ca?: boolean;
  /** URI SANs to ask for. */
  uris?: readonly string[];
  /** Flip one bit of the signature. */
  breakSignature?: boolean;
}

export function oddKeyPair(key: OddKey): { publicKey: KeyObject; privateKey: KeyObject } {
  if (key.type === "ec") return generateKeyPairSync("ec", { namedCurve: key.curve });
  if (key.type === "rsa")
    return generateKeyPairSync("rsa", { modulusLength: key.bits, publicExponent: key.exponent ?? 65537 });
  return generateKeyPairSync("ed25519");
}

function extensionRequest(options: OddCsrOptions): Attribute[] {
  const extensions: Extension[] = [];
  if (options.ca)
    extensions.push(
      new Extension({
        extnID: "2.5.29.19",
        critical: true,
        extnValue: new OctetString(AsnConvert.serialize(new BasicConstraints({ cA: true }))),
      }),
    );
  if (options.uris?.length)
    extensions.push(
      new Extension({
        extnID: "2.5.29.17",
        critical: false,
        extnValue: new OctetString(
          AsnConvert.serialize(
            new SubjectAlternativeName(
              options.uris.map((u) => new GeneralName({ uniformResourceIdentifier: u })),
            ),
          ),
        ),
      }),
    );
  if (extensions.length === 0) return [];
  return [
    new Attribute({ type: EXTENSION_REQUEST, values: [AsnConvert.serialize(new Extensions(extensions))] }),
  ];
}

/** A CSR (PEM) for `keys`, signed by its own private key (unless breakSignature). */
export function oddCsr(
  keys: { publicKey: KeyObject; privateKey: KeyObject },
  options: OddCsrOptions = {},
): string {
  const spki = AsnConvert.parse(keys.publicKey.export({ type: "spki", format: "der" }), SubjectPublicKeyInfo);
  const info = new CertificationRequestInfo({ subject: new Name(), subjectPKInfo: spki });
  info.attributes.push(...extensionRequest(options));
  const tbs = Buffer.from(AsnConvert.serialize(info));
  const kind = keys.privateKey.asymmetricKeyType;
  const algorithm =
    kind === "ed25519"
      ? new AlgorithmIdentifier({ algorithm: ED25519 })
      : kind === "rsa"
        ? new AlgorithmIdentifier({ algorithm: SHA256_WITH_RSA, parameters: NULL })
        : new AlgorithmIdentifier({ algorithm: ECDSA_SHA256 });
  const signature = sign(kind === "ed25519" ? null : "sha256", tbs, keys.privateKey);
  if (options.breakSignature) signature[signature.length - 1]! ^= 1;
  const csr = new CertificationRequest({
    certificationRequestInfo: info,
    signatureAlgorithm: algorithm,
    signature: new Uint8Array(signature).buffer,
  });
  return toPem(Buffer.from(AsnConvert.serialize(csr)));
}

export function toPem(der: Buffer, label = "CERTIFICATE REQUEST"): string {
  const b64 = der.toString("base64");
  return `-----BEGIN ${label}-----\n${b64.match(/.{1,64}/g)!.join("\n")}\n-----END ${label}-----\n`;
}
