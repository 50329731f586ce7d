/**
 * Output for people and for scripts: aligned tables and `key: value` blocks by default,
 * JSON (one document, 2-space indented, trailing newline) with `--json`.
 */
import type { Writable } from "node:stream";

export interface CliIo {
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  /** Reads a file, or stdin for "-"; injectable for tests in process. */
  readInput(path: string): Promise<string>;
}

export function writeJson(out: Writable, value: unknown): void {
  out.write(`${JSON.stringify(value, null, 2)}\n`);
}

export interface Column<T> {
  header: string;
  value: (row: T) => string;
}

/** Plain-text table, columns padded to their widest cell; "(none)" when there are no rows. */
export function formatTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  if (rows.length === 0) return "(none)\n";
  const cells = [columns.map((c) => c.header), ...rows.map((r) => columns.map((c) => oneLine(c.value(r))))];
  const widths = columns.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  return `${cells
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n")}\n`;
}

/** `key: value` lines, keys aligned; undefined values are left out. */
export function formatFields(fields: ReadonlyArray<[string, string | undefined]>): string {
  const shown = fields.filter((f): f is [string, string] => f[1] !== undefined);
  const width = Math.max(...shown.map(([k]) => k.length)) + 1;
  return `${shown.map(([k, v]) => `${`${k}:`.padEnd(width)} ${oneLine(v)}`).join("\n")}\n`;
}

/** Control characters never reach a terminal from stored data. */
function oneLine(s: string): string {
  let out = "";
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    out += c < 0x20 || c === 0x7f || (c >= 0x80 && c < 0xa0) ? "?" : ch;
  }
  return out;
}
