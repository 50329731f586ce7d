import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { batchBinding, bindingOf, canonicalJson, jwtBinding, x509Binding } from "../../lib/proof/binding.js";

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

  it("hashes the CSR as sent for an X.509-SVID request", () => {
    expect(x509Binding({ csr: "MIIB" })).toBe(sha('{"csr":"MIIB","kind":"x509"}'));
    expect(x509Binding({ csr: "MIIB" })).not.toBe(x509Binding({ csr: "MIIC" }));
  });

  it("fault 5: the X.509 binding covers spiffe_id too, so a captured request cannot be switched to another identity", () => {
    const csr = "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n";
    expect(x509Binding({ csr, spiffeId: "spiffe://e/a" })).toBe(
      sha(`{"csr":${JSON.stringify(csr)},"kind":"x509","spiffe_id":"spiffe://e/a"}`),
    );
    expect(x509Binding({ csr, spiffeId: "spiffe://e/a" })).not.toBe(
      x509Binding({ csr, spiffeId: "spiffe://e/b" }),
    );
    expect(x509Binding({ csr, spiffeId: "spiffe://e/a" })).not.toBe(x509Binding({ csr }));
  });

  it("bindingOf dispatches on the kind asked for", () => {
    expect(bindingOf({ kind: "jwt", audience: ["a"], spiffeId: "spiffe://e/x" })).toBe(
      jwtBinding({ audience: ["a"], spiffeId: "spiffe://e/x" }),
    );
    expect(bindingOf({ kind: "x509", csr: "MIIB", spiffeId: "spiffe://e/x" })).toBe(
      x509Binding({ csr: "MIIB", spiffeId: "spiffe://e/x" }),
    );
  });

  it("writes canonical JSON with sorted keys and no whitespace", () => {
    expect(canonicalJson({ b: "1", a: ["x", "y"], c: { z: "q", e: '\u00e9"' } })).toBe(
      '{"a":["x","y"],"b":"1","c":{"e":"é\\"","z":"q"}}',
    );
  });

  it("hashes a batch over the digests of its asks, the JWT asks as a set", () => {
    const csr = "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n";
    const a = { audience: ["a"] };
    const b = { audience: ["b", "c"], spiffeId: "spiffe://e/x" };
    const x509 = sha(`{"csr":${JSON.stringify(csr)},"kind":"x509","spiffe_id":"spiffe://e/x"}`);
    const members = [jwtBinding(a), jwtBinding(b)].sort();
    expect(batchBinding({ jwt: [a, b], x509: { csr, spiffeId: "spiffe://e/x" } })).toBe(
      sha(`{"jwt":["${members[0]}","${members[1]}"],"kind":"batch","x509":"${x509}"}`),
    );
    expect(batchBinding({ jwt: [b, a] })).toBe(batchBinding({ jwt: [a, b] }));
    expect(batchBinding({ jwt: [] })).toBe(sha('{"jwt":[],"kind":"batch"}'));
  });

  it("changes the batch binding when any ask changes, is added or is dropped", () => {
    const csr = "csr-1";
    const base = batchBinding({ jwt: [{ audience: ["a"] }, { audience: ["b"] }], x509: { csr } });
    const variants = [
      { jwt: [{ audience: ["a"] }], x509: { csr } },
      { jwt: [{ audience: ["a"] }, { audience: ["b"] }] },
      { jwt: [{ audience: ["a"] }, { audience: ["b"] }, { audience: ["c"] }], x509: { csr } },
      { jwt: [{ audience: ["a"] }, { audience: ["b", "c"] }], x509: { csr } },
      { jwt: [{ audience: ["a"] }, { audience: ["b"], spiffeId: "spiffe://e/x" }], x509: { csr } },
      { jwt: [{ audience: ["a", "b"] }], x509: { csr } },
      { jwt: [{ audience: ["a"] }, { audience: ["b"] }], x509: { csr: "csr-2" } },
      { jwt: [{ audience: ["a"] }, { audience: ["b"] }], x509: { csr, spiffeId: "spiffe://e/x" } },
    ];
    const seen = new Set([base, ...variants.map((v) => batchBinding(v))]);
    expect(seen.size).toBe(variants.length + 1);
    // A batch never shares a binding with the single-ask requests it contains.
    expect(batchBinding({ jwt: [{ audience: ["a"] }] })).not.toBe(jwtBinding({ audience: ["a"] }));
    expect(batchBinding({ jwt: [], x509: { csr } })).not.toBe(x509Binding({ csr }));
  });
});
