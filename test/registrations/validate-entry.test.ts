import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BridgeError, errorCodeOf } from "../../lib/errors.js";
import { validateRegistration } from "../../lib/registrations/validate-entry.js";
import { TrustDomain } from "../../lib/spiffe/spiffe-id.js";

const policy = { trustDomain: TrustDomain.parse("example.org") };
const good = {
  id: "orders",
  selectors: { account: "111122223333", roleName: "orders-role" },
  spiffeId: "spiffe://example.org/aws/{account}/{role}/{session}",
};

function ruleOf(input: unknown): { code?: string; field?: unknown; message?: string } {
  try {
    validateRegistration(input, policy);
  } catch (error) {
    if (error instanceof BridgeError)
      return { code: error.code, field: error.details?.field, message: error.message };
    throw error;
  }
  return {};
}

const with_ = (patch: Record<string, unknown>) => ({ ...good, ...patch });
const sel = (patch: Record<string, unknown>) => ({ ...good, selectors: { ...good.selectors, ...patch } });

describe("validateRegistration", () => {
  it("accepts a minimal entry and fills the defaults", () => {
    expect(validateRegistration(good, policy)).toEqual({
      ...good,
      selectors: { ...good.selectors, principalType: "assumed-role" },
      kinds: ["jwt", "x509"],
      enabled: true,
    });
  });

  it("lower-cases DNS names and keeps every optional field", () => {
    const out = validateRegistration(
      with_({
        kinds: ["jwt"],
        jwtTtlSeconds: 300,
        x509TtlSeconds: 3600,
        audiences: ["sts.amazonaws.com"],
        dnsNames: ["Orders.Internal.Example", "*.svc.example.org"],
        enabled: false,
        description: "orders",
        selectors: { ...good.selectors, roleId: "AROAEXAMPLEEXAMPLE123", sessionName: "orders-*" },
      }),
      policy,
    );
    expect(out.dnsNames).toEqual(["orders.internal.example", "*.svc.example.org"]);
    expect(out.selectors.roleId).toBe("AROAEXAMPLEEXAMPLE123");
  });

  it.each([
    ["the trust domain's own ID", "spiffe://example.org", "spiffeId"],
    ["another trust domain", "spiffe://other.org/x", "spiffeId"],
    ["a trailing slash", "spiffe://example.org/a/", "spiffeId"],
    ["an unknown placeholder", "spiffe://example.org/{region}", "spiffeId"],
    ["an unbalanced brace", "spiffe://example.org/{role", "spiffeId"],
    ["a placeholder in the trust domain", "spiffe://{account}.example.org/x", "spiffeId"],
    ["a non-spiffe scheme", "https://example.org/x", "spiffeId"],
  ])("refuses a SPIFFE ID with %s, naming the field", (_what, spiffeId, field) => {
    expect(ruleOf(with_({ spiffeId }))).toMatchObject({ code: "registration_invalid", field });
  });

  it("names the broken SPIFFE rule in the message", () => {
    expect(ruleOf(with_({ spiffeId: "spiffe://example.org/a/" })).message).toContain(
      "trailing '/' is not allowed",
    );
    expect(ruleOf(with_({ spiffeId: "spiffe://example.org" })).message).toContain("reserved");
  });

  it.each([
    ["account not 12 digits", sel({ account: "12345" }), "selectors.account"],
    ["account missing", { ...good, selectors: { roleName: "r" } }, "selectors.account"],
    ["role name with '/'", sel({ roleName: "a/b" }), "selectors.roleName"],
    ["role name too long", sel({ roleName: "r".repeat(65) }), "selectors.roleName"],
    ["role ID not AROA", sel({ roleId: "AIDAEXAMPLEEXAMPLE123" }), "selectors.roleId"],
    ["role ID lower-case", sel({ roleId: "AROAexampleexample123" }), "selectors.roleId"],
    ["session glob with a regex", sel({ sessionName: "(a+)+$" }), "selectors.sessionName"],
    ["session glob too long", sel({ sessionName: "a".repeat(65) }), "selectors.sessionName"],
    ["unknown principal type", sel({ principalType: "root" }), "selectors.principalType"],
    ["unknown selector", sel({ region: "us-east-1" }), "selectors.region"],
    ["unknown field", with_({ audience: ["x"] }), "audience"],
    ["bad id", with_({ id: "-x" }), "id"],
    ["TTL below the minimum", with_({ jwtTtlSeconds: 10 }), "jwtTtlSeconds"],
    ["TTL above the maximum", with_({ x509TtlSeconds: 8 * 24 * 3600 }), "x509TtlSeconds"],
    ["fractional TTL", with_({ jwtTtlSeconds: 300.5 }), "jwtTtlSeconds"],
    ["no kinds", with_({ kinds: [] }), "kinds"],
    ["unknown kind", with_({ kinds: ["saml"] }), "kinds[0]"],
    ["empty audience list", with_({ audiences: [] }), "audiences"],
    ["duplicate audience", with_({ audiences: ["a", "a"] }), "audiences[1]"],
    ["control character in audience", with_({ audiences: ["a\nb"] }), "audiences[0]"],
    ["DNS name with underscore", with_({ dnsNames: ["a_b.example"] }), "dnsNames[0]"],
    ["DNS name that is an IP", with_({ dnsNames: ["10.0.0.1"] }), "dnsNames[0]"],
    ["wildcard too broad", with_({ dnsNames: ["*.com"] }), "dnsNames[0]"],
    ["non-boolean enabled", with_({ enabled: "yes" }), "enabled"],
    [
      "session selector for an IAM user",
      sel({ principalType: "iam-user", sessionName: "x" }),
      "selectors.sessionName",
    ],
  ])("refuses %s", (_what, input, field) => {
    expect(ruleOf(input)).toMatchObject({ code: "registration_invalid", field });
  });

  it("applies the bridge's own TTL maxima", () => {
    const tight = { ...policy, limits: { maxJwtTtlSeconds: 600 } };
    expect(() => validateRegistration(with_({ jwtTtlSeconds: 900 }), tight)).toThrow(/at most 600/);
  });

  it("never throws anything but BridgeError on random input (property)", () => {
    const anyEntry = fc.record(
      {
        id: fc.oneof(fc.string(), fc.constant("ok")),
        selectors: fc.oneof(
          fc.anything(),
          fc.record(
            {
              account: fc.oneof(fc.string(), fc.stringMatching(/^\d{12}$/)),
              roleName: fc.string(),
              roleId: fc.string(),
              sessionName: fc.string(),
              principalType: fc.string(),
            },
            { requiredKeys: [] },
          ),
        ),
        spiffeId: fc.oneof(
          fc.string(),
          fc.string().map((s) => `spiffe://example.org/${s}`),
        ),
        kinds: fc.anything(),
        jwtTtlSeconds: fc.anything(),
        audiences: fc.oneof(fc.anything(), fc.array(fc.string())),
        dnsNames: fc.oneof(fc.anything(), fc.array(fc.string())),
        enabled: fc.anything(),
        description: fc.anything(),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(anyEntry, fc.anything()), (input) => {
        try {
          validateRegistration(input, policy);
        } catch (error) {
          expect(errorCodeOf(error)).toBe("registration_invalid");
        }
      }),
      { numRuns: 2000 },
    );
  });
});
