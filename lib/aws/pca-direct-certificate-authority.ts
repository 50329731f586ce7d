/**
 * CertificateAuthority, direct mode: every leaf issued by ACM PCA, for teams that want PCA
 * to record each certificate. Slow (an IssueCertificate plus at least one GetCertificate
 * per leaf, ~1 s) and costly (README: cost per million), so intermediate mode is the
 * default.
 *
 * The leaf's content comes from APIPassthrough, never from the CSR: the SPIFFE ID as the
 * only URI SAN, the entry's DNS SANs, keyUsage digitalSignature (+keyEncipherment for
 * RSA), EKU serverAuth+clientAuth, validity ABSOLUTE with a notBefore 30 s back. Base
 * templates copy the CSR's SANs and whether API SANs replace or merge with the CSR's is
 * not documented, so CSRs carrying SANs are refused. The answer is checked against the
 * X.509-SVID rules before it is handed out: a misconfigured template fails closed.
 */
import { randomUUID } from "node:crypto";
import type { ACMPCAClient, ApiPassthrough } from "@aws-sdk/client-acm-pca";
import { cachedUntilFailure } from "../cached-until-failure.js";
import { type Clock, epochSeconds, systemClock } from "../clock.js";
import type { X509Certificate } from "../crypto/x509.js";
import { BridgeError } from "../errors.js";
import type {
  CertificateAuthority,
  IssuedX509Svid,
  IssueX509SvidRequest,
} from "../ports/certificate-authority.js";
import { TrustBundle } from "../spiffe/bundle.js";
import type { TrustDomain } from "../spiffe/spiffe-id.js";
import { BACKDATE_SECONDS, checkCsr, validateX509Svid } from "../spiffe/x509-svid.js";
import {
  fetchCaCertificates,
  issueAndFetch,
  PCA_TEMPLATE_PREFIX,
  type PcaCaCertificates,
  type PcaPollOptions,
  sameCertificate,
  templateInPartitionOf,
} from "./pca-issuance.js";

/** Key usage and EKU are set by the API, not fixed by the template (which would add keyEncipherment to EC keys). */
export const DIRECT_MODE_TEMPLATE_ARN = `${PCA_TEMPLATE_PREFIX}BlankEndEntityCertificate_APIPassthrough/V1`;

export interface PcaDirectCertificateAuthorityInit {
  client: ACMPCAClient;
  certificateAuthorityArn: string;
  trustDomain: TrustDomain;
  /** Default BlankEndEntityCertificate_APIPassthrough/V1; must be an APIPassthrough template. */
  templateArn?: string;
  /** Subject of every leaf (X509-SVID leaves need none, PCA wants one or a SAN). Default O=SVID Bridge. */
  subject?: ApiPassthrough["Subject"];
  poll?: PcaPollOptions;
  clock?: Clock;
}

export class PcaDirectCertificateAuthority implements CertificateAuthority {
  readonly #client: ACMPCAClient;
  readonly #caArn: string;
  readonly #trustDomain: TrustDomain;
  readonly #templateArn: string;
  readonly #subject: ApiPassthrough["Subject"];
  readonly #poll: PcaPollOptions;
  readonly #clock: Clock;
  /** The CA's certificate and root, fetched once (again after a failure). */
  readonly #caCertificates: () => Promise<PcaCaCertificates>;

