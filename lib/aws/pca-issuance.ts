/**
 * What both ACM PCA modes share: IssueCertificate then GetCertificate polled with a short
 * doubling backoff (issuance is asynchronous; the SDK waiter's first delay is seconds,
 * far too long for a request path), reading the CA's own certificate and root, and PCA
 * errors as BridgeErrors (throttling and quota → 503 `ca_busy` with a retry hint; a bad
 * CSR → 400 `csr_malformed`; everything else → 503 `ca_unavailable`).
 */
import { createPublicKey } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import {
  type ACMPCAClient,
  GetCertificateAuthorityCertificateCommand,
  GetCertificateCommand,
  IssueCertificateCommand,
  type IssueCertificateCommandInput,
  type SigningAlgorithm as PcaSigningAlgorithm,
} from "@aws-sdk/client-acm-pca";
import { type Clock, systemClock } from "../clock.js";
import type { X509Certificate } from "../crypto/x509.js";
import { BridgeError } from "../errors.js";
import { parseCertificatesPem } from "../spiffe/x509-svid.js";

export const PCA_RETRY_AFTER_SECONDS = 1;
export const PCA_TEMPLATE_PREFIX = "arn:aws:acm-pca:::template/";

/**
 * A template ARN in the partition of the CA that issues with it (`arn:aws-cn:…` for a CA
 * in China, `arn:aws-us-gov:…` in GovCloud): the deployed roles allow exactly that ARN.
 */
export function templateInPartitionOf(caArn: string, templateArn: string): string {
  const partition = /^arn:(aws[a-z-]*):/.exec(caArn)?.[1];
  return partition ? templateArn.replace(/^arn:aws[a-z-]*:/, `arn:${partition}:`) : templateArn;
}

const BUSY = new Set(["ThrottlingException", "LimitExceededException", "TooManyRequestsException"]);

export function pcaError(operation: string, cause: unknown): BridgeError {
  if (cause instanceof BridgeError) return cause;
  const name = cause instanceof Error ? cause.name : "UnknownError";
  if (BUSY.has(name))
    return new BridgeError("ca_busy", "the certificate authority is busy; retry shortly", {
      expose: true,
      cause,
      details: { pcaError: name, retryAfterSeconds: PCA_RETRY_AFTER_SECONDS },
    });
  if (name === "MalformedCSRException")
    return new BridgeError("csr_malformed", "ACM PCA refused the CSR", {
      cause,
      details: { pcaError: name },
    });
  return new BridgeError("ca_unavailable", `ACM PCA ${operation} failed: ${name}`, {
    cause,
    details: { pcaError: name },
  });
}

export interface PcaPollOptions {
  /** First wait after IssueCertificate. Default 50 ms. */
  initialDelayMs?: number;
  /** Cap on one wait; each wait doubles up to it. Default 1,000 ms. */
  maxDelayMs?: number;
  /** Total time to wait for the certificate before giving up with 503 ca_unavailable. Default 8,000 ms. */
  maxWaitMs?: number;
  clock?: Clock;
  sleep?: (ms: number) => Promise<void>;
}

export interface IssuedPcaCertificate {
  certificateArn: string;
  certificate: X509Certificate;
  /** GetCertificate's CertificateChain: issuer first, root last. */
  chain: X509Certificate[];
}

/** IssueCertificate, then GetCertificate until it stops answering RequestInProgressException. */
export async function issueAndFetch(
  client: ACMPCAClient,
  input: IssueCertificateCommandInput,
  poll: PcaPollOptions = {},
): Promise<IssuedPcaCertificate> {
  let certificateArn: string | undefined;
  try {
    certificateArn = (await client.send(new IssueCertificateCommand(input))).CertificateArn;
  } catch (cause) {
    throw pcaError("IssueCertificate", cause);
  }
  if (!certificateArn) throw new BridgeError("ca_unavailable", "ACM PCA issued no certificate ARN");

  const clock = poll.clock ?? systemClock;
  const sleep = poll.sleep ?? ((ms: number) => delay(ms));
  const deadline = clock.now() + (poll.maxWaitMs ?? 8_000);
  let wait = poll.initialDelayMs ?? 50;
  for (;;) {
    await sleep(wait);
    try {
      const out = await client.send(
        new GetCertificateCommand({
          CertificateAuthorityArn: input.CertificateAuthorityArn,
          CertificateArn: certificateArn,
        }),
      );
      const [certificate] = parseCertificatesPem(out.Certificate ?? "", "ca_unavailable");
      if (!certificate)
        throw new BridgeError("ca_unavailable", "ACM PCA GetCertificate answered without a certificate");
      return {
        certificateArn,
        certificate,
        chain: parseCertificatesPem(out.CertificateChain ?? "", "ca_unavailable"),
      };
    } catch (cause) {
      if (!(cause instanceof Error) || cause.name !== "RequestInProgressException")
        throw pcaError("GetCertificate", cause);
    }
    if (clock.now() + wait > deadline)
      throw new BridgeError("ca_unavailable", `ACM PCA did not issue ${certificateArn} in time`, {
        details: { retryAfterSeconds: PCA_RETRY_AFTER_SECONDS },
      });
    wait = Math.min(wait * 2, poll.maxDelayMs ?? 1_000);
  }
}

export interface PcaCaCertificates {
  /** The PCA CA's own certificate. */
  certificate: X509Certificate;
  /** Certificates above it, root last; empty for a root CA. */
  chain: X509Certificate[];
  /** The trust anchor: the chain's last certificate, or the CA's own for a root CA. */
  root: X509Certificate;
  /** The signing algorithm that fits the CA's key. */
  signingAlgorithm: PcaSigningAlgorithm;
}

export async function fetchCaCertificates(client: ACMPCAClient, caArn: string): Promise<PcaCaCertificates> {
  let out: { Certificate?: string; CertificateChain?: string };
  try {
    out = await client.send(
      new GetCertificateAuthorityCertificateCommand({ CertificateAuthorityArn: caArn }),
    );
  } catch (cause) {
    throw pcaError("GetCertificateAuthorityCertificate", cause);
  }
  const [certificate] = parseCertificatesPem(out.Certificate ?? "", "ca_unavailable");
  if (!certificate) throw new BridgeError("ca_unavailable", `ACM PCA CA ${caArn} has no certificate`);
  const chain = parseCertificatesPem(out.CertificateChain ?? "", "ca_unavailable");
  return {
    certificate,
    chain,
    root: chain.at(-1) ?? certificate,
    signingAlgorithm: signingAlgorithmFor(certificate),
  };
}

/** PCA signs with the CA's own key: the algorithm family (and curve's hash) must match it. */
export function signingAlgorithmFor(caCertificate: X509Certificate): PcaSigningAlgorithm {
  const key = createPublicKey({
    key: Buffer.from(caCertificate.publicKey.rawData),
    format: "der",
    type: "spki",
  });
  if (key.asymmetricKeyType === "rsa") return "SHA256WITHRSA";
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (curve === "prime256v1") return "SHA256WITHECDSA";
  if (curve === "secp384r1") return "SHA384WITHECDSA";
  if (curve === "secp521r1") return "SHA512WITHECDSA";
  throw new BridgeError(
    "config_invalid",
    `the PCA CA's key (${key.asymmetricKeyType} ${curve}) is not supported`,
  );
}

/** Same bytes: how a root in a chain is recognised. */
export function sameCertificate(a: X509Certificate, b: X509Certificate): boolean {
  return Buffer.from(a.rawData).equals(Buffer.from(b.rawData));
}
