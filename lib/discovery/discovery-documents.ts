/**
 * The three documents the discovery endpoint serves, built from one key set:
 * the OIDC discovery document, its JWKS (`use: "sig"`, `alg`), and the SPIFFE bundle
 * (`jwt-svid` keys, the trust anchors as `x509-svid`, spiffe_sequence = the set's
 * sequence). Every published key state is served: prepared (so caches see it before it
 * signs), active, and retired (until every token it signed has expired).
 */
import type { X509Certificate } from "../crypto/x509.js";
import type { KeySet } from "../keyset/key-set.js";
import { trustAnchorsOf } from "../keyset/x509-authority.js";
import { type JwtAuthority, TrustBundle } from "../spiffe/bundle.js";
import { jwks, openIdConfiguration } from "../spiffe/oidc.js";
import type { TrustDomain } from "../spiffe/spiffe-id.js";

export interface DiscoveryDocuments {
  openIdConfiguration: unknown;
  jwks: unknown;
  bundle: unknown;
}

export function jwtAuthoritiesOf(set: KeySet): JwtAuthority[] {
  // Active first, then prepared, then retired: verifiers that try keys in order hit the
  // signing key first. Within a state, newest first.
  const rank = { active: 0, prepared: 1, retired: 2 } as const;
  return [...set.jwtKeys]
    .sort((a, b) => rank[a.state] - rank[b.state] || b.createdAt - a.createdAt)
    .map((k) => ({ kid: k.kid, jwk: k.jwk, alg: k.alg }));
}

export async function buildDiscoveryDocuments(
  set: KeySet,
  options: {
    issuer: string;
    trustDomain: TrustDomain;
    refreshHintSeconds: number;
    /** Roots from outside the key set (ACM PCA's in direct mode). */
    extraTrustAnchors?: readonly X509Certificate[];
  },
): Promise<DiscoveryDocuments> {
  const authorities = jwtAuthoritiesOf(set);
  const fromSet = trustAnchorsOf(set);
  const extra = (options.extraTrustAnchors ?? []).filter((c) => !fromSet.some((a) => a.equal(c)));
  const bundle = new TrustBundle({
    trustDomain: options.trustDomain,
    jwtAuthorities: authorities,
    x509Authorities: [...fromSet, ...extra],
    sequence: set.sequence,
    refreshHintSeconds: options.refreshHintSeconds,
  });
  return {
    openIdConfiguration: openIdConfiguration(options.issuer, authorities),
    jwks: jwks(authorities),
    bundle: await bundle.toDocument(),
  };
}
