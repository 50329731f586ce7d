/**
 * Response helpers: JSON bodies with the headers every bridge answer carries, and the
 * error body `{error, message}` (never a stack, a cause or an unexposed message).
 */
import { BridgeError, type ErrorCode } from "../errors.js";
import type { HttpResponse } from "./http-types.js";

/** Headers on every answer: JSON, and no sniffing. */
export const BASE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "content-type": "application/json",
  "x-content-type-options": "nosniff",
});

export function jsonResponse(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): HttpResponse {
  return { statusCode, headers: { ...BASE_HEADERS, ...headers }, body: JSON.stringify(body) };
}

export interface ErrorBody {
  error: ErrorCode;
  message: string;
}

export const INTERNAL_ERROR_BODY: Readonly<ErrorBody> = Object.freeze({
  error: "internal_error",
  message: "internal error",
});

/** Retry-After for a 503 whose error names no delay of its own, seconds. */
export const DEFAULT_RETRY_AFTER_SECONDS = 1;

/** The status and body a client sees for anything thrown. Unknown errors are 500 `internal_error`. */
export function errorToResponse(error: unknown, headers: Record<string, string> = {}): HttpResponse {
  if (error instanceof BridgeError) {
    const status =
      Number.isInteger(error.status) && error.status >= 400 && error.status <= 599 ? error.status : 500;
    const body: ErrorBody = error.toJSON();
    // A refusal that says when to come back (sts_busy, ca_busy, KMS/PCA throttling) says it in HTTP
    // too; any other 503 is an outage a retry can outlast (RFC 9110 §10.2.3): come back in a second.
    const retryAfter =
      error.details?.retryAfterSeconds ?? (status === 503 ? DEFAULT_RETRY_AFTER_SECONDS : undefined);
    const retry: Record<string, string> =
      typeof retryAfter === "number" && Number.isInteger(retryAfter) && retryAfter > 0
        ? { "retry-after": String(retryAfter) }
        : {};
    return jsonResponse(status, body, { "cache-control": "no-store", ...retry, ...headers });
  }
  return jsonResponse(500, INTERNAL_ERROR_BODY, { "cache-control": "no-store", ...headers });
}
