/**
 * The hostile suites' shared count: each suite adds what it saw to a Tally and saves it
 * as one JSON file in a directory the hostile globalSetup provides
 * (test/hostile/hostile-table.setup.ts); the setup's teardown prints one table over
 * every suite and fails the run when a zero is not zero. A suite run alone (no setup)
 * still asserts its own zeros with `expectZeros`.
 *
 * Counters (what the issue asks the table to show):
 *   requests            every request a suite sent
 *   statuses            responses by HTTP status ("net" for a transport failure)
 *   unauthorisedIssues  SVIDs issued where the request did not entitle the caller to one
 *   unexpected5xx       5xx where the stand-ins were healthy, or a 5xx other than the documented one
 *   crashes             a handler that threw past its error middleware, a 502 from the Function URL,
 *                       a dropped connection, an extension process that died
 *   lostWrites          registration updates acknowledged and then missing
 *   slowestMs           the slowest request, and what it was
 */
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface TallyRecord {
  suite: string;
  requests: number;
  statuses: Record<string, number>;
  unauthorisedIssues: number;
  unexpected5xx: number;
  crashes: number;
  lostWrites: number;
  slowestMs: number;
  slowestWhat: string;
  /** Free-form figures a suite reports (throughput, p50/p99): shown, never asserted. */
  notes: string[];
}

/** The counters that must end at zero. */
export const ZERO_COUNTERS = ["unauthorisedIssues", "unexpected5xx", "crashes", "lostWrites"] as const;

export class Tally {
  readonly record: TallyRecord;

  constructor(suite: string) {
    this.record = {
      suite,
      requests: 0,
      statuses: {},
      unauthorisedIssues: 0,
      unexpected5xx: 0,
      crashes: 0,
      lostWrites: 0,
      slowestMs: 0,
      slowestWhat: "",
      notes: [],
    };
  }

  /** One request's outcome: its status (or "net"), how long it took and what it was. */
  response(status: number | "net", ms: number, what: string): void {
    const r = this.record;
    r.requests++;
    r.statuses[String(status)] = (r.statuses[String(status)] ?? 0) + 1;
    if (ms > r.slowestMs) {
      r.slowestMs = ms;
      r.slowestWhat = what;
    }
  }

  add(counter: (typeof ZERO_COUNTERS)[number], n = 1): void {
    this.record[counter] += n;
  }

  note(text: string): void {
    this.record.notes.push(text);
  }

  /** Writes the record where the hostile setup collects it (no-op without the setup). */
  save(dir: string | undefined): void {
    if (!dir) return;
    const name = `${this.record.suite.replace(/[^a-z0-9-]/gi, "_")}-${randomBytes(4).toString("hex")}.json`;
    writeFileSync(join(dir, name), JSON.stringify(this.record));
  }
}

/** Every record saved in `dir`. */
export function readTallies(dir: string): TallyRecord[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .map((f) => JSON.parse(readFileSync(join(dir, f), "utf8")) as TallyRecord);
}

const pad = (s: string, n: number) => (s.length >= n ? s : s + " ".repeat(n - s.length));

/** The table the hostile run prints: one row per suite, a total row, then the notes. */
export function formatTable(records: readonly TallyRecord[]): string {
  const head = ["suite", "requests", "statuses", "unauth", "5xx", "crashes", "lost", "slowest"];
  const rows = records.map((r) => [
    r.suite,
    String(r.requests),
    Object.entries(r.statuses)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([s, n]) => `${s}:${n}`)
      .join(" "),
    String(r.unauthorisedIssues),
    String(r.unexpected5xx),
    String(r.crashes),
    String(r.lostWrites),
    `${r.slowestMs.toFixed(1)} ms ${r.slowestWhat}`,
  ]);
  const sum = (k: keyof TallyRecord) => records.reduce((n, r) => n + (r[k] as number), 0);
  const slowest = records.reduce((a, r) => (r.slowestMs > a.slowestMs ? r : a), records[0]!);
  rows.push([
    "TOTAL",
    String(sum("requests")),
    "",
    String(sum("unauthorisedIssues")),
    String(sum("unexpected5xx")),
    String(sum("crashes")),
    String(sum("lostWrites")),
    slowest ? `${slowest.slowestMs.toFixed(1)} ms (${slowest.suite})` : "",
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => pad(c, widths[i]!)).join(" | ");
  const notes = records.flatMap((r) => r.notes.map((n) => `  ${r.suite}: ${n}`));
  return [
    line(head),
    widths.map((w) => "-".repeat(w)).join("-|-"),
    ...rows.map(line),
    ...(notes.length ? ["", ...notes] : []),
  ].join("\n");
}

/** The zero counters that are not zero, as "suite: counter = n" lines. */
export function nonZero(records: readonly TallyRecord[]): string[] {
  return records.flatMap((r) =>
    ZERO_COUNTERS.filter((c) => r[c] !== 0).map((c) => `${r.suite}: ${c} = ${r[c]}`),
  );
}

/**
 * Soak runs multiply the suites' counts by this: `npm run test:soak` (which sets
 * FUZZ_REQUESTS=200000, the fuzz suite's request count) or SVID_BRIDGE_SOAK=1.
 */
export const SOAK = process.env.SVID_BRIDGE_SOAK === "1" || process.env.FUZZ_REQUESTS !== undefined ? 10 : 1;

/** Fuzz requests per run: FUZZ_REQUESTS when set, else 10 000 (100 000 with SVID_BRIDGE_SOAK=1). */
export const FUZZ_REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 10_000 * SOAK);

/** The fuzz seed: FUZZ_SEED (or SVID_BRIDGE_FUZZ_SEED) when set. */
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? process.env.SVID_BRIDGE_FUZZ_SEED ?? 20261129);
