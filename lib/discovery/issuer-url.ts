/**
 * The issuer URL as relying parties compare it: byte for byte with every token's `iss`
 * and with the `issuer` of the discovery document, and as the base of `jwks_uri`. On top
 * of checkIssuerUrl's rules (https, no query, fragment, userinfo, port, trailing slash),
 * the URL must already be in the form a URL parser gives back, so none of these pass:
 * `https://h:443` (a default port, which URL drops), `https://h?` and `https://h#` (an
 * empty query or fragment: `jwks_uri` would become `https://h?/.well-known/jwks.json`),
 * `https://h/a/./b` or `https://h/.` (dot segments), `https://H.example` (upper case host),
 * or percent-encodings a parser rewrites.
 */
import { BridgeError } from "../errors.js";
import { checkIssuerUrl } from "../spiffe/oidc.js";

export function checkCanonicalIssuer(issuer: string, options: { allowHttpLoopback?: boolean } = {}): URL {
  const url = checkIssuerUrl(issuer, options);
  const canonical = url.pathname === "/" ? url.origin : `${url.origin}${url.pathname}`;
  if (issuer !== canonical)
    throw new BridgeError(
      "config_invalid",
      `issuer must be written as ${JSON.stringify(canonical)} (relying parties compare it byte for byte): ${issuer}`,
    );
  return url;
}
