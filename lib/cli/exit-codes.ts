/**
 * How every `svid-bridge` command ends: an exit code a script can branch on, and one
 * line on stderr, `error <code>: message`. Later commands (dev, token, verify, …) reuse
 * this mapping instead of inventing their own.
 */
import { CommanderError } from "commander";
import { BridgeError, type ErrorCode } from "../errors.js";

export const EXIT = {
  ok: 0,
  /** Bad flags or arguments, missing configuration. */
  usage: 1,
  /** The input was understood and is wrong (a bad SPIFFE ID, TTL, selector…). */
  validation: 2,
  /** The thing exists already, changed meanwhile, or is not there. */
  conflict: 3,
  /** AWS (or the local stand-in) failed or refused. */
  aws: 4,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A usage error found after commander parsed the flags (e.g. no table name anywhere). */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

const CONFLICT: readonly ErrorCode[] = ["registration_exists", "registration_not_found", "version_conflict"];
const VALIDATION: readonly ErrorCode[] = [
  "registration_invalid",
  "invalid_spiffe_id",
  "invalid_trust_domain",
  "invalid_request",
  "invalid_rendered_id",
  "role_id_mismatch",
  // `svid-bridge verify`: the token was read and is not valid for this audience/issuer.
  "jwt_malformed",
  "jwt_alg_not_allowed",
  "jwt_header_invalid",
  "jwt_kid_missing",
  "jwt_kid_unknown",
  "jwt_signature_invalid",
  "jwt_expired",
  "jwt_not_yet_valid",
  "jwt_claims_invalid",
  "jwt_audience_mismatch",
  "trust_domain_mismatch",
];

export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  if (error instanceof UsageError) return EXIT.usage;
  if (error instanceof BridgeError) {
    if (CONFLICT.includes(error.code)) return EXIT.conflict;
    if (VALIDATION.includes(error.code)) return EXIT.validation;
    return EXIT.aws;
  }
  return EXIT.aws;
}

/** The stderr line for an error: `error <code>: message`. */
export function errorLine(error: unknown): string {
  if (error instanceof CommanderError)
    return `error usage: ${error.message.replace(/^error: /, "")} (see --help)`;
  if (error instanceof UsageError) return `error usage: ${error.message}`;
  if (error instanceof BridgeError) return `error ${error.code}: ${error.message}`;
  const name = error instanceof Error ? error.name : "Error";
  const message = error instanceof Error ? error.message : String(error);
  return `error aws_error: ${name}: ${message}`;
}
