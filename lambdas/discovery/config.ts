/**
 * Discovery Lambda configuration, read once at cold start, validated, frozen.
 *
 *   SVID_BRIDGE_ISSUER              https issuer URL (no port, query, trailing slash)   required
 *   SVID_BRIDGE_TRUST_DOMAIN        trust domain name, e.g. bridge.example.com          required
 *   SVID_BRIDGE_KEY_SET_TABLE       DynamoDB table of the key set                       required
 *   SVID_BRIDGE_KEY_SET_ID          item key inside the table                           default "default"
 *   SVID_BRIDGE_CACHE_MAX_AGE       Cache-Control max-age, seconds (0–3600)             default 300
 *   SVID_BRIDGE_BUNDLE_REFRESH_HINT spiffe_refresh_hint, seconds (1–86400)              default 300
 *   SVID_BRIDGE_KEY_SET_CACHE       seconds a sandbox reuses a key set read (0–60)      default 5
 *   SVID_BRIDGE_CA_MODE             intermediate | direct | none                        default intermediate
 *   SVID_BRIDGE_PCA_ARN             ACM PCA CA whose root the bundle publishes          required for direct
 */

import { checkCanonicalIssuer } from "../../lib/discovery/issuer-url.js";
import {
  type Env,
  integer,
  oneOf,
  optionalString,
  parsed,
  requiredString,
  requiredWhen,
} from "../../lib/http/env.js";
import { TrustDomain } from "../../lib/spiffe/spiffe-id.js";

export interface DiscoveryConfig {
  issuer: string;
  trustDomain: TrustDomain;
  keySetTable: string;
  keySetId: string;
  cacheMaxAgeSeconds: number;
  refreshHintSeconds: number;
  keySetCacheSeconds: number;
  /** Direct mode: the bundle's X.509 root is ACM PCA's (no intermediate in the key set). */
  directModePcaArn: string | undefined;
}

export function loadDiscoveryConfig(env: Env): Readonly<DiscoveryConfig> {
  const issuer = requiredString(env, "SVID_BRIDGE_ISSUER");
  parsed("SVID_BRIDGE_ISSUER", () => checkCanonicalIssuer(issuer));
  const trustDomain = parsed("SVID_BRIDGE_TRUST_DOMAIN", () =>
    TrustDomain.parse(requiredString(env, "SVID_BRIDGE_TRUST_DOMAIN")),
  );
  const caMode = oneOf(
    env,
    "SVID_BRIDGE_CA_MODE",
    ["intermediate", "direct", "none"] as const,
    "intermediate",
  );
  const pcaArn = requiredWhen(
    "SVID_BRIDGE_PCA_ARN",
    optionalString(env, "SVID_BRIDGE_PCA_ARN"),
    caMode === "direct",
    "SVID_BRIDGE_CA_MODE=direct",
  );
  return Object.freeze({
    directModePcaArn: caMode === "direct" ? pcaArn : undefined,
    issuer,
    trustDomain,
    keySetTable: requiredString(env, "SVID_BRIDGE_KEY_SET_TABLE"),
    keySetId: optionalString(env, "SVID_BRIDGE_KEY_SET_ID") ?? "default",
    cacheMaxAgeSeconds: integer(env, "SVID_BRIDGE_CACHE_MAX_AGE", 300, { max: 3600 }),
    refreshHintSeconds: integer(env, "SVID_BRIDGE_BUNDLE_REFRESH_HINT", 300, { min: 1, max: 86_400 }),
    keySetCacheSeconds: integer(env, "SVID_BRIDGE_KEY_SET_CACHE", 5, { max: 60 }),
  });
}
