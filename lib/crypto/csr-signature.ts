/**
 * A PKCS#10 CSR's self-signature (RFC 2986 §4.2: over the DER of
 * certificationRequestInfo, as sent), checked by node:crypto synchronously. The ASN.1 is
 * @peculiar/asn1-csr's. @peculiar/x509's `verify()` goes through WebCrypto, an async job on
 * libuv's thread pool with a key import of its own: 2–4 ms of the exchange's X.509
 * request before it may ask STS (measured, bench/cold-start.bench.ts), against a tenth of
 * that here.
 *
 * Algorithms: ECDSA (RFC 5758 §3.2) and RSASSA-PKCS1-v1_5 (RFC 4055 §5) with SHA-256,
 * SHA-384 or SHA-512: what a sound key (RSA 2048–8192, EC P-256, P-384) signs a CSR with.
 * Any other algorithm (RSASSA-PSS) answers `undefined`, for the caller to check another way.
 */
import { createPublicKey, verify } from "node:crypto";
import { CertificationRequest } from "@peculiar/asn1-csr";
import { AsnConvert } from "@peculiar/asn1-schema";

const SYNC_ALGORITHMS: ReadonlyMap<string, { hash: string; ecdsa: boolean }> = new Map([
  ["1.2.840.10045.4.3.2", { hash: "sha256", ecdsa: true }],
  ["1.2.840.10045.4.3.3", { hash: "sha384", ecdsa: true }],
  ["1.2.840.10045.4.3.4", { hash: "sha512", ecdsa: true }],
  ["1.2.840.113549.1.1.11", { hash: "sha256", ecdsa: false }],
  ["1.2.840.113549.1.1.12", { hash: "sha384", ecdsa: false }],
  ["1.2.840.113549.1.1.13", { hash: "sha512", ecdsa: false }],
]);

/**
 * @param der the CSR's DER (already size-checked and parsed once by the caller).
 * @param spki DER SubjectPublicKeyInfo of the CSR's own key.
 * @returns true or false for the algorithms above (false too when the algorithm is not the
 *   key's: an ECDSA label on an RSA key), `undefined` for any other.
 * @throws when the DER does not parse or the key does not fit the algorithm (a refusal
 *   for the caller to name).
 */
export function verifyCsrSignature(der: ArrayBuffer, spki: Uint8Array): boolean | undefined {
  const csr = AsnConvert.parse(der, CertificationRequest);
  const algorithm = SYNC_ALGORITHMS.get(csr.signatureAlgorithm.algorithm);
  if (!algorithm || !csr.certificationRequestInfoRaw) return undefined;
  const key = createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" });
  // The label must name the key's own scheme: node:crypto would check an RSA key's
  // PKCS#1 signature under an ECDSA label (dsaEncoding is ignored for RSA).
  if (key.asymmetricKeyType !== (algorithm.ecdsa ? "ec" : "rsa")) return false;
  return verify(
    algorithm.hash,
    new Uint8Array(csr.certificationRequestInfoRaw),
    algorithm.ecdsa ? { key, dsaEncoding: "der" } : key,
    new Uint8Array(csr.signature),
  );
}
