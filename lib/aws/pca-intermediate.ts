/**
 * Intermediate mode (default): an intermediate CA whose key is a KeyManager key (KMS or
 * KMS-wrapped) and whose certificate ACM PCA signs with SubordinateCACertificate_PathLen0.
 * One PCA call per intermediate (at rotation, not per SVID), as SPIRE's aws_pca upstream
 * authority does; leaves are then built and signed locally in milliseconds.
 *
 * `issuePcaIntermediate` runs at bootstrap/rotation and returns the PEMs to persist;
 * `intermediateFromPem` rebuilds the CA from them at cold start without calling PCA.
 */
import { randomUUID } from "node:crypto";
import type { ACMPCAClient } from "@aws-sdk/client-acm-pca";
import { IntermediateCertificateAuthority } from "../ca/intermediate-certificate-authority.js";
import { type Clock, epochSeconds, systemClock } from "../clock.js";
import {
  BasicConstraintsExtension,
  Pkcs10CertificateRequestGenerator,
  SubjectAlternativeNameExtension,
  type X509Certificate,
} from "../crypto/x509.js";
import { portSigning } from "../crypto/x509-signing.js";
import { BridgeError } from "../errors.js";
import { type KeyManager, type Signer, signerFor } from "../ports/key-manager.js";
import type { TrustDomain } from "../spiffe/spiffe-id.js";
import { BACKDATE_SECONDS, certificatesToPem, parseCertificatesPem } from "../spiffe/x509-svid.js";
import {
  fetchCaCertificates,
  issueAndFetch,
  PCA_TEMPLATE_PREFIX,
  type PcaPollOptions,
  sameCertificate,
  templateInPartitionOf,
} from "./pca-issuance.js";

export const INTERMEDIATE_TEMPLATE_ARN = `${PCA_TEMPLATE_PREFIX}SubordinateCACertificate_PathLen0/V1`;

/** Under the 7-day ceiling of a short-lived-mode PCA CA; rotation renews at half life. */
export const DEFAULT_INTERMEDIATE_TTL_SECONDS = 6 * 86400;

export interface IssuePcaIntermediateInput {
  client: ACMPCAClient;
  certificateAuthorityArn: string;
  trustDomain: TrustDomain;
  /** The intermediate's key: signs the CSR now, and every leaf later. */
  keys: KeyManager;
  keyId: string;
  /** Default `CN=SVID Bridge intermediate CA, O=SVID Bridge, OU=<trust domain>`. */
  subject?: string;
  ttlSeconds?: number;
  templateArn?: string;
  /** Default: up to 60 s (rotation is not on a request path). */
  poll?: PcaPollOptions;
  clock?: Clock;
}

export interface PcaIntermediate {
  ca: IntermediateCertificateAuthority;
  certificateArn: string;
  /** The intermediate's certificate, then any PCA certificates below the root (root excluded). */
  chainPem: string;
  /** The PCA root: the trust bundle's X.509 authority. */
  rootPem: string;
  /** Seconds since the epoch. */
  expiresAt: number;
}

export async function issuePcaIntermediate(input: IssuePcaIntermediateInput): Promise<PcaIntermediate> {
  const clock = input.clock ?? systemClock;
  const signer = await signerFor(input.keys, input.keyId);
  const csr = await buildIntermediateCsr(signer, input.trustDomain, input.subject);
  const pcaCa = await fetchCaCertificates(input.client, input.certificateAuthorityArn);
  const now = epochSeconds(clock);
  const issued = await issueAndFetch(
    input.client,
    {
      CertificateAuthorityArn: input.certificateAuthorityArn,
      Csr: new TextEncoder().encode(csr),
      SigningAlgorithm: pcaCa.signingAlgorithm,
      TemplateArn:
        input.templateArn ?? templateInPartitionOf(input.certificateAuthorityArn, INTERMEDIATE_TEMPLATE_ARN),
      Validity: { Type: "ABSOLUTE", Value: now + (input.ttlSeconds ?? DEFAULT_INTERMEDIATE_TTL_SECONDS) },
      ValidityNotBefore: { Type: "ABSOLUTE", Value: now - BACKDATE_SECONDS },
      IdempotencyToken: randomUUID(),
    },
    { maxWaitMs: 60_000, clock, ...input.poll },
  );
  const chain = [issued.certificate, ...issued.chain.filter((c) => !sameCertificate(c, pcaCa.root))];
  checkIntermediate(issued.certificate, signer);
  return {
    ca: new IntermediateCertificateAuthority({ chain, signer, roots: [pcaCa.root], clock }),
    certificateArn: issued.certificateArn,
    chainPem: certificatesToPem(chain),
    rootPem: certificatesToPem([pcaCa.root]),
    expiresAt: Math.floor(issued.certificate.notAfter.getTime() / 1000),
  };
}

