/**
 * One JSON line per event on stdout (Lambda ships it to the function's log group).
 * Never logs tokens, keys or credentials: callers pass identifiers and codes only.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";

export interface Logger {
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void;
}

export const jsonLogger: Logger = {
  log(level, message, fields) {
    process.stdout.write(
      `${JSON.stringify({ level, extension: "svid-bridge", message, ...fields, time: new Date().toISOString() })}\n`,
    );
  },
};

export const silentLogger: Logger = { log() {} };

export function errorFields(error: unknown): Record<string, unknown> {
  if (error instanceof Error)
    return { error: (error as { code?: unknown }).code ?? error.name, reason: error.message };
  return { error: String(error) };
}
