/**
 * How every `svid-bridge` command ends: an exit code a script can branch on, and one
 * line on stderr, `error <code>: message` (or, with `--json`, `{"error":code,"message":…}`,
 * the exchange's own error shape). Every command reuses this mapping.
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

/** The AWS SDK found no credentials (possibly wrapped, e.g. as store_unavailable's cause). */
function credentialsMissing(error: unknown): Error | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++)
    if (e.name === "CredentialsProviderError") return e;
  return undefined;
}

const NO_CREDENTIALS =
  "no AWS credentials: against `svid-bridge dev`, run `source .svid-bridge/env` (it sets the dev principal's); " +
  "otherwise give the AWS SDK some (AWS_PROFILE or --profile, aws sso login, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)";

export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  if (error instanceof UsageError || credentialsMissing(error)) return EXIT.usage;
  if (error instanceof BridgeError) {
    if (CONFLICT.includes(error.code)) return EXIT.conflict;
    if (VALIDATION.includes(error.code)) return EXIT.validation;
    return EXIT.aws;
  }
  return EXIT.aws;
}

export interface ErrorReport {
  /** `usage`, `aws_error`, or the bridge's own stable code (lib/errors.ts). */
  code: string;
  message: string;
}

/** Joins lines with one space, each trimmed (linear: no regex around the newline to backtrack). */
function oneLine(text: string): string {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .join(" ");
}

/** What an error is called and says, for the line and for `--json`. */
export function errorReport(error: unknown): ErrorReport {
  if (error instanceof CommanderError)
    return {
      code: "usage",
      // One line: commander puts its "(Did you mean --audience?)" on a line of its own.
      message: `${oneLine(error.message.replace(/^error: /, ""))} (see --help)`,
    };
  if (error instanceof UsageError) return { code: "usage", message: error.message };
  const noCredentials = credentialsMissing(error);
  if (noCredentials) return { code: "usage", message: `${NO_CREDENTIALS} (${noCredentials.message})` };
  if (error instanceof BridgeError) return { code: error.code, message: error.message };
  const name = error instanceof Error ? error.name : "Error";
  const message = error instanceof Error ? error.message : String(error);
  return { code: "aws_error", message: `${name}: ${message}` };
}

/** The stderr line for an error: `error <code>: message`. */
export function errorLine(error: unknown): string {
  const { code, message } = errorReport(error);
  return `error ${code}: ${message}`;
}

/** The stderr line with `--json`: one JSON object, as the exchange's error bodies are. */
export function errorJson(error: unknown): string {
  const { code, message } = errorReport(error);
  return JSON.stringify({ error: code, message, exitCode: exitCodeFor(error) });
}
