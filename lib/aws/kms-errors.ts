/**
 * KMS failures as BridgeErrors. Whatever KMS says (key missing, disabled, pending
 * deletion, throttled, down, access denied) the client did nothing wrong: it is always
 * 503 `key_unavailable`, never exposed in detail (the key ARN stays in the logs), with a
 * retry hint when a retry can help.
 */
import { BridgeError } from "../errors.js";

/** KMS error names (the SDK error's `name`) that mean "slow down". */
const THROTTLED = new Set(["ThrottlingException", "LimitExceededException"]);

/** Errors that clear by themselves (KMS's 500s, throttling): a client retry can succeed. */
const TRANSIENT = new Set([
  ...THROTTLED,
  "KMSInternalException",
  "KeyUnavailableException",
  "DependencyTimeoutException",
]);

export const KMS_RETRY_AFTER_SECONDS = 1;

export function kmsError(operation: string, keyId: string, cause: unknown): BridgeError {
  if (cause instanceof BridgeError) return cause;
  const name = cause instanceof Error ? cause.name : "UnknownError";
  const transient = TRANSIENT.has(name);
  return new BridgeError(
    "key_unavailable",
    THROTTLED.has(name)
      ? `KMS is throttling ${operation}; retry shortly`
      : `KMS ${operation} on ${keyId} failed: ${name}`,
    {
      expose: false,
      cause,
      details: {
        kmsError: name,
        ...(transient && { retryAfterSeconds: KMS_RETRY_AFTER_SECONDS }),
      },
    },
  );
}