export interface IntermediateFromPemInput {
  keys: KeyManager;
  keyId: string;
  chainPem: string;
  rootPem: string;
  clock?: Clock;
}

/** Rebuilds intermediate mode from persisted PEMs: no PCA call at cold start. */
export async function intermediateFromPem(
  input: IntermediateFromPemInput,
): Promise<IntermediateCertificateAuthority> {
  const chain = parseCertificatesPem(input.chainPem, "ca_unavailable");
  const roots = parseCertificatesPem(input.rootPem, "ca_unavailable");
  if (chain.length === 0 || roots.length === 0)
    throw new BridgeError("config_invalid", "the intermediate CA's chain or root PEM is empty");
  const signer = await signerFor(input.keys, input.keyId);
  checkIntermediate(chain[0]!, signer);
  return new IntermediateCertificateAuthority({
    chain,
    signer,
    roots,
    ...(input.clock && { clock: input.clock }),
  });
}

/**
 * The CSR for the intermediate, signed through the Signer port (the key may be in KMS):
 * subject names the bridge, the one URI SAN is the trust domain's SPIFFE ID (as
 * X509-SVID §3 wants of a signing certificate); SubordinateCACertificate_PathLen0 copies both.
 */
export async function buildIntermediateCsr(
  signer: Signer,
  trustDomain: TrustDomain,
  subject?: string,
): Promise<string> {
  const signing = portSigning(signer);
  const spki = signer.spki.buffer.slice(
    signer.spki.byteOffset,
    signer.spki.byteOffset + signer.spki.byteLength,
  );
  // The generator reads the public key through crypto.subtle.exportKey: answer with the port's SPKI.
  const crypto = {
    getRandomValues: signing.crypto.getRandomValues,
    subtle: { sign: signing.crypto.subtle.sign, exportKey: async () => spki },
  } as unknown as typeof signing.crypto;
  const csr = await Pkcs10CertificateRequestGenerator.create(
    {
      name: subject ?? `CN=SVID Bridge intermediate CA, O=SVID Bridge, OU=${trustDomain.name}`,
      keys: { privateKey: signing.signingKey, publicKey: signing.signingKey },
      signingAlgorithm: signing.signingAlgorithm,
      extensions: [new SubjectAlternativeNameExtension([{ type: "url", value: trustDomain.id }], false)],
    },
    crypto,
  );
  return csr.toString("pem");
}

/** The certificate PCA returned must certify our key as a CA limited to issuing leaves. */
function checkIntermediate(certificate: X509Certificate, signer: Signer): void {
  if (!Buffer.from(certificate.publicKey.rawData).equals(Buffer.from(signer.spki)))
    throw new BridgeError(
      "ca_unavailable",
      "the intermediate certificate does not certify the intermediate's key",
    );
  const bc = certificate.getExtension(BasicConstraintsExtension);
  if (!bc?.ca || bc.pathLength !== 0)
    throw new BridgeError(
      "ca_unavailable",
      "the intermediate certificate is not a CA with pathLen 0 (check the template)",
    );
}
