import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BridgeError } from "../../lib/errors.js";
import { errorResponseXml, getCallerIdentityXml } from "../../lib/local/sts-server.js";
import { parseGetCallerIdentityResponse, parseStsError } from "../../lib/proof/sts-response.js";
import { ROLE } from "./fixtures.js";

const good = getCallerIdentityXml(ROLE, "req-1");

function refused(xml: string) {
  expect(() => parseGetCallerIdentityResponse(xml)).toThrow(
    expect.objectContaining({ code: "proof_rejected", status: 401 }),
  );
}

describe("STS answer reader", () => {
  it("reads STS's GetCallerIdentityResponse, with or without an XML declaration", () => {
    const want = { arn: ROLE.arn, userId: ROLE.userId, account: "111122223333" };
    expect(parseGetCallerIdentityResponse(good)).toEqual(want);
    expect(parseGetCallerIdentityResponse(`<?xml version="1.0" encoding="UTF-8"?>\n${good}`)).toEqual(want);
  });

  it('refuses input that makes the XML validator itself throw (found by the property test: "<A/")', () => {
    for (const xml of ["<A/", "<GetCallerIdentityResponse/", "<a"]) {
      let caught: unknown;
      try {
        parseGetCallerIdentityResponse(xml);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(BridgeError);
      expect((caught as BridgeError).code).toBe("proof_rejected");
    }
  });

  it("keeps an account ID's leading zero", () => {
    const arn = "arn:aws:sts::012345678901:assumed-role/r/s1";
    expect(
      parseGetCallerIdentityResponse(getCallerIdentityXml({ arn, userId: "AROAAAAAAAAAAAAAAAAA:s1" }, "r"))
        .account,
    ).toBe("012345678901");
  });

  it("refuses two Arn elements", () => {
    refused(good.replace("<UserId>", `<Arn>arn:aws:sts::999999999999:assumed-role/admin/x</Arn><UserId>`));
  });

  it("refuses two results, and a result outside the response", () => {
    const result = good.slice(good.indexOf("<GetCallerIdentityResult>"), good.indexOf("<ResponseMetadata>"));
    refused(good.replace("<ResponseMetadata>", `${result}<ResponseMetadata>`));
    refused(`<Other>${result}</Other>`);
  });

  it("refuses a DOCTYPE, an entity declaration, CDATA and comments", () => {
    refused(
      `<!DOCTYPE GetCallerIdentityResponse [<!ENTITY a "arn:aws:sts::111122223333:assumed-role/x/y">]>${good}`,
    );
    refused(good.replace(ROLE.arn, "&a;"));
    refused(good.replace(ROLE.arn, `<![CDATA[${ROLE.arn}]]>`));
    refused(good.replace("<Arn>", "<!-- hi --><Arn>"));
  });

  it("refuses an ARN whose account is not Account, and a malformed Account", () => {
    refused(good.replace("<Account>111122223333</Account>", "<Account>444455556666</Account>"));
    refused(good.replace("<Account>111122223333</Account>", "<Account>1111</Account>"));
  });

  it("refuses missing or empty fields, extra fields, nested elements and a second root", () => {
    refused(good.replace(/<UserId>.*<\/UserId>/, ""));
    refused(good.replace(/<UserId>.*<\/UserId>/, "<UserId></UserId>"));
    refused(good.replace("<Account>", "<Extra>x</Extra><Account>"));
    refused(good.replace(`<Arn>${ROLE.arn}</Arn>`, `<Arn><Arn>${ROLE.arn}</Arn></Arn>`));
    refused(`${good}<GetCallerIdentityResponse/>`);
    refused("not xml at all");
    refused("");
    refused(errorResponseXml("SignatureDoesNotMatch", "no", "r"));
  });

  it("reads an ErrorResponse's code, and never throws on garbage", () => {
    expect(parseStsError(errorResponseXml("ExpiredToken", "expired", "r"))).toEqual({
      code: "ExpiredToken",
      message: "expired",
    });
    expect(parseStsError("<<<")).toEqual({});
  });

  it("property: random text or mutated answers are accepted only intact, refused only as BridgeError", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.nat(good.length)), fc.string({ maxLength: 8 }), (cut, insert) => {
        const xml = typeof cut === "string" ? cut : good.slice(0, cut) + insert + good.slice(cut);
        try {
          const got = parseGetCallerIdentityResponse(xml);
          expect(got.arn.split(":")[4]).toBe(got.account);
        } catch (error) {
          expect(error).toBeInstanceOf(BridgeError);
        }
        expect(() => parseStsError(xml)).not.toThrow();
      }),
      { numRuns: 500 },
    );
  });
});
