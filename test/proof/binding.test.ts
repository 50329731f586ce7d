import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { bindingOf, canonicalJson, jwtBinding, x509Binding } from "../../lib/proof/binding.js";

const sha = (s: string) => createHash("sha256").update(s).digest("base64url");

describe("binding", () => {
  it("hashes the canonical JSON of a JWT-SVID request", () => {
    expect(jwtBinding({ audience: ["b", "a"], spiffeId: "spiffe://example.org/x" })).toBe(
      sha('{"audience":["a","b"],"kind":"jwt","spiffe_id":"spiffe://example.org/x"}'),
    );
    expect(jwtBinding({ audience: ["a"] })).toBe(sha('{"audience":["a"],"kind":"jwt"}'));
  });

  it("treats audiences as a set, and anything else asked as different", () => {
    expect(jwtBinding({ audience: ["a", "b", "a"] })).toBe(jwtBinding({ audience: ["b", "a"] }));
    expect(jwtBinding({ audience: ["a"] })).not.toBe(jwtBinding({ audience: ["b"] }));
    expect(jwtBinding({ audience: ["a"] })).not.toBe(
      jwtBinding({ audience: ["a"], spiffeId: "spiffe://e/x" }),
    );
    // No ambiguity from separators: ["a,b"] is not ["a","b"].
    expect(jwtBinding({ audience: ["a,b"] })).not.toBe(jwtBinding({ audience: ["a", "b"] }));
  });

  it("hashes the CSR's SubjectPublicKeyInfo for an X.509-SVID request", () => {
    const spki = new Uint8Array([0x30, 0x59, 1, 2, 3]);
    expect(x509Binding(spki)).toBe(
      sha(`{"kind":"x509","spki":"${Buffer.from(spki).toString("base64url")}"}`),
    );
    expect(x509Binding(spki)).not.toBe(x509Binding(new Uint8Array([0x30, 0x59, 1, 2, 4])));
  });

  it("bindingOf dispatches on the kind asked for", () => {
    const spki = new Uint8Array([1, 2, 3]);
    expect(bindingOf({ kind: "jwt", audience: ["a"], spiffeId: "spiffe://e/x" })).toBe(
      jwtBinding({ audience: ["a"], spiffeId: "spiffe://e/x" }),
    );
    expect(bindingOf({ kind: "x509", spki })).toBe(x509Binding(spki));
  });

  it("writes canonical JSON with sorted keys and no whitespace", () => {
    expect(canonicalJson({ b: "1", a: ["x", "y"], c: { z: "q", e: '\u00e9"' } })).toBe(
      '{"a":["x","y"],"b":"1","c":{"e":"é\\"","z":"q"}}',
    );
  });
});
