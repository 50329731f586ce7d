/**
 * The X.509-SVID's key pair and CSR, made in the sandbox: the private key never leaves
 * it (the exchange sees the CSR only). EC P-256 and a PKCS#10 CSR (RFC 2986) written with
 * node:crypto alone (lib/crypto/p256-workload-key.ts, the in-process client's too), so no
 * ASN.1 library is compiled at every cold start. Its subject is a placeholder: the bridge
 * ignores subject and SANs.
 */
import { createP256WorkloadKey, type P256WorkloadKey } from "../../../lib/crypto/p256-workload-key.js";

export type WorkloadKey = P256WorkloadKey;

/** A fresh P-256 key and its CSR. Async for the manager's `newKey` port (a test may make RSA keys). */
export async function createWorkloadKey(): Promise<WorkloadKey> {
  return createP256WorkloadKey();
}
