/**
 * The bridge's structured JSON logger (Powertools Logger) with a redacting replacer:
 * whatever a caller passes, tokens, proofs, keys and credentials never reach a log line.
 * Redaction is by field name (token, proof, authorization, private keys, secrets…) and
 * by shape (anything that looks like a compact JWS/JWT, or a PEM private key).
 */
import { Logger } from "@aws-lambda-powertools/logger";

const SECRET_FIELD =
  /^(authorization|proof|token|id_?token|access_?token|jwt|jwt_?svid|svid|x-amz-security-token|x-aws-session-token|session_?token|aws_session_token|secret|secret_?access_?key|password|private_?key|privatekey|private_?key_?pem|d|p|q|dp|dq|qi|k|key_?material|plaintext)$/i;
// Starts only where a base64url run starts: without the look-behind a failed match was
// retried at every "eyJ" inside one run, quadratic in a logged string (issue 14, fault 1).
const JWS_LIKE = /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/g;
const PRIVATE_PEM = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g;

export const REDACTED = "[redacted]";

/** JSON replacer: hides secret-named fields and secret-shaped strings. Exported for tests and other sinks. */
export function redactingReplacer(key: string, value: unknown): unknown {
  if (key !== "" && SECRET_FIELD.test(key) && value !== undefined && value !== null) return REDACTED;
  if (typeof value === "string") return value.replace(JWS_LIKE, REDACTED).replace(PRIVATE_PEM, REDACTED);
  return value;
}

export interface CreateLoggerOptions {
  serviceName: string;
  /** Default: POWERTOOLS_LOG_LEVEL / AWS_LAMBDA_LOG_LEVEL, else INFO (Powertools' rules). */
  logLevel?: "DEBUG" | "INFO" | "WARN" | "ERROR" | "SILENT";
}

export function createLogger(options: CreateLoggerOptions): Logger {
  return new Logger({
    serviceName: options.serviceName,
    ...(options.logLevel && { logLevel: options.logLevel }),
    jsonReplacerFn: redactingReplacer,
  });
}
