/**
 * A limit two modules share is defined once (issue 17). Read from the TypeScript syntax
 * tree of every runtime source (lib/, lambdas/, layers/, bin/, scripts/):
 * - no upper-case constant (a number, a product of numbers, a regex) is declared under the
 *   same name in two files: a second MAX_AUDIENCE_LENGTH is a second definition;
 * - no regex literal is written in two files: a shape (an IAM name, an account ID) has one home;
 * - each shared limit's value appears, outside its home module, only where the list below
 *   says why it is another limit that happens to share the number; and no length is
 *   compared with a bare literal equal to a shared length limit (`aud.length > 1000`).
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { ACCOUNT_ID } from "../../lib/aws-names.js";
import { MAX_AUDIENCE_LENGTH, MAX_JWT_SVID_LENGTH } from "../../lib/spiffe/jwt-svid-limits.js";
import { MAX_JWT_SVID_TTL_SECONDS, MAX_X509_SVID_TTL_SECONDS } from "../../lib/spiffe/svid-ttl.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const RUNTIME_DIRS = ["lib", "lambdas", "layers", "bin", "scripts"];

/** Shared limits: value → home module. */
const SHARED: ReadonlyMap<number, string> = new Map([
  [MAX_JWT_SVID_LENGTH, "lib/spiffe/jwt-svid-limits.ts"],
  [MAX_JWT_SVID_TTL_SECONDS, "lib/spiffe/svid-ttl.ts"],
  [MAX_X509_SVID_TTL_SECONDS, "lib/spiffe/svid-ttl.ts"],
]);
/** Shared length limits, which a bare `x.length > N` must not repeat. */
const SHARED_LENGTHS: ReadonlyMap<number, string> = new Map([
  [MAX_AUDIENCE_LENGTH, "lib/spiffe/jwt-svid-limits.ts"],
  [MAX_JWT_SVID_LENGTH, "lib/spiffe/jwt-svid-limits.ts"],
]);
/**
 * Files that keep their own copy on purpose: the local STS (lib/local/sts-server.ts) stands
 * in for AWS and parses X-Amz-Date as STS does, independently of the bridge code it tests.
 */
const OWN_COPY = new Set(["lib/local/sts-server.ts"]);
/** `file:value`: the same number, another limit. */
const ANOTHER_LIMIT = new Set([
  // The cloud providers' own caps on an assertion's lifetime (AWS, Google, SPIRE: 48 h).
  `lib/cdk/check-props.ts:${48 * 3600}`,
  // The embedded dev CA's intermediate lifetime, not an SVID's.
  `lib/local/local-ca-renewer.ts:${7 * 86_400}`,
  `lib/local/local-certificate-authority.ts:${7 * 86_400}`,
  // The largest proof the exchange reads, and the largest CSR: not JWT-SVIDs.
  `lib/proof/sts-caller-verifier.ts:${16_384}`,
  `lib/spiffe/x509-svid.ts:${16_384}`,
]);

function* sources(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== "node_modules" && entry.name !== "dist") yield* sources(path);
    else if (entry.isFile() && /\.m?ts$/.test(entry.name) && !entry.name.endsWith(".d.ts")) yield path;
  }
}

/** A number literal, or a product of them (`48 * 3600`), folded. */
function folded(node: ts.Node): number | undefined {
  if (ts.isNumericLiteral(node)) return Number(node.text);
  if (ts.isParenthesizedExpression(node)) return folded(node.expression);
  if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.AsteriskToken) {
    const [a, b] = [folded(node.left), folded(node.right)];
    return a !== undefined && b !== undefined ? a * b : undefined;
  }
  return undefined;
}

const COMPARISONS = new Set([
  ts.SyntaxKind.GreaterThanToken,
  ts.SyntaxKind.GreaterThanEqualsToken,
  ts.SyntaxKind.LessThanToken,
  ts.SyntaxKind.LessThanEqualsToken,
]);
const isLength = (n: ts.Node) => ts.isPropertyAccessExpression(n) && n.name.text === "length";

interface Facts {
  constants: Array<{ name: string; where: string }>;
  regexes: Array<{ text: string; where: string }>;
  values: Array<{ value: number; where: string }>;
  lengthLiterals: Array<{ value: number; where: string }>;
}

