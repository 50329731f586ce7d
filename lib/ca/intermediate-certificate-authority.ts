/**
 * Intermediate mode: leaves are built here and signed by the intermediate CA's key
 * through a Signer (local key, KMS key, or KMS-wrapped key). Milliseconds per leaf,
 * no call to ACM PCA per SVID.
 */

import { type Clock, systemClock } from "../clock.js";
import type { X509Certificate } from "../crypto/x509.js";
import type {
  CertificateAuthority,
  IssuedX509Svid,
  IssueX509SvidRequest,
} from "../ports/certificate-authority.js";
import type { Signer } from "../ports/key-manager.js";
import { buildX509Svid } from "../spiffe/x509-svid.js";

export interface IntermediateCertificateAuthorityInit {
  /** The intermediate's certificate and any certificates between it and the root (root excluded). */
  chain: X509Certificate[];
  signer: Signer;
  roots: X509Certificate[];
  clock?: Clock;
}

export class IntermediateCertificateAuthority implements CertificateAuthority {
  readonly #chain: X509Certificate[];
  readonly #signer: Signer;
  readonly #roots: X509Certificate[];
  readonly #clock: Clock;

  constructor(init: IntermediateCertificateAuthorityInit) {
    if (init.chain.length === 0)
      throw new Error("IntermediateCertificateAuthority needs the intermediate's certificate");
    this.#chain = init.chain;
    this.#signer = init.signer;
    this.#roots = init.roots;
    this.#clock = init.clock ?? systemClock;
  }

  get certificate(): X509Certificate {
    return this.#chain[0]!;
  }

  async issue(request: IssueX509SvidRequest): Promise<IssuedX509Svid> {
    const leaf = await buildX509Svid({
      spiffeId: request.spiffeId,
      subjectPublicKey: request.subjectPublicKey,
      issuer: this.certificate,
      signer: this.#signer,
      ttlSeconds: request.ttlSeconds,
      ...(request.dnsNames && { dnsNames: request.dnsNames }),
      clock: this.#clock,
    });
    return {
      chain: [leaf, ...this.#chain],
      expiresAt: Math.floor(leaf.notAfter.getTime() / 1000),
      serialNumber: leaf.serialNumber,
    };
  }

  async trustAnchors(): Promise<X509Certificate[]> {
    return this.#roots;
  }
}
