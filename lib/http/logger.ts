/**
 * The bridge's structured JSON logger (Powertools Logger) with a redacting replacer:
 * whatever a caller passes, tokens, proofs, keys and credentials never reach a log line.
 * Redaction is by field name (token, proof, authorization, private keys, secrets…) and
 * by shape (anything that looks like a compact JWS/JWT, or a PEM private key).
 */
import { Logger } from "@aws-lambda-powertools/logger";

const SECRET_FIELD =
  /^(authorization|proof|token|id_?token|access_?token|jwt|jwt_?svid|svid|x-amz-security-token|x-aws-session-token|session_?token|aws_session_token|secret|secret_?access_?key|password|private_?key|privatekey|private_?key_?pem|d|p|q|dp|dq|qi|k|key_?material|plaintext)$/i;
// A JWS is found inside runs of base64url characters and dots, each run matched once, so
// the work is linear; the former pattern (eyJ…\.…\.…) was retried at every "eyJ" of a run
// that failed to match, quadratic in a logged string (issue 14, fault 1's kind).
const DOTTED_RUN = /[A-Za-z0-9_.-]+/g;
const PRIVATE_PEM = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g;

export const REDACTED = "[redacted]";

/** JSON replacer: hides secret-named fields and secret-shaped strings. Exported for tests and other sinks. */
export function redactingReplacer(key: string, value: unknown): unknown {
  if (key !== "" && SECRET_FIELD.test(key) && value !== undefined && value !== null) return REDACTED;
  if (typeof value === "string") return value.replace(DOTTED_RUN, redactJws).replace(PRIVATE_PEM, REDACTED);
  return value;
}

/** In one run of `[A-Za-z0-9_.-]`: "eyJ" + ≥ 4 characters, then two more dot-separated parts, redacted. */
function redactJws(run: string): string {
  if (!run.includes("eyJ")) return run;
  const parts = run.split(".");
  const out: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const at = part.indexOf("eyJ");
    if (at !== -1 && part.length - at >= 7 && i + 2 < parts.length) {
      out.push(`${part.slice(0, at)}${REDACTED}`);
      i += 2; // the payload and signature parts go with it
      continue;
    }
    out.push(part);
  }
  return out.join(".");
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