function factsOf(file: string, text: string): Facts {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const facts: Facts = { constants: [], regexes: [], values: [], lengthLiterals: [] };
  const where = (n: ts.Node) => `${file}:${sf.getLineAndCharacterOfPosition(n.getStart()).line + 1}`;
  for (const s of sf.statements)
    if (ts.isVariableStatement(s))
      for (const d of s.declarationList.declarations)
        if (ts.isIdentifier(d.name) && /^[A-Z][A-Z0-9_]+$/.test(d.name.text) && d.initializer) {
          const init = d.initializer;
          if (folded(init) !== undefined || ts.isRegularExpressionLiteral(init) || ts.isNewExpression(init))
            facts.constants.push({ name: d.name.text, where: where(d) });
        }
  const visit = (n: ts.Node): void => {
    // A shape (anchored, of some length), not a helper such as /\s+/g or /^\d+$/.
    if (ts.isRegularExpressionLiteral(n) && /^\/\^.{4,}\$\/[a-z]*$/.test(n.text))
      facts.regexes.push({ text: n.text, where: where(n) });
    if (ts.isBinaryExpression(n) && COMPARISONS.has(n.operatorToken.kind)) {
      const [len, lit] = isLength(n.left) ? [n.left, n.right] : [n.right, n.left];
      const value = folded(lit);
      if (isLength(len) && value !== undefined) facts.lengthLiterals.push({ value, where: where(n) });
    }
    const value = folded(n);
    if (value !== undefined) facts.values.push({ value, where: where(n) });
    else ts.forEachChild(n, visit);
  };
  visit(sf);
  return facts;
}

const all = RUNTIME_DIRS.flatMap((dir) =>
  [...sources(join(ROOT, dir))].flatMap((path) => {
    const file = relative(ROOT, path);
    return OWN_COPY.has(file) ? [] : [{ file, facts: factsOf(file, readFileSync(path, "utf8")) }];
  }),
);

const fileOf = (where: string) => where.slice(0, where.lastIndexOf(":"));

function repeatedAcrossFiles<T>(items: Array<{ key: T; where: string }>): string[] {
  const by = new Map<T, string[]>();
  for (const { key, where } of items) by.set(key, [...(by.get(key) ?? []), where]);
  return [...by]
    .filter(([, places]) => new Set(places.map(fileOf)).size > 1)
    .map(([key, places]) => `${String(key)}: ${places.join(", ")}`);
}

describe("a limit two modules share is defined once", () => {
  it("no constant name is declared in two runtime files", () => {
    const items = all.flatMap(({ facts }) => facts.constants.map((c) => ({ key: c.name, where: c.where })));
    expect(repeatedAcrossFiles(items)).toEqual([]);
  });

  it("no regex literal is written in two runtime files", () => {
    const items = all.flatMap(({ facts }) => facts.regexes.map((r) => ({ key: r.text, where: r.where })));
    expect(repeatedAcrossFiles(items)).toEqual([]);
  });

  it("a shared limit's value appears outside its home only as another, named limit", () => {
    const strays = all.flatMap(({ file, facts }) =>
      facts.values
        .filter(({ value }) => SHARED.has(value) && SHARED.get(value) !== file)
        .filter(({ value }) => !ANOTHER_LIMIT.has(`${file}:${value}`))
        .map(({ value, where }) => `${value} at ${where} (home: ${SHARED.get(value)})`),
    );
    expect(strays).toEqual([]);
  });

  it("no length is compared with a bare shared length limit", () => {
    const strays = all.flatMap(({ file, facts }) =>
      facts.lengthLiterals
        .filter(({ value }) => SHARED_LENGTHS.has(value) && SHARED_LENGTHS.get(value) !== file)
        .map(({ value, where }) => `${value} at ${where}`),
    );
    expect(strays).toEqual([]);
  });

  it("the scan sees each kind of repeat", () => {
    const a = factsOf(
      "a.ts",
      "const MAX_X = 48 * 3600;\nif (aud.length > 1000) f();\nconst ACCT = /^\\d{12}$/;",
    );
    expect(a.constants.map((c) => c.name)).toEqual(["MAX_X", "ACCT"]);
    expect(a.values).toContainEqual({ value: MAX_JWT_SVID_TTL_SECONDS, where: "a.ts:1" });
    expect(a.lengthLiterals).toEqual([{ value: MAX_AUDIENCE_LENGTH, where: "a.ts:2" }]);
    expect(a.regexes.map((r) => r.text)).toEqual([ACCOUNT_ID.toString()]);
    const b = factsOf("b.ts", "const MAX_X = 2;\nconst S = /^\\d{12}$/;");
    const names = [a, b].flatMap((f, i) =>
      f.constants.map((c) => ({ key: c.name, where: `${"ab"[i]}.ts:1` })),
    );
    expect(repeatedAcrossFiles(names)).toEqual(["MAX_X: a.ts:1, b.ts:1"]);
  });
});
