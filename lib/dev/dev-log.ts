/**
 * The dev stack's log: short human lines on stderr (`12:00:01 svid issued kind=jwt …`),
 * or one JSON object per line with `--json`. Both go through the bridge's redacting
 * replacer, so tokens, proofs and keys never reach the terminal.
 */
import type { Writable } from "node:stream";
import { redactingReplacer } from "../http/logger.js";

export type Level = "debug" | "info" | "warn" | "error";

export interface DevLog {
  debug(message: string, ...extra: Record<string, unknown>[]): void;
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

export function createDevLog(out: Writable, options: { json?: boolean; verbose?: boolean } = {}): DevLog {
  const write = (level: Level, message: string, extra: Record<string, unknown>[]) => {
    if (level === "debug" && !options.verbose) return;
    const fields = Object.assign({}, ...extra) as Record<string, unknown>;
    const safe = JSON.parse(JSON.stringify(fields, errorsAsObjects(redactingReplacer))) as Record<
      string,
      unknown
    >;
    if (options.json) {
      out.write(`${JSON.stringify({ level, time: new Date().toISOString(), message, ...safe })}\n`);
      return;
    }
    const time = new Date().toTimeString().slice(0, 8);
    const tail = Object.entries(safe)
      .filter(([, v]) => v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0))
      .map(
        ([k, v]) =>
          `${k}=${k === "actions" ? actionsText(v) : typeof v === "string" ? v : JSON.stringify(v)}`,
      )
      .join(" ");
    const tag = level === "info" || level === "debug" ? "" : `${level.toUpperCase()} `;
    out.write(`${time} ${tag}${message}${tail ? ` ${tail}` : ""}\n`);
  };
  return {
    debug: (m, ...e) => write("debug", m, e),
    info: (m, ...e) => write("info", m, e),
    warn: (m, ...e) => write("warn", m, e),
    error: (m, ...e) => write("error", m, e),
  };
}

/** Errors have no enumerable fields; log their name, code and message. */
function errorsAsObjects(replacer: (key: string, value: unknown) => unknown) {
  return (key: string, value: unknown) => {
    if (value instanceof Error)
      return replacer(key, {
        name: value.name,
        message: value.message,
        ...("code" in value && { code: (value as { code: unknown }).code }),
      });
    return replacer(key, value);
  };
}

/** Rotation actions, short: `created:S8XObp17,activated:S8XObp17,ca_renewed`. */
function actionsText(value: unknown): string {
  if (!Array.isArray(value)) return JSON.stringify(value);
  return value
    .map((a: { type?: unknown; kid?: unknown }) =>
      typeof a.kid === "string" ? `${String(a.type)}:${a.kid.slice(0, 8)}` : String(a.type),
    )
    .join(",");
}
