/**
 * What the function sees when the in-process source fails: an SvidBridgeClientError with
 * the stable code of whoever refused. A refusal by the exchange keeps the exchange's own
 * code and status (`no_registration` 403, `proof_expired` 401, …), not a wrapper's.
 */
import { BridgeError } from "../../../lib/errors.js";
import { SvidBridgeClientError } from "../svid-source.js";

export function toClientError(error: unknown): SvidBridgeClientError {
  if (error instanceof SvidBridgeClientError) return error;
  if (error instanceof BridgeError) {
    const upstream = error.details?.upstream;
    const upstreamStatus = error.details?.upstreamStatus;
    if (
      error.code === "exchange_rejected" &&
      typeof upstream === "string" &&
      typeof upstreamStatus === "number"
    )
      return new SvidBridgeClientError(upstream, upstreamStatus, error.message, { cause: error });
    return new SvidBridgeClientError(error.code, error.status, error.message, { cause: error });
  }
  return new SvidBridgeClientError("internal_error", 500, `svid-bridge in-process: ${error}`, {
    cause: error,
  });
}

/** The exchange said no (4xx): asking again at once gets the same answer. */
export function isRefusal(error: SvidBridgeClientError): boolean {
  return error.status >= 400 && error.status < 500;
}
