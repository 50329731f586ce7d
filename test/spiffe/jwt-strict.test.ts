/**
 * Issue 14, fault 6: the JWT-SVID validator is as strict as its signer. Tokens here are
 * correctly signed by a key the bundle holds, so each refusal comes from the rule named.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../lib/clock.js";
import { errorCodeOf } from "../../lib/errors.js";
import { InMemoryKeyManager } from "../../lib/local/in-memory-key-manager.js";
import { signerFor } from "../../lib/ports/key-manager.js";
import { TrustBundle } from "../../lib/spiffe/bundle.js";
import { findDuplicateMember } from "../../lib/spiffe/jwt-strict.js";
import { validateJwtSvid } from "../../lib/spiffe/jwt-svid.js";
import { TrustDomain } from "../../lib/spiffe/spiffe-id.js";

const td = TrustDomain.parse("example.org");
const NOW = 1_800_000_000;
const clock = new ManualClock(NOW * 1000);
const keys = new InMemoryKeyManager();
const info = await keys.createKey("ES256");
const signer = await signerFor(keys, info.keyId);
const bundle = new TrustBundle({
  trustDomain: td,
  jwtAuthorities: [{ kid: signer.kid, jwk: info.jwk, alg: "ES256" }],
});
const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64url");

/** Signs raw header and payload JSON text as given: duplicates and all. */
async function signRaw(header: string, payload: string): Promise<string> {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${Buffer.from(await signer.sign(Buffer.from(input))).toString("base64url")}`;
}
const HEADER = `{"alg":"ES256","kid":${JSON.stringify(signer.kid)},"typ":"JWT"}`;
const claims = (extra = "", exp = NOW + 300) =>
  `{"sub":"spiffe://example.org/a","aud":["x"],"exp":${exp},"iat":${NOW}${extra}}`;
const validate = async (token: string, issuer?: string) => {
  try {
    await validateJwtSvid(token, { audience: "x", bundles: bundle, clock, ...(issuer && { issuer }) });
    return "accepted";
  } catch (error) {
    return errorCodeOf(error);
  }
};

describe("fault 6: the validator is as strict as its signer", () => {
  it("accepts the plain token (the baseline)", async () => {
    expect(await validate(await signRaw(HEADER, claims()))).toBe("accepted");
  });

  it("fault 6: a token with two sub members is refused (jwt_claims_invalid)", async () => {
    expect(await validate(await signRaw(HEADER, claims(',"sub":"spiffe://example.org/admin"')))).toBe(
      "jwt_claims_invalid",
    );
  });

  it('fault 6: a header with "alg":"HS256" then "alg":"ES256" is refused (jwt_header_invalid)', async () => {
    const header = `{"alg":"HS256","alg":"ES256","kid":${JSON.stringify(signer.kid)}}`;
    expect(await validate(await signRaw(header, claims()))).toBe("jwt_header_invalid");
  });

  it("fault 6: a duplicate written with an escape (\\u0073ub) or nested is still a duplicate", async () => {
    expect(await validate(await signRaw(HEADER, claims(',"\\u0073ub":"spiffe://example.org/b"')))).toBe(
      "jwt_claims_invalid",
    );
    expect(await validate(await signRaw(HEADER, claims(',"cnf":{"jkt":"a","jkt":"b"}')))).toBe(
      "jwt_claims_invalid",
    );
  });

  it("fault 6: an exp of 1e20 is refused; one at the longest lifetime issued is accepted", async () => {
    expect(await validate(await signRaw(HEADER, claims("", 1e20)))).toBe("jwt_claims_invalid");
    expect(await validate(await signRaw(HEADER, claims("", NOW + 48 * 3600 + 61)))).toBe(
      "jwt_claims_invalid",
    );
    expect(await validate(await signRaw(HEADER, claims("", NOW + 48 * 3600)))).toBe("accepted");
  });

  it("the duplicate scan agrees with an oracle on random JSON with known duplicates (seeded)", () => {
    type Doc = { text: string; dup: boolean };
    const name = fc.constantFrom("a", "b", "\\u0061", 'a\\"', "{", "[", ",", ":");
    const doc: fc.Arbitrary<Doc> = fc.letrec<{ v: Doc }>((tie) => ({
      v: fc.oneof(
        { depthSize: "small" },
        fc.constantFrom('"s,{[\\""', "1", "[]", "{}", "null").map((text) => ({ text, dup: false })),
        fc.array(tie("v"), { maxLength: 3 }).map((xs) => ({
          text: `[${xs.map((x) => x.text).join(",")}]`,
          dup: xs.some((x) => x.dup),
        })),
        fc.array(fc.tuple(name, tie("v")), { maxLength: 4 }).map((members) => {
          const decoded = members.map(([k]) => JSON.parse(`"${k}"`) as string);
          return {
            text: `{${members.map(([k, v]) => `"${k}":${v.text}`).join(",")}}`,
            dup: new Set(decoded).size !== decoded.length || members.some(([, v]) => v.dup),
          };
        }),
      ),
    })).v;
    fc.assert(
      fc.property(doc, ({ text, dup }) => {
        JSON.parse(text); // valid JSON by construction
        expect(findDuplicateMember(text) !== undefined).toBe(dup);
      }),
      { seed: 6, numRuns: 3000 },
    );
  });
});
