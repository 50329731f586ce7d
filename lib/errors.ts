/**
 * One error model for the whole bridge. Every failure a client can cause carries a
 * stable snake_case `code` (clients and tests match on it, never on the message),
 * the HTTP `status` that code always answers with (`ERROR_STATUS`), and `expose`:
 * whether the message may be sent to the caller.
 */

/** Every stable error code. Adding one is an API change: document it in README. */
export type ErrorCode =
  // SPIFFE IDs and trust domains
  | "invalid_spiffe_id"
  | "invalid_trust_domain"
  | "trust_domain_mismatch"
  // JWT-SVID
  | "jwt_malformed"
  | "jwt_alg_not_allowed"
  | "jwt_header_invalid"
  | "jwt_kid_missing"
  | "jwt_kid_unknown"
  | "jwt_signature_invalid"
  | "jwt_expired"
  | "jwt_not_yet_valid"
  | "jwt_claims_invalid"
  | "jwt_audience_mismatch"
  // X.509-SVID, CSRs
  | "csr_malformed"
  | "csr_signature_invalid"
  | "unsupported_key"
  // a relying party's JWKS (or bundle) names a key the bridge would never accept to verify with
  | "jwt_key_unsupported"
  | "x509_svid_invalid"
  | "x509_chain_invalid"
  // bundles
  | "bundle_malformed"
  // keys, CA
  | "key_not_found"
  | "key_unavailable"
  | "ca_unavailable"
  | "ca_busy"
  // ACM PCA direct mode (kms-pca): a CSR asking for SANs, whose merge with the API's is unknown
  | "csr_sans_not_allowed"
  // proof of identity
  | "proof_malformed"
  | "proof_invalid"
  | "proof_expired"
  | "proof_replayed"
  | "proof_rejected"
  | "sts_unavailable"
  // too many STS calls in flight in this sandbox: shed with 429 and Retry-After (issue 14, fault 8)
  | "sts_busy"
  | "principal_not_allowed"
  // proof of identity: rules with their own code (lib/proof/proof-rules.ts)
  | "proof_server_id_mismatch"
  | "proof_binding_mismatch"
  | "proof_region_not_allowed"
  // registrations
  | "no_registration"
  | "registration_invalid"
  | "registration_not_found"
  | "registration_exists"
  | "version_conflict"
  | "role_id_mismatch"
  | "invalid_rendered_id"
  | "svid_kind_not_allowed"
  | "audience_not_allowed"
  // HTTP surface
  | "invalid_request"
  | "unknown_field"
  | "body_too_large"
  | "unsupported_media_type"
  | "method_not_allowed"
  | "not_found"
  | "unauthorized"
  | "not_ready"
  | "store_unavailable"
  | "config_invalid"
  | "internal_error"
  // Lambda extension (layers/extension): the exchange as the extension sees it
  | "exchange_unavailable"
  | "exchange_rejected"
  // A relying party (svid-bridge verify, demo's checks): the issuer's public documents
  | "discovery_unavailable"
  // svid-bridge demo: the sample function's sandbox did not start, or its handler failed
  | "function_init_failed"
  | "function_failed";

export interface BridgeErrorOptions {
  /** May `message` be shown to the client? Default: true for 4xx, false for 5xx. */
  expose?: boolean;
  cause?: unknown;
  /** Extra, non-secret fields for logs and for the JSON error body. */
  details?: Record<string, unknown>;
}

/**
 * The HTTP status of each code: one code, one status (issue 17). A call site names the
 * code only, so no code can answer 400 in one place and 401 in another; a refusal that
 * needs another status needs another code. `—` rows of README's table (the CLI's demo
 * codes) never reach HTTP: they carry 500 here.
 */
export const ERROR_STATUS: Readonly<Record<ErrorCode, number>> = Object.freeze({
  invalid_spiffe_id: 400,
  invalid_trust_domain: 400,
  trust_domain_mismatch: 401,
  jwt_malformed: 401,
  jwt_alg_not_allowed: 401,
  jwt_header_invalid: 401,
  jwt_kid_missing: 401,
  jwt_kid_unknown: 401,
  jwt_signature_invalid: 401,
  jwt_expired: 401,
  jwt_not_yet_valid: 401,
  jwt_claims_invalid: 401,
  jwt_audience_mismatch: 401,
  jwt_key_unsupported: 401,
  csr_malformed: 400,
  csr_signature_invalid: 400,
  unsupported_key: 400,
  x509_svid_invalid: 401,
  x509_chain_invalid: 401,
  bundle_malformed: 400,
  key_not_found: 500,
  key_unavailable: 503,
  ca_unavailable: 503,
  ca_busy: 503,
  csr_sans_not_allowed: 400,
  proof_malformed: 400,
  proof_invalid: 401,
  proof_expired: 401,
  proof_replayed: 401,
  proof_rejected: 401,
  sts_unavailable: 503,
  sts_busy: 429,
  principal_not_allowed: 403,
  proof_server_id_mismatch: 401,
  proof_binding_mismatch: 401,
  proof_region_not_allowed: 401,
  no_registration: 403,
  registration_invalid: 400,
  registration_not_found: 404,
  registration_exists: 409,
  version_conflict: 409,
  role_id_mismatch: 403,
  invalid_rendered_id: 403,
  svid_kind_not_allowed: 403,
  audience_not_allowed: 403,
  invalid_request: 400,
  unknown_field: 400,
  body_too_large: 413,
  unsupported_media_type: 415,
  method_not_allowed: 405,
  not_found: 404,
  unauthorized: 401,
  not_ready: 503,
  store_unavailable: 503,
  config_invalid: 500,
  internal_error: 500,
  exchange_unavailable: 503,
  exchange_rejected: 502,
  discovery_unavailable: 503,
  function_init_failed: 500,
  function_failed: 500,
});

/** Is `value` one of the stable codes (e.g. a code read off the wire)? */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(ERROR_STATUS, value);
}

export class BridgeError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly expose: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: BridgeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "BridgeError";
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.expose = options.expose ?? this.status < 500;
    this.details = options.details;
  }

  /**
   * The JSON body a client sees: never the cause, never an unexposed message. When this
   * error passes on another service's refusal (the extension's `exchange_rejected`),
   * `upstream` is that service's own code (`no_registration`, …), so a function sees the
   * code the exchange chose whichever mode serves it.
   */
  toJSON(): { error: ErrorCode; message: string; upstream?: ErrorCode } {
    const upstream = this.details?.upstream;
    return {
      error: this.code,
      message: this.expose ? this.message : "internal error",
      ...(this.expose && isErrorCode(upstream) && { upstream }),
    };
  }
}

export function isBridgeError(value: unknown): value is BridgeError {
  return value instanceof BridgeError;
}

/** Narrow helper for tests and callers that want the code of whatever was thrown. */
export function errorCodeOf(value: unknown): ErrorCode | undefined {
  return isBridgeError(value) ? value.code : undefined;
}
