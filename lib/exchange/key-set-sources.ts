/**
 * The exchange's reads of the key set, each through the sandbox's KeySetCache: the
 * active JWT signer, the trust bundle it hands out, and the intermediate CA (rebuilt
 * only when the rotation has put a new intermediate in the set).
 */
import type { IntermediateCertificateAuthority } from "../ca/intermediate-certificate-authority.js";
import { cachedUntilFailure } from "../cached-until-failure.js";
import type { Clock } from "../clock.js";
import type { X509Certificate } from "../crypto/x509.js";
import { jwtAuthoritiesOf } from "../discovery/discovery-documents.js";
import { BridgeError } from "../errors.js";
import type { KeySet } from "../keyset/key-set.js";
import type { KeySetCache } from "../keyset/key-set-cache.js";
import { intermediateFromRecord } from "../keyset/x509-authority.js";
import type { CertificateAuthority } from "../ports/certificate-authority.js";
import type { KeyManager } from "../ports/key-manager.js";
import { TrustBundle } from "../spiffe/bundle.js";
import type { TrustDomain } from "../spiffe/spiffe-id.js";

/**
 * The bundle the exchange hands out: JWT authorities from the key set, X.509 authorities
 * from the CA in force (the key set's anchors in intermediate mode, PCA's root in direct).
 */
export function keySetBundle(
  cache: KeySetCache,
  trustDomain: TrustDomain,
  ca: Pick<CertificateAuthority, "trustAnchors">,
  refreshHintSeconds = 300,
) {
  // Rebuilt only when the key set or the anchors change, not on every X.509 request.
  let last: { set: KeySet; anchors: X509Certificate[]; bundle: TrustBundle } | undefined;
  return async (): Promise<TrustBundle> => {
    const [set, anchors] = await Promise.all([cache.get(), ca.trustAnchors()]);
    const same =
      last?.set === set &&
      last.anchors.length === anchors.length &&
      last.anchors.every((a, i) => a === anchors[i]);
    if (!same || !last) {
      const bundle = new TrustBundle({
        trustDomain,
        jwtAuthorities: jwtAuthoritiesOf(set),
        x509Authorities: anchors,
        sequence: set.sequence,
        refreshHintSeconds,
      });
      last = { set, anchors, bundle };
    }
    return last.bundle;
  };
}

/** Intermediate mode: leaves signed by the intermediate the key set names. */
export function keySetCertificateAuthority(
  cache: KeySetCache,
  keys: KeyManager,
  clock: Clock,
): CertificateAuthority {
  let current: { certificatePem: string; ca: () => Promise<IntermediateCertificateAuthority> } | undefined;
  const resolve = async () => {
    const record = (await cache.get()).x509;
    if (!record)
      throw new BridgeError(
        "ca_unavailable",
        "no intermediate CA in the key set: the rotation has not issued one yet",
      );
    // One build per intermediate; a failed build must not stick: the next request tries again.
    if (current?.certificatePem !== record.certificatePem)
      current = {
        certificatePem: record.certificatePem,
        ca: cachedUntilFailure(() => intermediateFromRecord(record, keys, clock)),
      };
    return current.ca();
  };
  return {
    issue: async (request) => (await resolve()).issue(request),
    // The intermediate CA already parsed the record's anchors; a JWT-only bridge has none.
    trustAnchors: async () => ((await cache.get()).x509 ? (await resolve()).trustAnchors() : []),
  };
}
