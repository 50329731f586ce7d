/**
 * What a relying party does with a bridge it knows only by its issuer URL: fetch the
 * public documents (OIDC discovery, its jwks_uri, the SPIFFE bundle endpoint) and check
 * an SVID against them. `svid-bridge verify` and `svid-bridge demo` use it; nothing here
 * reads the bridge's tables or keys, so a pass means an outside verifier would pass too.
 */
import { decodeJwt } from "jose";
import { BridgeError } from "../errors.js";
import { TrustBundle } from "../spiffe/bundle.js";
import { type ValidatedJwtSvid, validateJwtSvid } from "../spiffe/jwt-svid.js";
import { parseTrustBundle } from "../spiffe/parse-trust-bundle.js";
import { SpiffeId, TrustDomain } from "../spiffe/spiffe-id.js";
import { parseCertificatesPem, type ValidatedX509Svid, validateX509Svid } from "../spiffe/x509-svid.js";
import { BUNDLE_PATH } from "./discovery-endpoint.js";

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** https, or http to loopback (svid-bridge dev): keys fetched in the clear could be swapped. */
export function checkPublicUrl(url: string, what: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new BridgeError("config_invalid", `${what} is not a URL: ${url}`);
  }
  if (parsed.protocol !== "https:" && !(parsed.protocol === "http:" && LOOPBACK.has(parsed.hostname)))
    throw new BridgeError("config_invalid", `${what} must be https (or http to loopback): ${url}`);
  return parsed;
}

async function getJson(url: URL, what: string): Promise<Record<string, unknown>> {
  let response: Response;
  try {
    response = await fetch(url, { redirect: "error", signal: AbortSignal.timeout(10_000) });
  } catch (cause) {
    const inner = (cause as { cause?: { code?: string; message?: string } }).cause;
    const reason = inner?.code ?? inner?.message ?? (cause as Error).message;
    throw new BridgeError("discovery_unavailable", `cannot fetch the ${what} at ${url} (${reason})`, {
      cause,
    });
  }
  if (!response.ok)
    throw new BridgeError("discovery_unavailable", `the ${what} at ${url} answered ${response.status}`);
  const body = (await response.json().catch(() => undefined)) as unknown;
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw new BridgeError("discovery_unavailable", `the ${what} at ${url} is not a JSON object`);
  return body as Record<string, unknown>;
}

const withoutSlash = (url: string) => url.replace(/\/+$/, "");

export interface VerifyThroughDiscoveryOptions {
  issuer: string;
  audience: string;
  /** Also require sub in this trust domain. */
  trustDomain?: TrustDomain;
}

/**
 * Fetches `<issuer>/.well-known/openid-configuration` (whose `issuer` must be the one
 * asked for), then its `jwks_uri`, and applies every JWT-SVID rule with `iss` = issuer.
 */
export async function verifyJwtSvidThroughDiscovery(
  token: string,
  options: VerifyThroughDiscoveryOptions,
): Promise<ValidatedJwtSvid> {
  const { issuer } = options;
  checkPublicUrl(issuer, "the issuer");
  const config = await getJson(
    new URL(`${withoutSlash(issuer)}/.well-known/openid-configuration`),
    "discovery document",
  );
  if (config.issuer !== issuer)
    throw new BridgeError(
      "config_invalid",
      `the discovery document names issuer ${String(config.issuer)}, not ${issuer}`,
    );
  if (typeof config.jwks_uri !== "string")
    throw new BridgeError("config_invalid", "the discovery document has no jwks_uri");
  const jwks = await getJson(checkPublicUrl(config.jwks_uri, "jwks_uri"), "JWKS");
  // The keys are the issuer's; the bundle is for the trust domain the token claims
  // (validateJwtSvid looks keys up only there), narrowed by trustDomain when given.
  const sub = SpiffeId.tryParse(unverifiedSub(token));
  // An unparseable sub is refused by validateJwtSvid before any key is looked at.
  const trustDomain = options.trustDomain ?? (sub.ok ? sub.id.trustDomain : TrustDomain.parse("invalid"));
  const keys = Array.isArray(jwks.keys) ? (jwks.keys as Record<string, unknown>[]) : [];
  const bundle = new TrustBundle({
    trustDomain,
    jwtAuthorities: keys
      .filter((k) => typeof k.kid === "string")
      .map((k) => ({
        kid: k.kid as string,
        jwk: k,
        ...(typeof k.alg === "string" && { alg: k.alg as never }),
      })),
  });
  return validateJwtSvid(token, {
    audience: options.audience,
    bundles: bundle,
    issuer,
    ...(options.trustDomain && { trustDomains: [options.trustDomain] }),
  });
}

/** The trust domain's bundle from the bridge's SPIFFE bundle endpoint (`<issuer>/bundle.json`). */
export async function fetchTrustBundle(issuer: string, trustDomain: TrustDomain): Promise<TrustBundle> {
  checkPublicUrl(issuer, "the issuer");
  const document = await getJson(new URL(`${withoutSlash(issuer)}${BUNDLE_PATH}`), "SPIFFE bundle");
  return parseTrustBundle(trustDomain, document);
}

/**
 * Validates a PEM chain (leaf first) against the bundle the bridge publishes for the
 * leaf's trust domain: every X.509-SVID rule, signatures, validity, path lengths.
 */
export async function verifyX509SvidThroughBundle(
  chainPem: string,
  options: { issuer: string; trustDomain: TrustDomain },
): Promise<ValidatedX509Svid> {
  const bundle = await fetchTrustBundle(options.issuer, options.trustDomain);
  return validateX509Svid(parseCertificatesPem(chainPem), bundle);
}

/** sub without verification, only to pick the bundle; validateJwtSvid checks everything. */
function unverifiedSub(token: string): string {
  try {
    const { sub } = decodeJwt(token);
    return typeof sub === "string" ? sub : "";
  } catch {
    return ""; // validateJwtSvid refuses it with jwt_malformed
  }
}
