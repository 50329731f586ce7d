import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BridgeError } from "../../lib/errors.js";
import { SpiffeId, TrustDomain } from "../../lib/spiffe/spiffe-id.js";

// Every vector of ../shared/reference/spiffe.md §1 (go-spiffe id_test, the SPIFFE-ID spec).
const VALID = [
  "spiffe://trustdomain",
  "spiffe://trustdomain/path",
  "spiffe://trustdomain/pathZ",
  "spiffe://trustdomain/.path",
  "spiffe://trustdomain/..path",
  "spiffe://trustdomain/...",
  "spiffe://trustdomain_/path",
  "spiffe://trustdomain-/path",
  "spiffe://trustdomain./path",
  "spiffe://staging.example.com/payments/mysql",
  "spiffe://k8s-west.example.com/ns/staging/sa/default",
  "spiffe://example.com/9eebccd2-12bf-40a6-b262-65fe0487d453",
  "spiffe://trust_domain_name.example.com/x",
  "spiffe://192.168.1.10/x",
];

const INVALID: Array<[string, RegExp]> = [
  ["", /empty/],
  ["s", /scheme/],
  ["spiffe:/", /scheme/],
  ["spiffe:/trustdomain/path", /scheme/],
  ["Spiffe://td/x", /scheme must be lowercase/],
  ["spiffe://", /trust domain is missing/],
  ["spiffe:///", /trust domain is missing/],
  ["spiffe:///path", /trust domain is missing/],
  ["spiffe://trustdomain/", /trailing/],
  ["spiffe://trustdomain/path/", /trailing/],
  ["spiffe://trustdomain//", /empty path segment/],
  ["spiffe://trustdomain//path", /empty path segment/],
  ["spiffe://trustdomain/.", /dot segment/],
  ["spiffe://trustdomain/..", /dot segment/],
  ["spiffe://trustdomain/./path", /dot segment/],
  ["spiffe://trustdomain/path/./other", /dot segment/],
  ["spiffe://trustdomain/path/..", /dot segment/],
  ["spiffe://trustdomain/../path", /dot segment/],
  ["spiffe://trustdomain/path/../other", /dot segment/],
  ["spiffe://%62%61%64/path", /percent/],
  ["spiffe://%F0%9F%A4%AF/path", /percent/],
  ["spiffe://trustdomain/%62%61%64", /percent/],
  ["spiffe://trustdomain/%F0%9F%A4%AF", /percent/],
  ["spiffe://trust$domain", /only a-z/],
  ["spiffe://trustdomain/path$", /only a-z/],
  ["spiffe://TrustDomain/path", /lowercase/],
  ["spiffe://td:8080/a", /port/],
  ["spiffe://u@td/a", /userinfo/],
  ["spiffe://td/a?x=1", /query/],
  ["spiffe://td/a#f", /fragment/],
  ["spiffe://td/a b", /only a-z/],
  ["spiffe://[::1]/a", /IPv6/],
  ["spiffe://td/é", /only a-z/],
];

describe("SpiffeId.parse", () => {
  it.each(VALID)("accepts %s and round-trips it", (input) => {
    expect(SpiffeId.parse(input).toString()).toBe(input);
  });

  it.each(INVALID)("refuses %j, naming the rule", (input, rule) => {
    let caught: unknown;
    try {
      SpiffeId.parse(input);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(BridgeError);
    expect((caught as BridgeError).code).toBe("invalid_spiffe_id");
    expect((caught as BridgeError).message).toMatch(rule);
  });

  it("accepts an ID of exactly 2048 bytes and refuses 2049", () => {
    const prefix = "spiffe://td/";
    const ok = prefix + "a".repeat(2048 - prefix.length);
    expect(SpiffeId.parse(ok).toString()).toHaveLength(2048);
    expect(() => SpiffeId.parse(`${ok}b`)).toThrow(/longer than 2048 bytes/);
  });

  it("accepts a trust domain of 255 bytes and refuses 256", () => {
    expect(TrustDomain.parse("a".repeat(255)).name).toHaveLength(255);
    expect(() => TrustDomain.parse("a".repeat(256))).toThrow(/longer than 255 bytes/);
    expect(() => SpiffeId.parse(`spiffe://${"a".repeat(256)}/x`)).toThrow(/longer than 255 bytes/);
  });

  it("splits trust domain and path, and knows the trust-domain ID", () => {
    const id = SpiffeId.parse("spiffe://example.org/ns/prod/fn");
    expect(id.trustDomain.name).toBe("example.org");
    expect(id.path).toBe("/ns/prod/fn");
    expect(id.isTrustDomainId).toBe(false);
    expect(SpiffeId.parse("spiffe://example.org").isTrustDomainId).toBe(true);
    expect(id.isMemberOf(TrustDomain.parse("example.org"))).toBe(true);
    expect(id.isMemberOf(TrustDomain.parse("example.com"))).toBe(false);
    expect(id.equals(SpiffeId.parse("spiffe://example.org/ns/prod/fn"))).toBe(true);
    expect(id.equals(SpiffeId.parse("spiffe://example.org/ns/prod/FN"))).toBe(false);
  });

  it("builds from segments and checks each", () => {
    expect(SpiffeId.fromSegments("example.org", "aws", "123", "fn").toString()).toBe(
      "spiffe://example.org/aws/123/fn",
    );
    expect(() => SpiffeId.fromSegments("example.org", "a/../b")).toThrow(BridgeError);
    expect(() => SpiffeId.fromSegments("Example.org", "x")).toThrow(/lowercase/);
  });

  it("TrustDomain.parse takes a name or a trust-domain ID, not a workload ID", () => {
    expect(TrustDomain.parse("spiffe://example.org").name).toBe("example.org");
    expect(() => TrustDomain.parse("spiffe://example.org/x")).toThrow(/no path/);
    expect(() => TrustDomain.parse("")).toThrow(expect.objectContaining({ code: "invalid_trust_domain" }));
  });
});

describe("SpiffeId.parse, property-based", () => {
  const pathChar = fc.constantFrom(..."abcXYZ019.-_".split(""));
  const segment = fc
    .string({ unit: pathChar, minLength: 1, maxLength: 12 })
    .filter((s) => s !== "." && s !== "..");
  const tdChar = fc.constantFrom(..."abz09.-_".split(""));
  const td = fc.string({ unit: tdChar, minLength: 1, maxLength: 20 });

  it("never throws anything but its own error on random strings", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string().map((s) => `spiffe://${s}`),
          fc.string({ unit: "binary" }),
        ),
        (s) => {
          try {
            SpiffeId.parse(s);
          } catch (error) {
            expect(error).toBeInstanceOf(BridgeError);
            expect((error as BridgeError).code).toBe("invalid_spiffe_id");
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("round-trips every ID it accepts, and accepts every well-formed ID", () => {
    fc.assert(
      fc.property(td, fc.array(segment, { maxLength: 6 }), (domain, segments) => {
        const input = `spiffe://${domain}${segments.map((s) => `/${s}`).join("")}`;
        const id = SpiffeId.parse(input);
        expect(id.toString()).toBe(input);
        expect(SpiffeId.parse(id.toString()).equals(id)).toBe(true);
      }),
    );
  });
});
