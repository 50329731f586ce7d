/**
 * OIDC discovery document and JWKS for relying parties that speak OIDC rather than
 * SPIFFE (AWS IAM OIDC providers, GCP Workload Identity Federation, generic JWT
 * verifiers). Kept apart from the SPIFFE bundle: the JWKS carries `use: "sig"` and
 * `alg`, never the SPIFFE `use` values or `spiffe_*` fields.
 */
import type { JWK } from "jose";
import { publicJwk } from "../crypto/public-key.js";
import { BridgeError } from "../errors.js";
import type { JwtAuthority } from "./bundle.js";

export interface OpenIdConfiguration {
  issuer: string;
  jwks_uri: string;
  response_types_supported: ["id_token"];
  subject_types_supported: ["public"];
  id_token_signing_alg_values_supported: string[];
  claims_supported: string[];
}

/**
 * Checks an issuer URL the way AWS IAM and GCP need it: https, no query, fragment,
 * userinfo or port, no trailing slash (`iss` must match byte for byte).
 */
export function checkIssuerUrl(issuer: string, options: { allowHttpLoopback?: boolean } = {}): URL {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch (cause) {
    throw new BridgeError("config_invalid", `issuer ${JSON.stringify(issuer)} is not a URL`, { cause });
  }
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
  if (url.protocol !== "https:" && !(options.allowHttpLoopback && loopback && url.protocol === "http:"))
    throw new BridgeError(
      "config_invalid",
      `issuer must be an https URL (AWS IAM and GCP refuse others): ${issuer}`,
    );
  if (url.search || url.hash || url.username || url.password)
    throw new BridgeError("config_invalid", `issuer must have no query, fragment or userinfo: ${issuer}`);
  if (url.port && !(options.allowHttpLoopback && loopback))
    throw new BridgeError("config_invalid", `issuer must not name a port (AWS IAM refuses it): ${issuer}`);
  if (issuer.endsWith("/"))
    throw new BridgeError("config_invalid", `issuer must not end with '/': ${issuer}`);
  return url;
}

export const JWKS_PATH = "/.well-known/jwks.json";

export function openIdConfiguration(
  issuer: string,
  authorities: readonly JwtAuthority[],
): OpenIdConfiguration {
  const algs = [
    ...new Set(authorities.map((a) => a.alg).filter((a): a is NonNullable<typeof a> => a !== undefined)),
  ];
  return {
    issuer,
    jwks_uri: `${issuer}${JWKS_PATH}`,
    response_types_supported: ["id_token"],
    subject_types_supported: ["public"],
    id_token_signing_alg_values_supported: algs.length > 0 ? algs.sort() : ["RS256"],
    claims_supported: ["sub", "aud", "exp", "iat", "iss"],
  };
}

export function jwks(authorities: readonly JwtAuthority[]): { keys: JWK[] } {
  return {
    keys: authorities.map((a) => ({
      ...publicJwk(a.jwk),
      kid: a.kid,
      use: "sig",
      ...(a.alg && { alg: a.alg }),
    })),
  };
}
