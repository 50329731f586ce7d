/**
 * `npm run bench`: runs every bench/*.bench.ts (or those named on the command line),
 * prints a table and writes bench/results.json: [{name, value, unit, reference?, ratio?, budget?, met?}].
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { BenchResult } from "./harness.js";

const here = dirname(fileURLToPath(import.meta.url));
const filter = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => filter.length === 0 || filter.some((x) => f.includes(x)))
  .sort();

const all: BenchResult[] = [];
for (const file of files) {
  process.stderr.write(`running ${file}...\n`);
  const mod = (await import(pathToFileURL(join(here, file)).href)) as { run: () => Promise<BenchResult[]> };
  all.push(...(await mod.run()));
}

const rows = all.map((r) => [
  r.name,
  `${r.value} ${r.unit}`,
  r.reference ? `${r.ratio} × ${r.reference}` : "",
  r.budget ? `${r.budget} ${r.met ? "met" : "NOT MET"}` : "",
]);
const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((row) => row[i]!.length), 4));
for (const row of rows)
  console.log(
    row
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd(),
  );
// A filtered run updates its own figures and keeps the others, so results.json stays whole.
const resultsPath = join(here, "results.json");
let merged = all;
if (filter.length > 0 && existsSync(resultsPath)) {
  const previous = JSON.parse(readFileSync(resultsPath, "utf8")) as BenchResult[];
  const fresh = new Set(all.map((r) => r.name));
  merged = [...previous.filter((r) => !fresh.has(r.name)), ...all];
}
writeFileSync(resultsPath, `${JSON.stringify(merged, null, 2)}\n`);
process.stderr.write(`wrote bench/results.json (${all.length} new figures, ${merged.length} in all)\n`);
