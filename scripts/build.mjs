#!/usr/bin/env node
/**
 * `npm run build`: what a user installs, in dist/.
 *
 *   1. every TypeScript module the package runs (lib/, lambdas/, layers/, examples/ and
 *      scripts/build-layer.ts, which `demo` uses) transpiled one file at a time by esbuild
 *      to ESM JavaScript under the same paths (dist/lib/cli/main.js, …); imports already
 *      name .js files, so nothing is bundled or rewritten;
 *   2. the files that are not TypeScript but are read at run time (the Lambda runtime
 *      bootstrap, the layer's launcher scripts, .proto files), copied with their modes;
 *   3. type declarations (.d.ts) by tsc (tsconfig.build.json): always with `--types`
 *      (prepack: a tarball without them is refused), never with `--js-only`, otherwise
 *      when the devDependency typescript is installed (a note says when it is not);
 *   4. the layer zip, dist/svid-bridge-layer.zip, by the compiled dist/scripts/build-layer.js
 *      (reproducible; needs the `zip` command): the tarball ships it, so an installed
 *      `svid-bridge/cdk` deploys the layer with no build of its own. Same rule as the
 *      declarations: required with `--types`, never with `--js-only`, otherwise when `zip`
 *      is on PATH. (The Lambdas ship as compiled modules in dist/lambdas/: the construct
 *      bundles them at synth, lib/cdk/bridge-function.ts.)
 *
 * Plain JavaScript on purpose: it needs only esbuild (a runtime dependency, which `demo`
 * uses anyway), so a clone installed with `npm ci --omit=dev` builds too. `npm run dev`
 * and `npm run demo` run the `--js-only` step first (well under a second), so the quick
 * start works from a clean clone and never runs a stale build.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const DIST = join(ROOT, "dist");
/** The folders whose modules ship; tests, benchmarks and the CDK app do not. */
const SOURCE_DIRS = ["lib", "lambdas", "layers", "examples"];
const EXTRA_SOURCES = ["scripts/build-layer.ts"];
/** Read at run time by path: copied as they are (modes kept: launchers must stay executable). */
const ASSETS = [".mjs", ".proto", ".json"];
const LAUNCHERS = ["layers/extension/svid-bridge", "layers/extension/svid-bridge-wrapper"];

function filesUnder(dir) {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(ROOT, join(entry.parentPath ?? entry.path, entry.name)))
    .sort();
}

function copyAsset(file) {
  const target = join(DIST, file);
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(join(ROOT, file), target);
  chmodSync(target, statSync(join(ROOT, file)).mode & 0o777);
}

/** `types`: true (required), false (skipped), "auto" (when typescript is installed). */
export async function buildDist({ types = "auto" } = {}) {
  for (const dir of [...SOURCE_DIRS, "scripts"]) rmSync(join(DIST, dir), { recursive: true, force: true });
  const all = SOURCE_DIRS.flatMap(filesUnder);
  const sources = [...all.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts")), ...EXTRA_SOURCES];
  await build({
    entryPoints: sources.map((f) => join(ROOT, f)),
    outdir: DIST,
    outbase: ROOT,
    bundle: false,
    format: "esm",
    platform: "node",
    target: "node20",
    logLevel: "warning",
  });
  const assets = [...all.filter((f) => ASSETS.some((ext) => f.endsWith(ext))), ...LAUNCHERS];
  for (const file of assets) copyAsset(file);
  const tsc = types === false ? undefined : findTsc();
  if (types === true && !tsc)
    throw new Error("type declarations need the devDependency typescript: run npm ci (not --omit=dev)");
  if (tsc)
    execFileSync(process.execPath, [tsc, "-p", join(ROOT, "tsconfig.build.json")], { stdio: "inherit" });
  const layerZip = await buildLayerZip(types);
  return { modules: sources.length, assets: assets.length, declarations: Boolean(tsc), layerZip };
}

/** dist/svid-bridge-layer.zip from the modules just compiled; its size in bytes, or undefined when skipped. */
async function buildLayerZip(types) {
  if (types === false) return undefined;
  const hasZip = spawnSync("zip", ["-v"], { stdio: "ignore" }).status === 0;
  if (!hasZip && types === true) throw new Error("the layer zip needs the zip command (apt-get install zip)");
  if (!hasZip) return undefined;
  const { buildLayer } = await import(pathToFileURL(join(DIST, "scripts", "build-layer.js")).href);
  return (await buildLayer(DIST)).zipBytes;
}

function findTsc() {
  try {
    return createRequire(import.meta.url).resolve("typescript/bin/tsc");
  } catch {
    return undefined;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const types = args.includes("--js-only") ? false : args.includes("--types") ? true : "auto";
  const started = Date.now();
  try {
    const built = await buildDist({ types });
    const note = [
      built.declarations
        ? "with .d.ts"
        : types === false
          ? "no .d.ts: --js-only"
          : "no .d.ts: typescript is not installed",
      built.layerZip !== undefined
        ? `layer zip ${(built.layerZip / 1024).toFixed(0)} KiB`
        : types === false
          ? "no layer zip: --js-only"
          : "no layer zip: the zip command is missing",
    ].join(", ");
    if (!args.includes("--quiet"))
      console.error(
        `build: ${built.modules} modules and ${built.assets} assets in dist/ (${note}) in ${Date.now() - started} ms`,
      );
  } catch (error) {
    console.error(`build failed: ${error instanceof Error ? error.message : error}`);
    process.exit(1);
  }
}
