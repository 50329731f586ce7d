/**
 * The dev and test CA: a self-signed root and an intermediate (pathLen 0), both keys in
 * a KeyManager, issuing leaves through IntermediateCertificateAuthority: the same code
 * path the AWS intermediate mode uses, with a local root where AWS has ACM PCA.
 */

import { IntermediateCertificateAuthority } from "../ca/intermediate-certificate-authority.js";
import { type Clock, systemClock } from "../clock.js";
import type { SigningAlgorithm } from "../crypto/algorithms.js";
import { type KeyManager, signerFor } from "../ports/key-manager.js";
import type { TrustDomain } from "../spiffe/spiffe-id.js";
import { SpiffeId } from "../spiffe/spiffe-id.js";
import { buildCaCertificate } from "../spiffe/x509-svid.js";

export interface LocalCertificateAuthorityOptions {
  trustDomain: TrustDomain;
  keys: KeyManager;
  /** Default ES256: the local CA pays no KMS price. */
  alg?: SigningAlgorithm;
  rootTtlSeconds?: number;
  intermediateTtlSeconds?: number;
  clock?: Clock;
}

export async function createLocalCertificateAuthority(
  options: LocalCertificateAuthorityOptions,
): Promise<IntermediateCertificateAuthority> {
  const clock = options.clock ?? systemClock;
  const alg = options.alg ?? "ES256";
  const tdId = SpiffeId.parse(options.trustDomain.id);
  const rootKey = await options.keys.createKey(alg, { description: "svid-bridge local root CA" });
  const rootSigner = await signerFor(options.keys, rootKey.keyId);
  const root = await buildCaCertificate({
    trustDomainId: tdId,
    subject: `CN=SVID Bridge local root CA, O=SVID Bridge, OU=${options.trustDomain.name}`,
    subjectPublicKey: rootKey.spki,
    signer: rootSigner,
    ttlSeconds: options.rootTtlSeconds ?? 365 * 24 * 3600,
    clock,
  });
  const intermediateKey = await options.keys.createKey(alg, {
    description: "svid-bridge local intermediate CA",
  });
  const intermediate = await buildCaCertificate({
    trustDomainId: tdId,
    subject: `CN=SVID Bridge local intermediate CA, O=SVID Bridge, OU=${options.trustDomain.name}`,
    subjectPublicKey: intermediateKey.spki,
    issuer: root,
    signer: rootSigner,
    ttlSeconds: options.intermediateTtlSeconds ?? 7 * 24 * 3600,
    pathLength: 0,
    clock,
  });
  return new IntermediateCertificateAuthority({
    chain: [intermediate],
    signer: await signerFor(options.keys, intermediateKey.keyId),
    roots: [root],
    clock,
  });
}
