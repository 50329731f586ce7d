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

type Route = "openIdConfiguration" | "jwks" | "bundle";

/**
 * The three documents, rendered once per key-set sequence (and, for the bundle, per set
 * of extra roots), with the extra roots fetched once per process.
 */
class RenderedDocuments {
  readonly #options: DiscoveryEndpointOptions;
  readonly #keySets: KeySetCache;
  #jwt: { sequence: number; docs: Record<string, Rendered> } | undefined;
  #bundle: { sequence: number; anchors: X509Certificate[]; doc: Rendered } | undefined;
  readonly #anchors: () => Promise<X509Certificate[]>;

  constructor(options: DiscoveryEndpointOptions) {
    this.#options = options;
    this.#keySets = new KeySetCache({
      store: options.store,
      clock: options.clock,
      ttlSeconds: options.keySetCacheSeconds ?? 5,
    });
    // A failed fetch must not stick: the next request tries again.
    this.#anchors = options.extraTrustAnchors
      ? cachedUntilFailure(options.extraTrustAnchors)
      : () => Promise.resolve([]);
    // Start fetching the roots at once (cold start), so the first bundle request waits less.
    this.#anchors().catch(() => undefined);
  }

  get(route: Route): Promise<Rendered> {
    return route === "bundle" ? this.#bundleDocument() : this.#jwtDocument(route);
  }

  #build(set: KeySet, extra: X509Certificate[]) {
    return buildDiscoveryDocuments(set, {
      issuer: this.#options.issuer,
      trustDomain: this.#options.trustDomain,
      refreshHintSeconds: this.#options.refreshHintSeconds ?? 300,
      extraTrustAnchors: extra,
    });
  }

  /**
   * OIDC discovery and the JWKS come from the key set alone: they never wait on the PCA
   * roots, so a PCA outage or a slow root fetch cannot fail or slow what AWS STS and
   * Google fetch (within their few-second budget) to verify JWT-SVIDs.
   */
  async #jwtDocument(route: "openIdConfiguration" | "jwks"): Promise<Rendered> {
    const set = await this.#keySets.get();
    if (this.#jwt?.sequence !== set.sequence) {
      const built = await this.#build(set, []);
      this.#jwt = {
        sequence: set.sequence,
        docs: { openIdConfiguration: render(built.openIdConfiguration), jwks: render(built.jwks) },
      };
    }
    return this.#jwt.docs[route]!;
  }

  async #bundleDocument(): Promise<Rendered> {
    const [set, extra] = await Promise.all([this.#keySets.get(), this.#anchors()]);
    if (this.#bundle?.sequence !== set.sequence || this.#bundle.anchors !== extra)
      this.#bundle = {
        sequence: set.sequence,
        anchors: extra,
        doc: render((await this.#build(set, extra)).bundle),
      };
    return this.#bundle.doc;
  }
}

/** 200 with the document (no body for HEAD), or 304 when If-None-Match names its ETag. */
function answer(request: HttpRequest, doc: Rendered, maxAge: number): HttpResponse {
  const headers = {
    "content-type": "application/json",
    "cache-control": `public, max-age=${maxAge}`,
    etag: doc.etag,
    ...CORS,
  };
  if (etagMatches(request.headers["if-none-match"], doc.etag)) return { statusCode: 304, headers, body: "" };
  return { statusCode: 200, headers, body: request.method === "HEAD" ? "" : doc.body };
}

/**
 * Client faults are answered here (405 with Allow); server faults go up to the handler's
 * error middleware, which logs them and answers a generic 5xx.
 */
function refusal(error: unknown): HttpResponse {
  if (!(error instanceof BridgeError) || error.status >= 500) throw error;
  const response = errorToResponse(error, { ...CORS });
  if (response.statusCode === 405) response.headers.allow = "GET, HEAD";
  return response;
}

export function createDiscoveryEndpoint(
  options: DiscoveryEndpointOptions,
): (request: HttpRequest) => Promise<HttpResponse> {
  checkCanonicalIssuer(options.issuer, { allowHttpLoopback: options.allowHttpLoopback ?? false });
  const maxAge = options.cacheMaxAgeSeconds ?? 300;
  const paths = discoveryPaths(options.issuer);
  const routes = new Map<string, Route>([
    [paths.openIdConfiguration, "openIdConfiguration"],
    [paths.jwks, "jwks"],
    [paths.bundle, "bundle"],
  ]);
  const documents = new RenderedDocuments(options);
  return async (request) => {
    try {
      const route = routes.get(request.path);
      if (!route) throw new BridgeError("not_found", "no such document");
      if (request.method !== "GET" && request.method !== "HEAD")
        throw new BridgeError("method_not_allowed", `${request.method} is not allowed here; use GET or HEAD`);
      return answer(request, await documents.get(route), maxAge);
    } catch (error) {
      return refusal(error);
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
