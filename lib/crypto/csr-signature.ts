/**
 * A PKCS#10 CSR's self-signature (RFC 2986 §4.2: over the DER of
 * certificationRequestInfo, as sent), checked by node:crypto synchronously, on the CSR
 * @peculiar/x509 already parsed (`SignedCsr`: no second parse). @peculiar/x509's own
 * `verify()` goes through WebCrypto, an async job on libuv's thread pool with a key import
 * of its own: 2–4 ms of the exchange's X.509 request before it may ask STS (measured,
 * bench/cold-start.bench.ts), against a tenth of that here.
 *
 * Algorithms: ECDSA (RFC 5758 §3.2) and RSASSA-PKCS1-v1_5 (RFC 4055 §5) with SHA-256,
 * SHA-384 or SHA-512: what a sound key (RSA 2048–8192, EC P-256, P-384) signs a CSR with.
 * Any other algorithm (RSASSA-PSS) answers `undefined`, for the caller to check another way.
 */
import { createPublicKey, verify } from "node:crypto";
import { Pkcs10CertificateRequest } from "./x509.js";

const SYNC_ALGORITHMS: ReadonlyMap<string, { hash: string; ecdsa: boolean }> = new Map([
  ["1.2.840.10045.4.3.2", { hash: "sha256", ecdsa: true }],
  ["1.2.840.10045.4.3.3", { hash: "sha384", ecdsa: true }],
  ["1.2.840.10045.4.3.4", { hash: "sha512", ecdsa: true }],
  ["1.2.840.113549.1.1.11", { hash: "sha256", ecdsa: false }],
  ["1.2.840.113549.1.1.12", { hash: "sha384", ecdsa: false }],
  ["1.2.840.113549.1.1.13", { hash: "sha512", ecdsa: false }],
]);

/** A CSR as @peculiar/x509 reads it, with what its self-signature covers, as parsed. */
export class SignedCsr extends Pkcs10CertificateRequest {
  /** The DER of certificationRequestInfo as sent (what the signature covers). */
  get signedBytes(): ArrayBuffer | undefined {
    return this.asn.certificationRequestInfoRaw;
  }

  get signatureOid(): string {
    return this.asn.signatureAlgorithm.algorithm;
  }

  get signatureBits(): ArrayBuffer {
    return this.asn.signature;
  }
}

/**
 * @param csr the parsed CSR (size-checked by the caller).
 * @param spki DER SubjectPublicKeyInfo of the CSR's own key.
 * @returns true or false for the algorithms above (false too when the algorithm is not the
 *   key's: an ECDSA label on an RSA key), `undefined` for any other.
 * @throws when the key does not read (a refusal for the caller to name).
 */
export function verifyCsrSignature(csr: SignedCsr, spki: Uint8Array): boolean | undefined {
  const algorithm = SYNC_ALGORITHMS.get(csr.signatureOid);
  const signed = csr.signedBytes;
  if (!algorithm || !signed) return undefined;
  const key = createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" });
  // The label must name the key's own scheme: node:crypto would check an RSA key's
  // PKCS#1 signature under an ECDSA label (dsaEncoding is ignored for RSA).
  if (key.asymmetricKeyType !== (algorithm.ecdsa ? "ec" : "rsa")) return false;
  return verify(
    algorithm.hash,
    new Uint8Array(signed),
    algorithm.ecdsa ? { key, dsaEncoding: "der" } : key,
    new Uint8Array(csr.signatureBits),
  );
}
