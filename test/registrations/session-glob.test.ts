import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { matchSessionGlob, sessionGlobRule } from "../../lib/registrations/session-glob.js";

/** Reference semantics, used only to check the matcher: a regex with every literal escaped. */
function reference(pattern: string, name: string): boolean {
  const source = [...pattern]
    .map((c) => (c === "*" ? "[^]*" : c === "?" ? "[^]" : `\\u{${c.codePointAt(0)!.toString(16)}}`))
    .join("");
  return new RegExp(`^${source}$`, "u").test(name);
}

describe("session-name globs", () => {
  it.each([
    ["orders-*", "orders-fn", true],
    ["orders-*", "orders-", true],
    ["orders-*", "order-fn", false],
    ["*-fn", "orders-fn", true],
    ["o?ders", "orders", true],
    ["o?ders", "oders", false],
    ["*", "", true],
    ["a*b*c", "aXbYc", true],
    ["a*b*c", "aXbY", false],
    ["exact", "exact", true],
    ["exact", "exactly", false],
    ["a.b", "aXb", false],
    ["a+b", "aab", false],
  ])("%s against %s is %s", (pattern, name, want) => {
    expect(matchSessionGlob(pattern, name)).toBe(want);
  });

  it("treats regex metacharacters allowed in session names as literals", () => {
    expect(matchSessionGlob("a.b@c=d,e+f", "a.b@c=d,e+f")).toBe(true);
    expect(matchSessionGlob("a.b", "a-b")).toBe(false);
  });

  it("stays fast on the pattern that makes backtracking matchers explode", () => {
    // With a naive backtracking regex, a*a*a*…b against aaaa… is exponential.
    const pattern = `${"a*".repeat(31)}b`;
    expect(sessionGlobRule(pattern)).toBeUndefined();
    expect(matchSessionGlob(pattern, "a".repeat(64))).toBe(false);
  });

  it("agrees with an escaped-regex reference on random patterns and names (property)", () => {
    const ch = fc.constantFrom("a", "b", ".", "-", "@", "+", "*", "?");
    const nameCh = fc.constantFrom("a", "b", ".", "-", "@", "+");
    fc.assert(
      fc.property(
        fc.string({ unit: ch, maxLength: 12 }),
        fc.string({ unit: nameCh, maxLength: 16 }),
        (p, n) => {
          expect(matchSessionGlob(p, n)).toBe(reference(p, n));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("never throws on arbitrary strings (property)", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (p, n) => {
        sessionGlobRule(p);
        expect(typeof matchSessionGlob(p, n)).toBe("boolean");
      }),
    );
  });
});
