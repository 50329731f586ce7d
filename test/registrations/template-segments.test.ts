/**
 * Issue 14, fault 3: a template whose placeholders share a path segment lets two callers
 * render one SPIFFE ID. register/update/import refuse it (validateRegistration), the
 * exchange refuses to render a stored one, and `list` flags it (test/cli/template-flag).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { errorCodeOf } from "../../lib/errors.js";
import { renderSpiffeId, templateProblem } from "../../lib/registrations/spiffe-template.js";
import { validateRegistration } from "../../lib/registrations/validate-entry.js";
import { TrustDomain } from "../../lib/spiffe/spiffe-id.js";

const td = TrustDomain.parse("example.org");
const entry = (spiffeId: string) => ({
  id: "e",
  spiffeId,
  selectors: { account: "111122223333", roleName: "r" },
});
const codeOf = (f: () => unknown) => {
  try {
    f();
  } catch (error) {
    return errorCodeOf(error);
  }
  return "accepted";
};

const AMBIGUOUS = [
  "spiffe://example.org/fn/{role}{session}",
  "spiffe://example.org/fn/{role}-{session}",
  "spiffe://example.org/fn/{role}_{session}/x",
  "spiffe://example.org/{account}.{role}/x",
  "spiffe://example.org/a/p{session}q{role}r",
];
const FINE = [
  "spiffe://example.org/fn/{role}/{session}",
  "spiffe://example.org/fn/r-{role}",
  "spiffe://example.org/fn/{role}-r/s-{session}-t",
  "spiffe://example.org/aws/{account}/{role}/{session}",
  "spiffe://example.org/literal",
];

describe("fault 3: placeholders sharing a path segment", () => {
  it("fault 3: role a + session bcd and role ab + session cd rendered one ID; now the template is refused", () => {
    for (const template of AMBIGUOUS) {
      expect(codeOf(() => validateRegistration(entry(template), { trustDomain: td }))).toBe(
        "registration_invalid",
      );
      expect(codeOf(() => renderSpiffeId(template, { account: "1", role: "a", session: "bcd" }, td))).toBe(
        "invalid_rendered_id",
      );
      expect(templateProblem(template)).toMatch(/share a path segment/);
    }
  });

  it("accepts one placeholder per segment, with a literal prefix or suffix", () => {
    for (const template of FINE) {
      expect(codeOf(() => validateRegistration(entry(template), { trustDomain: td }))).toBe("accepted");
      expect(templateProblem(template)).toBeUndefined();
    }
  });

  it("with the rule, distinct values never render one ID (seeded property)", () => {
    const value = fc.stringMatching(/^[a-z]{1,4}$/);
    const template = fc
      .array(fc.constantFrom("{role}", "{session}", "x", "-", "/"), { minLength: 1, maxLength: 8 })
      .map((parts) => `spiffe://example.org/p/${parts.join("")}`)
      .filter((t) => templateProblem(t) === undefined && t.includes("{"));
    fc.assert(
      fc.property(template, value, value, value, value, (t, r1, s1, r2, s2) => {
        const render = (role: string, session: string) => {
          try {
            return renderSpiffeId(t, { role, session }, td).toString();
          } catch {
            return undefined;
          }
        };
        const a = render(r1, s1);
        const b = render(r2, s2);
        const uses = (name: string) => t.includes(`{${name}}`);
        const same = (!uses("role") || r1 === r2) && (!uses("session") || s1 === s2);
        if (a !== undefined && a === b) expect(same).toBe(true);
      }),
      { seed: 3, numRuns: 3000 },
    );
  });
});
