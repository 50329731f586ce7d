/**
 * What a Node.js function asks for its identity, whichever mode serves it:
 * - `SvidBridgeClient` (svid-bridge-client.ts): the layer's extension, over its local API;
 * - `InProcessSvidSource` (in-process/in-process-source.ts): the function's own process
 *   proves its role and calls the bridge's exchange itself, no layer.
 * `svidSourceFromEnv()` (source-from-env.ts) picks one from the environment.
 */

export interface JwtSvid {
  spiffeId: string;
  /** The compact JWS. */
  token: string;
  audience: string;
  /** Epoch seconds. */
  expiresAt: number;
}

export interface X509Svid {
  spiffeId: string;
  /** PEM, leaf first. */
  certificateChain: string;
  /** PKCS#8 PEM. */
  privateKey: string;
  /** PEM of the trust domain's X.509 roots. */
  bundle: string;
  /** Epoch seconds. */
  expiresAt: number;
}

export interface ValidatedJwtSvid {
  spiffeId: string;
  claims: Record<string, unknown>;
}

/** The SPIFFE bundle document (JWT authorities and X.509 roots as a JWK set). */
export interface BundleDocument {
  keys: Record<string, unknown>[];
  spiffe_sequence?: number;
  spiffe_refresh_hint?: number;
}

export interface SvidSource {
  /** "extension" or "in-process": which implementation this is. */
  readonly mode: "extension" | "in-process";
  /** A JWT-SVID for one audience, never within its safety margin of expiry. */
  jwtSvid(audience: string): Promise<JwtSvid>;
  /** The X.509-SVID with its private key (made in this sandbox) and the trust bundle. */
  x509Svid(): Promise<X509Svid>;
  bundle(): Promise<BundleDocument>;
  /** Validates a JWT-SVID another service sent (signature, exp, aud, sub) against the bundle. */
  validateJwtSvid(token: string, audience: string): Promise<ValidatedJwtSvid>;
  /**
   * Fetches the configured SVIDs now (SVID_BRIDGE_JWT_AUDIENCES, and the X.509-SVID unless
   * SVID_BRIDGE_X509=off): `await source.prefetch()` at the top level of an ESM handler runs
   * the exchange in the init phase. The extension does this in its own init: a no-op there.
   */
  prefetch(): Promise<void>;
}

/**
 * A failure, with the stable `code` of whoever refused and its HTTP `status` (0: nothing
 * answered). A refusal by the bridge's exchange carries the exchange's own code and status
 * in both modes (`no_registration` 403, `audience_not_allowed`, `proof_expired`, …; README
 * "Errors"); the extension's local API's own refusals (`not_ready`, `unauthorized`, …)
 * and `extension_unreachable` are the extension mode's alone.
 */
export class SvidBridgeClientError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "SvidBridgeClientError";
  }
}
