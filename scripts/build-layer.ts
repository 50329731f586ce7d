/**
 * `npm run build:layer`: bundles the extension with esbuild (minified, every dependency
 * inside, CommonJS for node22 so the launcher runs it with no package.json around it)
 * and zips the layer:
 *   extensions/svid-bridge            launcher (0755), what Lambda starts
 *   svid-bridge/extension.cjs         the bundle (0644)
 *   svid-bridge/svid-bridge-wrapper   AWS_LAMBDA_EXEC_WRAPPER (0755)
 *   svid-bridge/workload-grpc.cjs     the Workload API's gRPC half, loaded on first connection
 *   svid-bridge/workload.proto        its service definition (read by @grpc/proto-loader)
 * The zip is written with the `zip` CLI (Info-ZIP keeps Unix modes) and is reproducible:
 * the same sources give the same bytes, so `cdk deploy` publishes a new layer version
 * only when the extension changed. Every entry gets one fixed timestamp (zip stores DOS
 * local time, so zip runs with TZ=UTC), the entries go in sorted order with no directory
 * entries, and -X leaves out the extra fields (uid/gid, Unix timestamps).
 * Output: dist/layer/ (the tree) and dist/svid-bridge-layer.zip.
 *
 * The extension holds no ASN.1 library: its CSR is written by node:crypto and the
 * bundle's certificates are read by it (issue 18: @peculiar/x509 with reflect-metadata
 * and tsyringe cost ~200 KiB of compile at every cold start, and resident memory). The
 * build fails if one comes back (KEPT_OUT), or if anything it bundles imports
 * lib/crypto/x509 (@peculiar/x509), even dynamically.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, rmSync, statSync, utimesSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

// From the sources (npm run build:layer, the CDK app) or from dist/ (`demo` in an
// installed package, where dist/layers/ holds the compiled extension and its launchers).
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const EXT = import.meta.url.endsWith(".ts") ? ".ts" : ".js";

export interface BuiltLayerTree {
  /** The unzipped tree, laid out as /opt is. */
  dir: string;
  bundleBytes: number;
}

export interface BuiltLayer extends BuiltLayerTree {
  zip: string;
  zipBytes: number;
}

/** The tree and its zip (what the CDK app deploys). */
export async function buildLayer(outDir = join(root, "dist")): Promise<BuiltLayer> {
  const tree = await buildLayerTree(outDir);
  const zip = join(outDir, "svid-bridge-layer.zip");
  rmSync(zip, { force: true });
  const entries = LAYER_FILES.map((f) => f.path).sort();
  for (const entry of entries) utimesSync(join(tree.dir, entry), FIXED_TIME, FIXED_TIME);
  execFileSync("zip", ["-X", "-D", "-q", "-9", zip, ...entries], {
    cwd: tree.dir,
    env: { ...process.env, TZ: "UTC" },
  });
  return { ...tree, zip, zipBytes: statSync(zip).size };
}

/** Every file of the layer, with its mode: the zip holds these and nothing else. */
export const LAYER_FILES = [
  { path: "extensions/svid-bridge", mode: 0o755 },
  { path: "svid-bridge/extension.cjs", mode: 0o644 },
  { path: "svid-bridge/svid-bridge-wrapper", mode: 0o755 },
  { path: "svid-bridge/workload-grpc.cjs", mode: 0o644 },
  { path: "svid-bridge/workload.proto", mode: 0o644 },
] as const;

/** Packages the extension's bundle must not contain (matched against the bundled inputs). */
const KEPT_OUT = /node_modules\/(@peculiar\/|asn1js\/|reflect-metadata\/|tsyringe\/)/;

/**
 * Fails the build when anything the extension bundles imports lib/crypto/x509
 * (@peculiar/x509), statically or dynamically: the bridge side's bundle parser for it
 * lives in lib/spiffe/parse-trust-bundle.ts, apart from lib/spiffe/bundle.ts.
 */
