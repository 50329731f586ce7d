/**
 * The dev and test CA: a self-signed root and an intermediate (pathLen 0), both keys in
 * a KeyManager (made by LocalCaRenewer, as `svid-bridge dev` makes them), issuing leaves
 * through IntermediateCertificateAuthority: the same code path the AWS intermediate mode
 * uses, with a local root where AWS has ACM PCA.
 */

import { IntermediateCertificateAuthority } from "../ca/intermediate-certificate-authority.js";
import { systemClock } from "../clock.js";
import { signerFor } from "../ports/key-manager.js";
import { LocalCaRenewer, type LocalCaRenewerOptions } from "./local-ca-renewer.js";

/** The renewer's options: trust domain, KeyManager, alg (default ES256), lifetimes, clock. */
export type LocalCertificateAuthorityOptions = LocalCaRenewerOptions;

export async function createLocalCertificateAuthority(
  options: LocalCertificateAuthorityOptions,
): Promise<IntermediateCertificateAuthority> {
  const renewer = await LocalCaRenewer.create(options);
  const intermediate = await renewer.issueIntermediate();
  return new IntermediateCertificateAuthority({
    chain: [intermediate.certificate],
    signer: await signerFor(options.keys, intermediate.keyId),
    roots: [renewer.root],
    clock: options.clock ?? systemClock,
  });
}
