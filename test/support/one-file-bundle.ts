/**
 * What a function's bundler writes when it writes one file, as CDK's NodejsFunction and SAM
 * do by default (esbuild, minified ESM, no code splitting): every dynamic import lands in
 * that file too. For the single-file bundle test and the in-process bench.
 */
import { build } from "esbuild";

/** Bundles `entry` into one file in memory: its size in bytes, and the inputs it holds. */
export async function oneFileBundle(
  entry: string,
  absWorkingDir: string,
): Promise<{ bytes: number; inputs: string[] }> {
  const { metafile, outputFiles } = await build({
    entryPoints: [entry],
    absWorkingDir,
    bundle: true,
    minify: true,
    format: "esm",
    platform: "node",
    target: "node22",
    write: false,
    outfile: "one-file.mjs",
    metafile: true,
    logLevel: "error",
  });
  return {
    bytes: outputFiles.reduce((n, f) => n + f.contents.byteLength, 0),
    inputs: Object.keys(metafile.inputs),
  };
}
