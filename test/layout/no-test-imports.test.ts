/**
 * Runtime code never imports from test/: the package ships lib/, lambdas/, layers/ and
 * bin/ without test/, so such an import fails only once installed (issue 15). Every
 * relative specifier in runtime sources is resolved and checked.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const RUNTIME_DIRS = ["lib", "lambdas", "layers", "bin", "scripts", "examples"];
const SOURCE = /\.(?:ts|mts|js|mjs|cjs)$/;
const SPECIFIER = /(?:from\s+|import\(\s*|require\(\s*|new URL\(\s*)["'](\.{1,2}\/[^"']*)["']/g;

function* sources(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== "node_modules") yield* sources(path);
    else if (entry.isFile() && SOURCE.test(entry.name)) yield path;
  }
}

function testImports(file: string, text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(SPECIFIER)) {
    const target = relative(ROOT, resolve(dirname(file), match[1] ?? ""));
    if (target === "test" || target.startsWith("test/")) found.push(`${relative(ROOT, file)} -> ${target}`);
  }
  return found;
}

describe("layout: nothing outside test/ imports from test/", () => {
  it("no runtime source resolves a relative import into test/", () => {
    const offenders = RUNTIME_DIRS.flatMap((dir) =>
      [...sources(join(ROOT, dir))].flatMap((file) => testImports(file, readFileSync(file, "utf8"))),
    );
    expect(offenders).toEqual([]);
  });

  it("the check itself finds such an import", () => {
    const file = join(ROOT, "lib/dev/example.ts");
    expect(testImports(file, 'import { x } from "../../test/support/fake-kms.js";')).toEqual([
      "lib/dev/example.ts -> test/support/fake-kms.js",
    ]);
  });
});
