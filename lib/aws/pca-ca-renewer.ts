/**
 * CaRenewer for intermediate mode in AWS: a new intermediate key in the KeyManager (KMS
 * RSA_2048 by default: a fifth of an ECC sign's price per leaf), a CSR signed through it,
 * and ACM PCA issuing the intermediate with SubordinateCACertificate_PathLen0. One PCA
 * call per renewal, none per SVID.
 */
import type { ACMPCAClient } from "@aws-sdk/client-acm-pca";
import type { Clock } from "../clock.js";
import type { SigningAlgorithm } from "../crypto/algorithms.js";
import type { X509AuthorityRecord } from "../keyset/key-set.js";
import type { KeyManager } from "../ports/key-manager.js";
import type { CaRenewer } from "../rotation/ca-renewer.js";
import type { TrustDomain } from "../spiffe/spiffe-id.js";
import { certificatesToPem, parseCertificatesPem } from "../spiffe/x509-svid.js";
import { DEFAULT_INTERMEDIATE_TTL_SECONDS, issuePcaIntermediate } from "./pca-intermediate.js";
import type { PcaPollOptions } from "./pca-issuance.js";

export interface PcaCaRenewerOptions {
  client: ACMPCAClient;
  certificateAuthorityArn: string;
  trustDomain: TrustDomain;
  keys: KeyManager;
  /** Default RS256 (KMS RSA_2048). */
  alg?: SigningAlgorithm;
  /** Default 6 days: under a short-lived-mode PCA's 7-day limit, renewed after 3. */
  intermediateTtlSeconds?: number;
  poll?: PcaPollOptions;
  clock?: Clock;
}

export class PcaCaRenewer implements CaRenewer {
  constructor(private readonly options: PcaCaRenewerOptions) {}

  async renew(_current: X509AuthorityRecord | undefined): Promise<X509AuthorityRecord> {
    const o = this.options;
    const key = await o.keys.createKey(o.alg ?? "RS256", {
      description: `svid-bridge intermediate CA for ${o.trustDomain}`,
    });
    try {
      const issued = await issuePcaIntermediate({
        client: o.client,
        certificateAuthorityArn: o.certificateAuthorityArn,
        trustDomain: o.trustDomain,
        keys: o.keys,
        keyId: key.keyId,
        ttlSeconds: o.intermediateTtlSeconds ?? DEFAULT_INTERMEDIATE_TTL_SECONDS,
        ...(o.poll && { poll: o.poll }),
        ...(o.clock && { clock: o.clock }),
      });
      const [certificate, ...below] = parseCertificatesPem(issued.chainPem, "ca_unavailable");
      return {
        certificatePem: certificatesToPem([certificate!]),
        chainPem: certificatesToPem(below),
        keyId: key.keyId,
        trustAnchorsPem: issued.rootPem,
        notBefore: Math.floor(certificate!.notBefore.getTime() / 1000),
        notAfter: issued.expiresAt,
      };
    } catch (error) {
      // The key signs nothing without its certificate: don't leave it billing.
      await o.keys.scheduleDeletion?.(key.keyId).catch(() => {});
      throw error;
    }
  }
}