  constructor(init: PcaDirectCertificateAuthorityInit) {
    this.#client = init.client;
    this.#caArn = init.certificateAuthorityArn;
    this.#caCertificates = cachedUntilFailure(() => fetchCaCertificates(this.#client, this.#caArn));
    this.#trustDomain = init.trustDomain;
    this.#templateArn =
      init.templateArn ?? templateInPartitionOf(init.certificateAuthorityArn, DIRECT_MODE_TEMPLATE_ARN);
    if (!this.#templateArn.includes("APIPassthrough"))
      throw new BridgeError(
        "config_invalid",
        `direct mode needs an APIPassthrough template (PCA ignores ApiPassthrough otherwise): ${this.#templateArn}`,
      );
    this.#subject = init.subject ?? { Organization: "SVID Bridge" };
    this.#clock = init.clock ?? systemClock;
    this.#poll = { clock: this.#clock, ...init.poll };
  }

  async issue(request: IssueX509SvidRequest): Promise<IssuedX509Svid> {
    if (!request.spiffeId.isMemberOf(this.#trustDomain))
      throw new BridgeError(
        "trust_domain_mismatch",
        `${request.spiffeId} is not in this CA's trust domain ${this.#trustDomain}`,
      );
    if (request.spiffeId.isTrustDomainId)
      throw new BridgeError("invalid_spiffe_id", "a leaf SVID needs a SPIFFE ID with a path");
    if (!Number.isSafeInteger(request.ttlSeconds) || request.ttlSeconds <= 0)
      throw new BridgeError("invalid_request", "ttlSeconds must be a positive integer");
    if (!request.csrPem) throw new BridgeError("internal_error", "direct mode needs the workload's CSR");
    const csr = await checkCsr(request.csrPem);
    if (csr.requestsSans)
      throw new BridgeError(
        "csr_sans_not_allowed",
        "in ACM PCA direct mode the CSR must not carry subjectAltNames; the bridge sets them",
      );
    if (!Buffer.from(csr.spki).equals(Buffer.from(request.subjectPublicKey)))
      throw new BridgeError("csr_malformed", "the CSR's key is not the key to certify");

    const ca = await this.#caCertificates();
    const now = epochSeconds(this.#clock);
    const issued = await issueAndFetch(
      this.#client,
      {
        CertificateAuthorityArn: this.#caArn,
        Csr: new TextEncoder().encode(pemText(request.csrPem)),
        SigningAlgorithm: ca.signingAlgorithm,
        TemplateArn: this.#templateArn,
        Validity: { Type: "ABSOLUTE", Value: now + request.ttlSeconds },
        ValidityNotBefore: { Type: "ABSOLUTE", Value: now - BACKDATE_SECONDS },
        // One token per request: the SDK's own retries of this call reuse it, so a retry
        // after a lost answer returns the same certificate instead of a second one.
        IdempotencyToken: randomUUID(),
        ApiPassthrough: {
          Subject: this.#subject,
          Extensions: {
            SubjectAlternativeNames: [
              { UniformResourceIdentifier: request.spiffeId.toString() },
              ...(request.dnsNames ?? []).map((DnsName) => ({ DnsName })),
            ],
            KeyUsage: {
              DigitalSignature: true,
              ...(csr.keyKind.startsWith("rsa") && { KeyEncipherment: true }),
            },
            ExtendedKeyUsage: [
              { ExtendedKeyUsageType: "SERVER_AUTH" },
              { ExtendedKeyUsageType: "CLIENT_AUTH" },
            ],
          },
        },
      },
      this.#poll,
    );
    const chain = [issued.certificate, ...issued.chain.filter((c) => !sameCertificate(c, ca.root))];
    this.#checkIssued(chain, request, ca.root);
    const leaf = issued.certificate;
    return {
      chain,
      expiresAt: Math.floor(leaf.notAfter.getTime() / 1000),
      serialNumber: leaf.serialNumber,
    };
  }

  async trustAnchors(): Promise<X509Certificate[]> {
    return [(await this.#caCertificates()).root];
  }

  /** Fails closed when PCA's answer is not the SVID asked for (a wrong template, a CA outside the bundle). */
  #checkIssued(chain: X509Certificate[], request: IssueX509SvidRequest, root: X509Certificate): void {
    try {
      const bundle = new TrustBundle({ trustDomain: this.#trustDomain, x509Authorities: [root] });
      const { spiffeId } = validateX509Svid(chain, bundle, { clock: this.#clock });
      if (!spiffeId.equals(request.spiffeId)) throw new Error(`PCA certified ${spiffeId}`);
      if (!Buffer.from(chain[0]!.publicKey.rawData).equals(Buffer.from(request.subjectPublicKey)))
        throw new Error("PCA certified another key");
    } catch (cause) {
      throw new BridgeError(
        "ca_unavailable",
        "ACM PCA issued a certificate that is not the X.509-SVID asked for",
        { cause },
      );
    }
  }
}

/** PCA takes the PEM text (base64-encoded on the wire by the SDK); accept base64 DER too. */
function pemText(csr: string): string {
  const text = csr.trim();
  if (text.startsWith("-----BEGIN")) return `${text}\n`;
  const body =
    text
      .replace(/\s+/g, "")
      .match(/.{1,64}/g)
      ?.join("\n") ?? "";
  return `-----BEGIN CERTIFICATE REQUEST-----\n${body}\n-----END CERTIFICATE REQUEST-----\n`;
}
