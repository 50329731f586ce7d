/**
 * The X.509-SVID's key pair and CSR, made in the sandbox: the private key never leaves
 * it (the exchange sees the CSR only). EC P-256 through WebCrypto; the CSR through
 * @peculiar/x509. Its subject is a placeholder: the bridge ignores subject and SANs.
 */
import { KeyObject, webcrypto } from "node:crypto";
import { Pkcs10CertificateRequestGenerator } from "../../../lib/crypto/x509.js";

export interface WorkloadKey {
  /** PKCS#8 PEM. */
  privateKeyPem: string;
  csrPem: string;
  /** DER SubjectPublicKeyInfo: what an X.509 proof is bound to. */
  spki: Uint8Array;
}

export async function createWorkloadKey(): Promise<WorkloadKey> {
  const subtle = webcrypto.subtle;
  const keys = (await subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ])) as webcrypto.CryptoKeyPair;
  const csr = await Pkcs10CertificateRequestGenerator.create({
    name: "CN=svid-bridge-workload",
    keys: keys as never,
    signingAlgorithm: { name: "ECDSA", hash: "SHA-256" } as never,
  });
  const spki = new Uint8Array(await subtle.exportKey("spki", keys.publicKey));
  return {
    privateKeyPem: KeyObject.from(keys.privateKey).export({ format: "pem", type: "pkcs8" }) as string,
    csrPem: csr.toString("pem"),
    spki,
  };
}
