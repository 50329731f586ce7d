/**
 * No function in runtime code is longer than a screen (issue 17): every function-like node
 * with a body (declarations, methods, constructors, accessors, arrows, function expressions)
 * in lib/, lambdas/, layers/, bin/ and scripts/ spans at most MAX_LINES lines, counted from
 * its first line to its last, as the TypeScript compiler parses it. A longer one is split
 * along the lines it already has (named steps, the parts it builds), not wrapped.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const RUNTIME_DIRS = ["lib", "lambdas", "layers", "bin", "scripts"];
const SKIPPED_DIRS = new Set(["node_modules", "dist", "cdk.out"]);
const SOURCE = /\.(?:ts|mts|cts|js|mjs|cjs)$/;
/** The hard cap of the team's standards (functions aim at ~60 lines). */
const MAX_LINES = 80;

function* sources(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && !SKIPPED_DIRS.has(entry.name)) yield* sources(path);
    else if (entry.isFile() && SOURCE.test(entry.name) && !entry.name.endsWith(".d.ts")) yield path;
  }
}

/** `file:line name (N lines)` for each function of `text` longer than `max` lines. */
function longFunctions(file: string, text: string, max: number): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const lineOf = (position: number) => source.getLineAndCharacterOfPosition(position).line + 1;
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && "body" in node && node.body) {
      const first = lineOf(node.getStart(source));
      const length = lineOf(node.getEnd()) - first + 1;
      if (length > max) found.push(`${file}:${first} ${nameOf(node, source)} (${length} lines)`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function nameOf(node: ts.Node, source: ts.SourceFile): string {
  if (ts.isConstructorDeclaration(node)) return "constructor";
  const name = (node as { name?: ts.Node }).name;
  if (name) return name.getText(source);
  const parent = node.parent;
  if (parent && (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent)))
    return parent.name.getText(source);
  return "(anonymous)";
}

describe("layout: no runtime function is longer than a screen", () => {
  it(`every function in ${RUNTIME_DIRS.join(", ")} spans at most ${MAX_LINES} lines`, () => {
    const files = RUNTIME_DIRS.flatMap((dir) => [...sources(join(ROOT, dir))]);
    expect(files.length).toBeGreaterThan(100);
    const offenders = files.flatMap((file) =>
      longFunctions(relative(ROOT, file), readFileSync(file, "utf8"), MAX_LINES),
    );
    expect(offenders).toEqual([]);
  });

  it("the check itself finds a long function, a long method and a long arrow, by file:line", () => {
    const body = (n: number) => Array.from({ length: n }, (_, i) => `  const v${i} = ${i};`).join("\n");
    const text = [
      "export function short() {",
      body(3),
      "}",
      "export function long() {",
      body(MAX_LINES - 1),
      "}",
      "class C {",
      "  method() {",
      body(MAX_LINES),
      "  }",
      "}",
      `const arrow = () => {\n${body(MAX_LINES - 2)}\n};`,
    ].join("\n");
    expect(longFunctions("lib/example.ts", text, MAX_LINES)).toEqual([
      `lib/example.ts:6 long (${MAX_LINES + 1} lines)`,
      `lib/example.ts:${8 + MAX_LINES} method (${MAX_LINES + 2} lines)`,
    ]);
    expect(longFunctions("lib/example.ts", text, MAX_LINES - 1)).toContain(
      `lib/example.ts:${11 + 2 * MAX_LINES} arrow (${MAX_LINES} lines)`,
    );
  });
});
