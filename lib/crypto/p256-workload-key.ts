/**
 * The X.509-SVID's key pair and PKCS#10 CSR (RFC 2986) with node:crypto alone, for the
 * in-process client: an EC P-256 key made here, and a CSR of one fixed shape, written as
 * DER directly. Why not an ASN.1 library here: the only one in the tree that writes CSRs
 * (@peculiar/x509 with asn1js, reflect-metadata, tsyringe) is 356 KiB minified and adds
 * ~6 MiB to a function's resident memory, half the in-process budget; this writes five
 * fixed DER nodes around the public key node:crypto exports, and nothing here parses
 * outside input. The bridge reads the CSR with its ASN.1 library and checks its signature;
 * test/client/p256-workload-key.test.ts has OpenSSL and the bridge's own checkCsr read it.
 *
 *   CertificationRequest ::= SEQUENCE {
 *     certificationRequestInfo SEQUENCE { version INTEGER 0, subject Name (CN=…),
 *                                         subjectPKInfo (node's SPKI DER), attributes [0] {} },
 *     signatureAlgorithm ecdsa-with-SHA256, signature BIT STRING (DER ECDSA-Sig-Value) }
 *
 * The subject is a placeholder, as the extension's: the bridge ignores subject and SANs.
 */
import { generateKeyPairSync, sign } from "node:crypto";

/** Same shape as the extension's (layers/extension/src/workload-key.ts). */
export interface P256WorkloadKey {
  /** PKCS#8 PEM. */
  privateKeyPem: string;
  csrPem: string;
  /** DER SubjectPublicKeyInfo: what an X.509 proof is bound to. */
  spki: Uint8Array;
}

const PLACEHOLDER_CN = "svid-bridge-workload";
const OID_COMMON_NAME = [0x06, 0x03, 0x55, 0x04, 0x03];
const ECDSA_WITH_SHA256 = [0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];

/** DER length octets (definite form); every length here is under 64 KiB. */
function length(n: number): number[] {
  if (n < 0x80) return [n];
  if (n < 0x100) return [0x81, n];
  return [0x82, n >> 8, n & 0xff];
}

function tlv(tag: number, ...content: (number[] | Uint8Array)[]): Buffer {
  const body = Buffer.concat(content.map((c) => Buffer.from(c)));
  return Buffer.concat([Buffer.from([tag, ...length(body.length)]), body]);
}

export function createP256WorkloadKey(): P256WorkloadKey {
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const spki = publicKey.export({ format: "der", type: "spki" });
  const name = tlv(0x30, tlv(0x31, tlv(0x30, OID_COMMON_NAME, tlv(0x0c, Buffer.from(PLACEHOLDER_CN)))));
  const info = tlv(0x30, [0x02, 0x01, 0x00], name, spki, [0xa0, 0x00]);
  const signature = sign("sha256", info, { key: privateKey, dsaEncoding: "der" });
  const csr = tlv(0x30, info, ECDSA_WITH_SHA256, tlv(0x03, [0x00], signature));
  const base64 = csr.toString("base64").replace(/.{64}/g, "$&\n").replace(/\n$/, "");
  return {
    privateKeyPem: privateKey.export({ format: "pem", type: "pkcs8" }) as string,
    csrPem: `-----BEGIN CERTIFICATE REQUEST-----\n${base64}\n-----END CERTIFICATE REQUEST-----\n`,
    spki: new Uint8Array(spki),
  };
}
