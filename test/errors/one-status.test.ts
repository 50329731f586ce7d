/**
 * One code, one status (issue 17): the HTTP status is a property of the error code
 * (`ERROR_STATUS` in lib/errors.ts), never of a call site. This test fails if the table
 * misses a code, if any runtime source passes `status` to `new BridgeError(` (read from
 * the syntax tree, not the text), or if README's error table says another status.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { BridgeError, ERROR_STATUS, type ErrorCode, isErrorCode } from "../../lib/errors.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const RUNTIME_DIRS = ["lib", "lambdas", "layers", "bin", "scripts"];

function* sources(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== "node_modules" && entry.name !== "dist") yield* sources(path);
    else if (entry.isFile() && /\.m?ts$/.test(entry.name) && !entry.name.endsWith(".d.ts")) yield path;
  }
}

function parse(name: string, text: string): ts.SourceFile {
  return ts.createSourceFile(name, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
}

/** The string members of `export type ErrorCode = "a" | "b" | …` in lib/errors.ts. */
function declaredCodes(): string[] {
  const file = parse("errors.ts", readFileSync(join(ROOT, "lib/errors.ts"), "utf8"));
  const codes: string[] = [];
  for (const statement of file.statements)
    if (ts.isTypeAliasDeclaration(statement) && statement.name.text === "ErrorCode") {
      const type = statement.type;
      const members = ts.isUnionTypeNode(type) ? type.types : [type];
      for (const m of members)
        if (ts.isLiteralTypeNode(m) && ts.isStringLiteral(m.literal)) codes.push(m.literal.text);
    }
  return codes;
}

/** `file:line` of every `new BridgeError(…)` whose options name a `status` (or spread something in). */
function statusPassedAt(name: string, text: string): string[] {
  const file = parse(name, text);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (
      ts.isNewExpression(node) &&
      ts.isIdentifier(node.expression) &&
      node.expression.text === "BridgeError"
    ) {
      const options = node.arguments?.[2];
      const where = `${name}:${file.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
      if (options && ts.isObjectLiteralExpression(options)) {
        for (const p of options.properties) {
          const named =
            p.name && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name)) ? p.name.text : undefined;
          // A spread could carry a status past the type's excess-property check.
          if (named === "status" || ts.isSpreadAssignment(p)) found.push(where);
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

/** README's "Errors" table: code → the status it documents (undefined for `—`). */
function readmeStatuses(): Map<string, number | undefined> {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const section = readme.slice(
    readme.indexOf("\n## Errors\n"),
    readme.indexOf("\n## ", readme.indexOf("\n## Errors\n") + 1),
  );
  const table = new Map<string, number | undefined>();
  for (const line of section.split("\n")) {
    const cells = line.split("|").map((c) => c.trim());
    if (cells.length < 4 || !cells[1]?.startsWith("`")) continue;
    const codes = [...(cells[1] ?? "").matchAll(/`([a-z0-9_]+)`/g)].map((m) => m[1] ?? "");
    const statuses = [...(cells[2] ?? "").matchAll(/\d{3}/g)].map((m) => Number(m[0]));
    for (const [i, code] of codes.entries()) table.set(code, statuses.length > 1 ? statuses[i] : statuses[0]);
  }
  return table;
}

describe("one code, one status", () => {
  it("ERROR_STATUS names every ErrorCode, each with a 4xx or 5xx status", () => {
    const codes = declaredCodes();
    expect(codes.length).toBeGreaterThan(50);
    expect(Object.keys(ERROR_STATUS).sort()).toEqual([...codes].sort());
    for (const code of codes) {
      const status = ERROR_STATUS[code as ErrorCode];
      expect(status >= 400 && status <= 599, `${code}: ${status}`).toBe(true);
    }
  });

  it("a BridgeError's status is its code's, whatever options it is built with", () => {
    for (const code of Object.keys(ERROR_STATUS) as ErrorCode[]) {
      const options = { status: 299, expose: true } as never;
      expect(new BridgeError(code, "m", options).status).toBe(ERROR_STATUS[code]);
    }
    expect(isErrorCode("jwt_expired")).toBe(true);
    expect(isErrorCode("http_404")).toBe(false);
    expect(isErrorCode("toString")).toBe(false);
  });

  it("no runtime source passes a status to new BridgeError(…)", () => {
    const offenders = RUNTIME_DIRS.flatMap((dir) =>
      [...sources(join(ROOT, dir))].flatMap((file) =>
        statusPassedAt(relative(ROOT, file), readFileSync(file, "utf8")),
      ),
    );
    expect(offenders).toEqual([]);
  });

  it("the scan finds a status however the call is written", () => {
    const text = [
      'new BridgeError("jwt_expired", "m", { status: 401 });',
      'throw new BridgeError(code, message, {\n  cause,\n  "status": 400,\n});',
      "new BridgeError(code, message, { ...options });",
      "new BridgeError(code, message, { cause }); // status: 401 in a comment is not a call",
      'const text = "new BridgeError(code, m, { status: 1 })";',
    ].join("\n");
    expect(statusPassedAt("x.ts", text)).toEqual(["x.ts:1", "x.ts:2", "x.ts:6"]);
  });

  it("README's error table lists every code with the status it answers", () => {
    const documented = readmeStatuses();
    const missing = Object.keys(ERROR_STATUS).filter((code) => !documented.has(code));
    expect(missing).toEqual([]);
    for (const [code, status] of documented) {
      expect(isErrorCode(code), `README names ${code}, which lib/errors.ts does not`).toBe(true);
      if (status !== undefined) expect(status, code).toBe(ERROR_STATUS[code as ErrorCode]);
    }
  });
});
