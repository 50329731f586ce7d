/**
 * Builds and signs X.509 v3 certificates (RFC 5280 §4.1) from the ASN.1 schema of
 * @peculiar/asn1-x509, signing the DER TBSCertificate through the Signer port. No
 * WebCrypto on the path: key identifiers are SHA-1 from node:crypto (RFC 5280 §4.2.1.2
 * method 1), and a local or KMS-wrapped Signer signs with node:crypto's synchronous
 * sign. What goes in the certificate is the caller's choice (lib/spiffe decides the
 * SPIFFE rules); this module only encodes, signs and assembles.
 */
import { createHash } from "node:crypto";
import { ECDSASigValue } from "@peculiar/asn1-ecc";
import { AsnConvert, OctetString } from "@peculiar/asn1-schema";
import {
  AlgorithmIdentifier,
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  ExtendedKeyUsage,
  Extension,
  Extensions,
  GeneralName,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier,
  KeyUsage,
  Name,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
} from "@peculiar/asn1-x509";
import type { Signer } from "../ports/key-manager.js";
import { algorithmProfile } from "./algorithms.js";
import { X509Certificate } from "./x509.js";

const ECDSA_WITH_SHA256 = "1.2.840.10045.4.3.2";
const ECDSA_WITH_SHA384 = "1.2.840.10045.4.3.3";
const SHA256_WITH_RSA = "1.2.840.113549.1.1.11";
const ASN1_NULL = new Uint8Array([0x05, 0x00]).buffer;

/** The AlgorithmIdentifier of a signature by `signer` (RSA with explicit NULL parameters, ECDSA with none). */
export function signatureAlgorithmOf(signer: Pick<Signer, "alg">): AlgorithmIdentifier {
  if (signer.alg === "RS256")
    return new AlgorithmIdentifier({ algorithm: SHA256_WITH_RSA, parameters: ASN1_NULL });
  return new AlgorithmIdentifier({
    algorithm: signer.alg === "ES384" ? ECDSA_WITH_SHA384 : ECDSA_WITH_SHA256,
  });
}

/** SHA-1 of the subjectPublicKey BIT STRING's bytes: the key identifier of RFC 5280 §4.2.1.2, method 1. */
export function keyIdentifierOf(spki: SubjectPublicKeyInfo): Uint8Array {
  return createHash("sha1").update(new Uint8Array(spki.subjectPublicKey)).digest();
}

export function parseSpki(der: Uint8Array): SubjectPublicKeyInfo {
  return AsnConvert.parse(der, SubjectPublicKeyInfo);
}

