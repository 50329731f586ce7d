/**
 * Issue 14, fault 1's kind: no super-linear work on outside input. Every regular
 * expression literal (and every `new RegExp` with a literal source) in the code that
 * runs in the bridge (lib/, lambdas/, layers/) is collected from the TypeScript syntax
 * tree, so a new one cannot be forgotten, and must be judged "safe" by recheck
 * (makenowjust-labs/recheck: automaton and fuzz checkers, the one the issue names).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { check } from "recheck";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..");
const SOURCES = ["lib", "lambdas", "layers/extension/src", "layers/client"];

interface Found {
  where: string;
  source: string;
  flags: string;
}

function* files(dir: string): Generator<string> {
  let entries: import("node:fs").Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory() && e.name !== "node_modules" && e.name !== "dist") yield* files(path);
    else if (/\.(ts|mts|js|mjs)$/.test(e.name) && !e.name.endsWith(".d.ts")) yield path;
  }
}

/** String constants of a file (`const NAME = "…"`), to resolve `${NAME}` in a RegExp source. */
function stringConstants(sf: ts.SourceFile): Map<string, string> {
  const constants = new Map<string, string>();
  const visit = (node: ts.Node) => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer)
      if (ts.isStringLiteralLike(node.initializer)) constants.set(node.name.text, node.initializer.text);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return constants;
}

/** The text of a string or template argument whose every `${…}` is a string constant of the file. */
function staticText(node: ts.Expression, constants: Map<string, string>): string | undefined {
  if (ts.isStringLiteralLike(node)) return node.text;
  if (!ts.isTemplateExpression(node)) return undefined;
  let text = node.head.text;
  for (const span of node.templateSpans) {
    const value = ts.isIdentifier(span.expression) ? constants.get(span.expression.text) : undefined;
    if (value === undefined) return undefined;
    text += value + span.literal.text;
  }
  return text;
}

/** Every regex literal, and `new RegExp(…)` whose source is static, with its file and line. */
function regexesIn(path: string): Found[] {
  const text = readFileSync(path, "utf8");
  const sf = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const constants = stringConstants(sf);
  const found: Found[] = [];
  const where = (node: ts.Node) =>
    `${relative(ROOT, path)}:${sf.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
  const visit = (node: ts.Node) => {
    if (ts.isRegularExpressionLiteral(node)) {
      const literal = node.text;
      const end = literal.lastIndexOf("/");
      found.push({ where: where(node), source: literal.slice(1, end), flags: literal.slice(end + 1) });
    } else if (
      ts.isNewExpression(node) &&
      ts.isIdentifier(node.expression) &&
      node.expression.text === "RegExp"
    ) {
      const [source, flags] = node.arguments ?? [];
      const resolved = source && staticText(source, constants);
      // A source the collector cannot resolve fails the test: make it static or excuse it.
      found.push({
        where: where(node),
        source: resolved ?? "<dynamic>",
        flags: flags && ts.isStringLiteralLike(flags) ? flags.text : "",
      });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

/**
 * Regexes recheck flags that never see a caller's input, each with the reason. Keyed by
 * file and source, so a copy elsewhere (where a caller might reach it) is not excused.
 */
const OPERATOR_INPUT_ONLY: ReadonlyArray<{ file: string; source: string; reason: string }> = [
  ...[
    "lib/cli/commands/rotate.ts",
    "lib/cli/exchange-client.ts",
    "lib/discovery/relying-party.ts",
    "layers/extension/src/config.ts",
    "layers/extension/src/exchange-client.ts",
    "layers/client/svid-bridge-client.ts",
  ].map((file) => ({
    file,
    source: "\\/+$",
    reason: "trims a configured URL (flag, env or the relying party's own issuer), never a request's",
  })),
];

const excused = (r: Found) =>
  OPERATOR_INPUT_ONLY.some((e) => r.where.startsWith(`${e.file}:`) && e.source === r.source);
const all = SOURCES.flatMap((dir) => [...files(join(ROOT, dir))].flatMap(regexesIn));

describe("ReDoS: every regular expression in the bridge passes recheck", () => {
  it("finds the regexes (the collector works)", () => {
    expect(all.length).toBeGreaterThan(40);
    expect(all.some((r) => r.where.startsWith("lib/proof/proof-rules.ts"))).toBe(true);
    expect(all.filter((r) => r.where.startsWith("lib/aws-names.ts")).length).toBeGreaterThanOrEqual(3);
    expect(all.filter((r) => r.source === "<dynamic>")).toEqual([]);
    for (const e of OPERATOR_INPUT_ONLY) expect(all.some((r) => r.where.startsWith(`${e.file}:`))).toBe(true);
  });

  it("every one is safe (linear) by recheck", async () => {
    const unsafe: string[] = [];
    for (const r of all.filter((r) => !excused(r))) {
      const diagnostics = await check(r.source, r.flags, { timeout: 10_000 });
      if (diagnostics.status !== "safe")
        unsafe.push(
          `${r.where} /${r.source}/${r.flags}: ${diagnostics.status}${
            diagnostics.status === "vulnerable"
              ? ` (${diagnostics.complexity.type}, attack ${JSON.stringify(diagnostics.attack.pattern)})`
              : ""
          }`,
        );
    }
    expect(unsafe).toEqual([]);
  }, 120_000);
});
