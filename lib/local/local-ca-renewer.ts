/**
 * CaRenewer for `svid-bridge dev` and tests: a local self-signed root (its key in a
 * KeyManager) issues each new intermediate, as ACM PCA does in AWS. Each renewal makes a
 * new intermediate key; the root and so the trust anchors stay the same.
 */
import { type Clock, systemClock } from "../clock.js";
import type { SigningAlgorithm } from "../crypto/algorithms.js";
import type { X509Certificate } from "../crypto/x509.js";
import type { X509AuthorityRecord } from "../keyset/key-set.js";
import { type KeyManager, signerFor } from "../ports/key-manager.js";
import type { CaRenewer } from "../rotation/ca-renewer.js";
import { SpiffeId, type TrustDomain } from "../spiffe/spiffe-id.js";
import { buildCaCertificate, certificatesToPem } from "../spiffe/x509-svid.js";

export interface LocalCaRenewerOptions {
  trustDomain: TrustDomain;
  keys: KeyManager;
  /** Default ES256: the local CA pays no KMS price. */
  alg?: SigningAlgorithm;
  /** Default 365 days. */
  rootTtlSeconds?: number;
  /** Default 7 days: renewed after 3.5. */
  intermediateTtlSeconds?: number;
  clock?: Clock;
}

export class LocalCaRenewer implements CaRenewer {
  readonly root: X509Certificate;
  readonly #rootKeyId: string;
  readonly #options: LocalCaRenewerOptions;

  private constructor(root: X509Certificate, rootKeyId: string, options: LocalCaRenewerOptions) {
    this.root = root;
    this.#rootKeyId = rootKeyId;
    this.#options = options;
  }

  /** Makes the local root (a new key in `keys`). */
  static async create(options: LocalCaRenewerOptions): Promise<LocalCaRenewer> {
    const alg = options.alg ?? "ES256";
    const rootKey = await options.keys.createKey(alg, { description: "svid-bridge local root CA" });
    const root = await buildCaCertificate({
      trustDomainId: SpiffeId.parse(options.trustDomain.id),
      subject: `CN=SVID Bridge local root CA, O=SVID Bridge, OU=${options.trustDomain.name}`,
      subjectPublicKey: rootKey.spki,
      signer: await signerFor(options.keys, rootKey.keyId),
      ttlSeconds: options.rootTtlSeconds ?? 365 * 24 * 3600,
      clock: options.clock ?? systemClock,
    });
    return new LocalCaRenewer(root, rootKey.keyId, options);
  }

  /**
   * Uses an existing root (its certificate, and its key already in `keys`): for
   * `svid-bridge dev --data-dir`, whose trust anchor must survive a restart.
   */
  static restore(root: X509Certificate, rootKeyId: string, options: LocalCaRenewerOptions): LocalCaRenewer {
    return new LocalCaRenewer(root, rootKeyId, options);
  }

  /** The root key's handle in `keys` (to restore this renewer later). */
  get rootKeyId(): string {
    return this.#rootKeyId;
  }

  /** A new intermediate (pathLen 0) under the root, with a new key in `keys`. */
  async issueIntermediate(): Promise<{ certificate: X509Certificate; keyId: string }> {
    const { keys, trustDomain } = this.#options;
    const key = await keys.createKey(this.#options.alg ?? "ES256", {
      description: "svid-bridge local intermediate CA",
    });
    const certificate = await buildCaCertificate({
      trustDomainId: SpiffeId.parse(trustDomain.id),
      subject: `CN=SVID Bridge local intermediate CA, O=SVID Bridge, OU=${trustDomain.name}`,
      subjectPublicKey: key.spki,
      issuer: this.root,
      signer: await signerFor(keys, this.#rootKeyId),
      ttlSeconds: this.#options.intermediateTtlSeconds ?? 7 * 24 * 3600,
      pathLength: 0,
      clock: this.#options.clock ?? systemClock,
    });
    return { certificate, keyId: key.keyId };
  }

  async renew(_current: X509AuthorityRecord | undefined): Promise<X509AuthorityRecord> {
    const { certificate, keyId } = await this.issueIntermediate();
    return {
      certificatePem: certificatesToPem([certificate]),
      chainPem: "",
      keyId,
      trustAnchorsPem: certificatesToPem([this.root]),
      notBefore: Math.floor(certificate.notBefore.getTime() / 1000),
      notAfter: Math.floor(certificate.notAfter.getTime() / 1000),
    };
  }
}
