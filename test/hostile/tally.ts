/**
 * One tally for the hostile suites (issue 14): requests, statuses, unauthorised issues,
 * 5xx, crashes, lost writes and the slowest request, printed as one table at the end.
 */
export interface Tally {
  requests: number;
  statuses: Map<number, number>;
  unauthorisedIssues: number;
  serverErrors: number;
  crashes: number;
  lostWrites: number;
  slowestMs: number;
  slowestWhat: string;
  /** Examples of what went wrong, for the failure message. */
  examples: string[];
}

export const tally: Tally = {
  requests: 0,
  statuses: new Map(),
  unauthorisedIssues: 0,
  serverErrors: 0,
  crashes: 0,
  lostWrites: 0,
  slowestMs: 0,
  slowestWhat: "",
  examples: [],
};

/**
 * Records one request. `documented`: a 5xx the fault being injected is documented to give
 * (the STS fault suite's 503s), counted in the statuses but not as a 5xx.
 */
export function note(
  what: string,
  status: number | "crash",
  ms: number,
  issued = false,
  documented = false,
): void {
  tally.requests++;
  if (status === "crash") tally.crashes++;
  else {
    tally.statuses.set(status, (tally.statuses.get(status) ?? 0) + 1);
    if (status >= 500 && !documented) tally.serverErrors++;
  }
  if (issued) tally.unauthorisedIssues++;
  if (
    (status === "crash" || ((status as number) >= 500 && !documented) || issued) &&
    tally.examples.length < 10
  )
    tally.examples.push(`${what}: ${status}${issued ? " (issued!)" : ""}`);
  if (ms > tally.slowestMs) {
    tally.slowestMs = ms;
    tally.slowestWhat = what;
  }
}

export function table(): string {
  const statuses = [...tally.statuses.entries()]
    .sort(([a], [b]) => a - b)
    .map(([s, n]) => `${s}:${n}`)
    .join(" ");
  const rows: [string, string][] = [
    ["requests", String(tally.requests)],
    ["statuses", statuses],
    ["unauthorised issues", String(tally.unauthorisedIssues)],
    ["5xx (undocumented)", String(tally.serverErrors)],
    ["crashes", String(tally.crashes)],
    ["lost writes", String(tally.lostWrites)],
    ["slowest request", `${tally.slowestMs.toFixed(1)} ms (${tally.slowestWhat})`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return ["hostile suites (issue 14)", ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)].join("\n");
}
