/**
 * One audience rule (issue 17): a registration may allow exactly the audiences an exchange
 * request may ask for. Before, an entry allowed `a b` or `é` (256 characters, spaces and
 * non-ASCII) that no request could name, and refused 257–1000 that a request could.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { errorCodeOf } from "../../lib/errors.js";
import { parseJwtSvidRequest } from "../../lib/exchange/requests.js";
import { validateRegistration } from "../../lib/registrations/validate-entry.js";
import { audienceRule, MAX_AUDIENCE_LENGTH } from "../../lib/spiffe/jwt-svid-limits.js";
import { TrustDomain } from "../../lib/spiffe/spiffe-id.js";

const policy = { trustDomain: TrustDomain.parse("example.org") };

function entryAllows(audience: string): boolean {
  try {
    validateRegistration(
      {
        id: "e",
        selectors: { account: "111122223333", roleName: "r" },
        spiffeId: "spiffe://example.org/e",
        audiences: [audience],
      },
      policy,
    );
    return true;
  } catch (error) {
    expect(errorCodeOf(error)).toBe("registration_invalid");
    return false;
  }
}

function requestMayAsk(audience: string): boolean {
  try {
    parseJwtSvidRequest({ audience: [audience], proof: {} });
    return true;
  } catch (error) {
    expect(errorCodeOf(error)).toBe("invalid_request");
    return false;
  }
}

describe("one audience rule for requests and registrations", () => {
  it.each([
    ["a b", false],
    ["é", false],
    [" a", false],
    ["a\tb", false],
    ["", false],
    ["x".repeat(MAX_AUDIENCE_LENGTH), true],
    ["x".repeat(MAX_AUDIENCE_LENGTH + 1), false],
    ["sts.amazonaws.com", true],
    ["//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/q", true],
  ])("%j: allowed %s by both", (audience, ok) => {
    expect(audienceRule(audience) === undefined).toBe(ok);
    expect(entryAllows(audience)).toBe(ok);
    if (audience !== "") expect(requestMayAsk(audience)).toBe(ok);
  });

  it("for any string, an entry allows it exactly when a request may ask for it", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40, unit: "binary" }), (audience) => {
        expect(entryAllows(audience)).toBe(requestMayAsk(audience));
      }),
    );
  });
});
