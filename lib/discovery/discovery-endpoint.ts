/**
 * The discovery endpoint as a pure function of a request: HttpRequest → HttpResponse.
 *
 * Paths (under the issuer URL's path, so an issuer `https://h/p` serves `/p/.well-known/…`):
 *   /.well-known/openid-configuration   OIDC discovery (AWS IAM, GCP WIF, any OIDC verifier)
 *   /.well-known/jwks.json              its jwks_uri
 *   /bundle.json                        the SPIFFE bundle endpoint (https_web profile)
 * GET and HEAD only (405 otherwise, with Allow); anything else 404 `not_found`.
 * Each answer has a strong ETag over its body, honours If-None-Match with 304, and
 * carries `Cache-Control: public, max-age=N` and `Access-Control-Allow-Origin: *`.
 */
import { createHash } from "node:crypto";
import { cachedUntilFailure } from "../cached-until-failure.js";
import type { Clock } from "../clock.js";
import type { X509Certificate } from "../crypto/x509.js";
import { BridgeError } from "../errors.js";
import type { HttpRequest, HttpResponse } from "../http/http-types.js";
import { errorToResponse } from "../http/responses.js";
import type { KeySet } from "../keyset/key-set.js";
import { KeySetCache } from "../keyset/key-set-cache.js";
import type { KeySetStore } from "../keyset/key-set-store.js";
import type { TrustDomain } from "../spiffe/spiffe-id.js";
import { buildDiscoveryDocuments } from "./discovery-documents.js";
import { checkCanonicalIssuer } from "./issuer-url.js";

export const OPENID_CONFIGURATION_PATH = "/.well-known/openid-configuration";
export const JWKS_DOCUMENT_PATH = "/.well-known/jwks.json";
export const BUNDLE_PATH = "/bundle.json";

export interface DiscoveryEndpointOptions {
  issuer: string;
  trustDomain: TrustDomain;
  store: KeySetStore;
  clock: Clock;
  /** Cache-Control max-age of the documents. Default 300 s. */
  cacheMaxAgeSeconds?: number;
  /** spiffe_refresh_hint. Default 300 s (SPIRE's own). */
  refreshHintSeconds?: number;
  /** How long this process reuses a key set read. Default 5 s. */
  keySetCacheSeconds?: number;
  /** For `svid-bridge dev` and tests: accept an http://127.0.0.1:port issuer. */
  allowHttpLoopback?: boolean;
  /**
   * X.509 roots that are not in the key set: in `direct` CA mode the leaves chain to the
   * ACM PCA root and there is no intermediate record. Fetched once per process.
   */
  extraTrustAnchors?: () => Promise<X509Certificate[]>;
}

interface Rendered {
  body: string;
  etag: string;
}

const CORS = { "access-control-allow-origin": "*" } as const;

export function discoveryPaths(issuer: string) {
  const prefix = new URL(issuer).pathname.replace(/\/$/, "");
  return {
    openIdConfiguration: `${prefix}${OPENID_CONFIGURATION_PATH}`,
    jwks: `${prefix}${JWKS_DOCUMENT_PATH}`,
    bundle: `${prefix}${BUNDLE_PATH}`,
  };
}

export function createDiscoveryEndpoint(
  options: DiscoveryEndpointOptions,
): (request: HttpRequest) => Promise<HttpResponse> {
  checkCanonicalIssuer(options.issuer, { allowHttpLoopback: options.allowHttpLoopback ?? false });
  const maxAge = options.cacheMaxAgeSeconds ?? 300;
  const refreshHintSeconds = options.refreshHintSeconds ?? 300;
  const keySets = new KeySetCache({
    store: options.store,
    clock: options.clock,
    ttlSeconds: options.keySetCacheSeconds ?? 5,
  });
  const paths = discoveryPaths(options.issuer);
  const routes = new Map<string, "openIdConfiguration" | "jwks" | "bundle">([
    [paths.openIdConfiguration, "openIdConfiguration"],
    [paths.jwks, "jwks"],
    [paths.bundle, "bundle"],
  ]);
  // Documents are rebuilt only when the set's sequence (or, for the bundle, the roots) moves.
  let renderedJwt: { sequence: number; docs: Record<string, Rendered> } | undefined;
  let renderedBundle: { sequence: number; anchors: X509Certificate[]; doc: Rendered } | undefined;

  // A failed fetch must not stick: the next request tries again.
  const anchors: () => Promise<X509Certificate[]> = options.extraTrustAnchors
    ? cachedUntilFailure(options.extraTrustAnchors)
    : () => Promise.resolve([]);
  // Start fetching the roots at once (cold start), so the first bundle request waits less.
  anchors().catch(() => undefined);

  const build = (set: KeySet, extra: X509Certificate[]) =>
    buildDiscoveryDocuments(set, {
      issuer: options.issuer,
      trustDomain: options.trustDomain,
      refreshHintSeconds,
      extraTrustAnchors: extra,
    });

  /**
   * OIDC discovery and the JWKS come from the key set alone: they never wait on the PCA
   * roots, so a PCA outage or a slow root fetch cannot fail or slow what AWS STS and
   * Google fetch (within their few-second budget) to verify JWT-SVIDs.
   */
  async function jwtDocument(route: "openIdConfiguration" | "jwks"): Promise<Rendered> {
    const set = await keySets.get();
    if (renderedJwt?.sequence !== set.sequence) {
      const built = await build(set, []);
      renderedJwt = {
        sequence: set.sequence,
        docs: { openIdConfiguration: render(built.openIdConfiguration), jwks: render(built.jwks) },
      };
    }
    return renderedJwt.docs[route]!;
  }

  async function bundleDocument(): Promise<Rendered> {
    const [set, extra] = await Promise.all([keySets.get(), anchors()]);
    if (renderedBundle?.sequence !== set.sequence || renderedBundle.anchors !== extra)
      renderedBundle = {
        sequence: set.sequence,
        anchors: extra,
        doc: render((await build(set, extra)).bundle),
      };
    return renderedBundle.doc;
  }

  return async (request) => {
    try {
      const route = routes.get(request.path);
      if (!route) throw new BridgeError("not_found", "no such document");
      if (request.method !== "GET" && request.method !== "HEAD")
        throw new BridgeError("method_not_allowed", `${request.method} is not allowed here; use GET or HEAD`);
      const doc = route === "bundle" ? await bundleDocument() : await jwtDocument(route);
      const headers = {
        "content-type": "application/json",
        "cache-control": `public, max-age=${maxAge}`,
        etag: doc.etag,
        ...CORS,
      };
      if (etagMatches(request.headers["if-none-match"], doc.etag))
        return { statusCode: 304, headers, body: "" };
      return { statusCode: 200, headers, body: request.method === "HEAD" ? "" : doc.body };
    } catch (error) {
      // Client faults are answered here; server faults go up to the handler's error
      // middleware, which logs them and answers a generic 5xx.
      if (!(error instanceof BridgeError) || error.status >= 500) throw error;
      const response = errorToResponse(error, { ...CORS });
      if (response.statusCode === 405) response.headers.allow = "GET, HEAD";
      return response;
    }
  };
}

function render(doc: unknown): Rendered {
  const body = JSON.stringify(doc);
  return { body, etag: `"${createHash("sha256").update(body).digest("base64url")}"` };
}

/** If-None-Match uses the weak comparison (RFC 9110 §13.1.2): W/ is ignored; `*` matches. */
export function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header
    .split(",")
    .map((t) => t.trim().replace(/^W\//, ""))
    .some((t) => t === "*" || t === etag);
}
