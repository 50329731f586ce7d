/**
 * SPIFFE bundle documents parsed with @peculiar/x509 certificates as the X.509 authorities,
 * what the bridge's chain validation reads (lib/spiffe/x509-svid.ts). Its own module, so
 * that lib/spiffe/bundle.ts, which the extension and the in-process client bundle, never
 * names @peculiar/x509.
 */
import { X509Certificate } from "../crypto/x509.js";
import { TrustBundle } from "./bundle.js";
import type { TrustDomain } from "./spiffe-id.js";

/**
 * Parses a SPIFFE bundle document (an object, or its JSON as text or bytes) for
 * `trustDomain`, rejecting what SPIRE's decoder rejects.
 * @throws BridgeError bundle_malformed (naming the rule), trust_domain_mismatch.
 */
export function parseTrustBundle(trustDomain: TrustDomain, input: unknown): Promise<TrustBundle> {
  return TrustBundle.parseWith(trustDomain, input, (der) => new X509Certificate(der));
}