const peculiarOut = {
  name: "peculiar-x509-out",
  setup(b: import("esbuild").PluginBuild) {
    b.onResolve({ filter: /\/crypto\/x509\.js$/ }, (args) => ({
      errors: [{ text: `${args.importer} imports @peculiar/x509: the layer must not hold it` }],
    }));
  },
};

/** Throws when a kept-out package reached the bundle. */
function assertKeptOut(meta: import("esbuild").Metafile, what: string): void {
  const found = Object.keys(meta.inputs).filter((f) => KEPT_OUT.test(f));
  if (found.length > 0)
    throw new Error(`${what} holds ${found.slice(0, 3).join(", ")}: keep it out of the layer`);
}

/** The one timestamp every entry carries (2000-01-01T00:00:00Z; DOS time starts in 1980). */
const FIXED_TIME = new Date("2000-01-01T00:00:00Z");

/**
 * The tree alone, as Lambda mounts it at /opt: what `svid-bridge demo` runs (no `zip`
 * CLI needed on a newcomer's machine).
 */
export async function buildLayerTree(outDir: string): Promise<BuiltLayerTree> {
  const dir = join(outDir, "layer");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "extensions"), { recursive: true });
  mkdirSync(join(dir, "svid-bridge"), { recursive: true });
  const bundle = join(dir, "svid-bridge", "extension.cjs");
  const grpc = join(dir, "svid-bridge", "workload-grpc.cjs");
  const common: import("esbuild").BuildOptions = {
    bundle: true,
    minify: true,
    platform: "node",
    target: "node22",
    format: "cjs",
    // The smithy packages' ESM builds tree-shake; their CJS builds drag in most of
    // @smithy/core (about 360 KB of the bundle, and its compile time at every start).
    mainFields: ["module", "main"],
    legalComments: "eof",
    logLevel: "warning",
    // grpc-server.ts finds workload.proto through __dirname in the bundle.
    logOverride: { "empty-import-meta": "silent" },
  };
  // gRPC in a file of its own: an extension whose function never connects does not parse it.
  const grpcApart = {
    name: "workload-grpc-apart",
    setup(b: import("esbuild").PluginBuild) {
      b.onResolve({ filter: /\/grpc-server\.js$/ }, () => ({ path: "./workload-grpc.cjs", external: true }));
    },
  };
  const main = await build({
    ...common,
    entryPoints: [join(root, `layers/extension/src/main${EXT}`)],
    outfile: bundle,
    plugins: [grpcApart, peculiarOut],
    metafile: true,
  });
  assertKeptOut(main.metafile, "extension.cjs");
  const grpcBuilt = await build({
    ...common,
    entryPoints: [join(root, `layers/extension/src/workload-api/grpc-server${EXT}`)],
    outfile: grpc,
    plugins: [peculiarOut],
    metafile: true,
  });
  assertKeptOut(grpcBuilt.metafile, "workload-grpc.cjs");
  copyFileSync(
    join(root, "layers/extension/src/workload-api/workload.proto"),
    join(dir, "svid-bridge", "workload.proto"),
  );
  for (const f of [bundle, grpc, join(dir, "svid-bridge", "workload.proto")]) chmodSync(f, 0o644);
  const launcher = join(dir, "extensions", "svid-bridge");
  copyFileSync(join(root, "layers/extension/svid-bridge"), launcher);
  chmodSync(launcher, 0o755);
  const wrapper = join(dir, "svid-bridge", "svid-bridge-wrapper");
  copyFileSync(join(root, "layers/extension/svid-bridge-wrapper"), wrapper);
  chmodSync(wrapper, 0o755);
  return { dir, bundleBytes: statSync(bundle).size };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const built = await buildLayer();
  console.log(
    `${built.zip}: ${(built.zipBytes / 1024).toFixed(1)} KiB zipped (bundle ${(built.bundleBytes / 1024).toFixed(1)} KiB)`,
  );
}