function extension(extnID: string, critical: boolean, value: unknown): Extension {
  return new Extension({ extnID, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
}

const constant = new Map<string, Extension>();
/** An extension whose value never changes is encoded once; Extension objects are only read after. */
function once(key: string, make: () => Extension): Extension {
  let made = constant.get(key);
  if (!made) {
    made = make();
    constant.set(key, made);
  }
  return made;
}

/** The extensions a certificate may carry here, each with its criticality. */
export const extensions = {
  basicConstraints: (cA: boolean, pathLenConstraint?: number) =>
    once(`bc:${cA}:${pathLenConstraint}`, () =>
      extension(
        id_ce_basicConstraints,
        true,
        new BasicConstraints({ cA, ...(pathLenConstraint !== undefined && { pathLenConstraint }) }),
      ),
    ),
  /** `flags`: KeyUsageFlags bits. Always critical. */
  keyUsage: (flags: number) =>
    once(`ku:${flags}`, () => extension(id_ce_keyUsage, true, new KeyUsage(flags))),
  extendedKeyUsage: (oids: string[]) =>
    once(`eku:${oids.join(",")}`, () => extension(id_ce_extKeyUsage, false, new ExtendedKeyUsage(oids))),
  subjectAltName: (names: Array<{ uri: string } | { dns: string }>, critical: boolean) =>
    extension(
      id_ce_subjectAltName,
      critical,
      new SubjectAlternativeName(
        names.map((n) =>
          "uri" in n
            ? new GeneralName({ uniformResourceIdentifier: n.uri })
            : new GeneralName({ dNSName: n.dns }),
        ),
      ),
    ),
  subjectKeyIdentifier: (keyId: Uint8Array) =>
    extension(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(new Uint8Array(keyId))),
  authorityKeyIdentifier: (keyId: Uint8Array) =>
    extension(
      id_ce_authorityKeyIdentifier,
      false,
      new AuthorityKeyIdentifier({ keyIdentifier: new OctetString(new Uint8Array(keyId)) }),
    ),
};

export interface CertificateFields {
  /** DER INTEGER contents: positive, minimal (the caller makes it random). */
  serialNumber: Uint8Array;
  issuer: Name;
  subject: Name;
  notBefore: Date;
  notAfter: Date;
  subjectPublicKeyInfo: SubjectPublicKeyInfo;
  extensions: Extension[];
}

/**
 * An X509Certificate made from the schema objects it was built from, holding the DER it
 * was signed as: nothing is parsed back (a parse cost more than the signature). Every
 * getter of X509Certificate reads the same schema objects the DER was serialized from.
 */
class BuiltCertificate extends X509Certificate {
  readonly #der: ArrayBuffer;
  constructor(asn: Certificate, der: Uint8Array) {
    super(asn);
    this.#der = der.buffer.slice(der.byteOffset, der.byteOffset + der.byteLength) as ArrayBuffer;
  }
  override get rawData(): ArrayBuffer {
    return this.#der;
  }
}

// Encodings of schema objects, by identity. The issuer's name, the algorithm identifiers,
// the constant extensions and a returning workload's key are the same objects from one
// leaf to the next, so each is encoded once; the schema serializer cost more than the
// signature. Objects handed to signCertificate are treated as immutable.
const encodings = new WeakMap<object, Uint8Array>();
function derOf(value: object): Uint8Array {
  let der = encodings.get(value);
  if (!der) {
    der = new Uint8Array(AsnConvert.serialize(value));
    encodings.set(value, der);
  }
  return der;
}

const signatureAlgorithms = new Map<Signer["alg"], AlgorithmIdentifier>();
function signatureAlgorithmFor(signer: Pick<Signer, "alg">): AlgorithmIdentifier {
  let algorithm = signatureAlgorithms.get(signer.alg);
  if (!algorithm) {
    algorithm = signatureAlgorithmOf(signer);
    signatureAlgorithms.set(signer.alg, algorithm);
  }
  return algorithm;
}

const VERSION_3 = Uint8Array.of(0xa0, 0x03, 0x02, 0x01, 0x02); // [0] EXPLICIT INTEGER 2

/**
 * The DER TBSCertificate (RFC 5280 §4.1): every field encoded by the schema library,
 * framed in its SEQUENCE and [3] EXPLICIT wrapper here.
 */
function encodeTbs(fields: CertificateFields, algorithm: AlgorithmIdentifier): Uint8Array {
  const serial = fields.serialNumber;
  if (serial.byteLength === 0 || serial[0]! & 0x80 || (serial[0] === 0 && serial.byteLength > 1))
    throw new Error("the serial number must be a positive, minimally encoded INTEGER");
  const validity = new Validity({ notBefore: fields.notBefore, notAfter: fields.notAfter });
  return tlv(
    0x30,
    VERSION_3,
    tlv(0x02, serial),
    derOf(algorithm),
    derOf(fields.issuer),
    derOf(validity),
    derOf(fields.subject),
    derOf(fields.subjectPublicKeyInfo),
    tlv(0xa3, tlv(0x30, ...fields.extensions.map(derOf))),
  );
}

/**
 * Encodes the TBSCertificate, has `signer` sign it, and returns the certificate. ECDSA
 * signatures come from the port raw (R||S) and are re-encoded as the ECDSA-Sig-Value
 * SEQUENCE X.509 wants (RFC 5758 §3.2).
 */
export async function signCertificate(fields: CertificateFields, signer: Signer): Promise<X509Certificate> {
  const signatureAlgorithm = signatureAlgorithmFor(signer);
  const tbsDer = encodeTbs(fields, signatureAlgorithm);
  const raw = await signer.sign(tbsDer);
  const signatureValue =
    signer.alg === "RS256" ? raw : ecdsaSigValue(raw, algorithmProfile(signer.alg).ecIntegerBytes!);
  const der = tlv(0x30, tbsDer, derOf(signatureAlgorithm), tlv(0x03, Uint8Array.of(0), signatureValue));
  const asn = new Certificate({
    tbsCertificate: new TBSCertificate({
      version: Version.v3,
      serialNumber: toArrayBuffer(fields.serialNumber),
      signature: signatureAlgorithm,
      issuer: fields.issuer,
      validity: new Validity({ notBefore: fields.notBefore, notAfter: fields.notAfter }),
      subject: fields.subject,
      subjectPublicKeyInfo: fields.subjectPublicKeyInfo,
      extensions: new Extensions(fields.extensions),
    }),
    signatureAlgorithm,
    signatureValue: toArrayBuffer(signatureValue),
  });
  asn.tbsCertificateRaw = toArrayBuffer(tbsDer);
  return new BuiltCertificate(asn, der);
}

/** One DER TLV: `tag`, the definite length, then `parts` concatenated. */
function tlv(tag: number, ...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.byteLength;
  const lengthBytes: number[] = [];
  if (length < 0x80) lengthBytes.push(length);
  else {
    for (let n = length; n > 0; n = Math.floor(n / 256)) lengthBytes.unshift(n & 0xff);
    lengthBytes.unshift(0x80 | lengthBytes.length);
  }
  const out = new Uint8Array(1 + lengthBytes.length + length);
  out[0] = tag;
  out.set(lengthBytes, 1);
  let at = 1 + lengthBytes.length;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

function ecdsaSigValue(raw: Uint8Array, size: number): Uint8Array {
  if (raw.byteLength !== size * 2)
    throw new Error(`an ECDSA signature of ${raw.byteLength} bytes, not ${size * 2}`);
  const integer = (bytes: Uint8Array) => {
    let i = 0;
    while (i < bytes.length - 1 && bytes[i] === 0) i++;
    const trimmed = bytes.subarray(i);
    // A leading 1 bit would read as negative: prefix a zero byte.
    return trimmed[0]! & 0x80 ? Uint8Array.of(0, ...trimmed) : Uint8Array.from(trimmed);
  };
  const value = new ECDSASigValue({
    r: integer(raw.subarray(0, size)).buffer as ArrayBuffer,
    s: integer(raw.subarray(size)).buffer as ArrayBuffer,
  });
  return new Uint8Array(AsnConvert.serialize(value));
}

export type { Extension as SchemaExtension, Name as SchemaName, SubjectPublicKeyInfo };

/** The empty subject Name of a leaf whose identity is in its SAN (RFC 5280 §4.1.2.6). */
export function emptyName(): Name {
  return new Name();
}

/** The parsed certificate's schema form (subject Name, SPKI, extensions), for reuse as an issuer. */
export function parseCertificateSchema(der: Uint8Array): Certificate {
  return AsnConvert.parse(der, Certificate);
}
