/**
 * CertificateAuthority: issues X.509-SVID leaves. Adapters: IntermediateCertificateAuthority
 * (a CA certificate + a Signer; local root in dev, ACM PCA-issued intermediate with a
 * KMS key in AWS) and PcaDirectCertificateAuthority (every leaf via ACM PCA).
 */
import type { X509Certificate } from "../crypto/x509.js";
import type { SpiffeId } from "../spiffe/spiffe-id.js";

export interface IssueX509SvidRequest {
  spiffeId: SpiffeId;
  /** DER SubjectPublicKeyInfo of the workload's key, already proven by its CSR. */
  subjectPublicKey: Uint8Array;
  ttlSeconds: number;
  dnsNames?: readonly string[];
  /** The original CSR (PEM), for CAs that need it (ACM PCA); others ignore it. */
  csrPem?: string;
}

export interface IssuedX509Svid {
  /** Leaf first, then intermediates up to (not including) the trust anchor. */
  chain: X509Certificate[];
  /** Seconds since the epoch. */
  expiresAt: number;
  serialNumber: string;
}

export interface CertificateAuthority {
  issue(request: IssueX509SvidRequest): Promise<IssuedX509Svid>;
  /** The roots relying parties trust: the bundle's X.509 authorities. */
  trustAnchors(): Promise<X509Certificate[]>;
}
