import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { JwtSvidView } from "../../layers/extension/src/svid-manager.js";
import { encodeOnce } from "../../layers/extension/src/workload-api/grpc-server.js";
import { jwtSvidResponse, pemToDer, toStruct } from "../../layers/extension/src/workload-api/messages.js";
import { GrpcCode, noIdentity, rpcErrorOf } from "../../layers/extension/src/workload-api/rpc-errors.js";
import { BridgeError } from "../../lib/errors.js";

const pem = (label: string, der: Buffer) =>
  `-----BEGIN ${label}-----\n${der.toString("base64").replace(/(.{64})/g, "$1\n")}\n-----END ${label}-----\n`;

describe("Workload API messages", () => {
  it("turns PEM into concatenated DER, in order, of the asked label only", () => {
    const a = Buffer.from([1, 2, 3, 4]);
    const b = Buffer.alloc(200, 7);
    const text = pem("CERTIFICATE", a) + pem("PRIVATE KEY", Buffer.from([9])) + pem("CERTIFICATE", b);
    expect(pemToDer(text, "CERTIFICATE")).toEqual(Buffer.concat([a, b]));
    expect(pemToDer(text, "PRIVATE KEY")).toEqual(Buffer.from([9]));
    expect(pemToDer("no pem here", "CERTIFICATE")).toEqual(Buffer.alloc(0));
    expect(pemToDer("-----BEGIN CERTIFICATE-----\nAAAA", "CERTIFICATE")).toEqual(Buffer.alloc(0));
  });

  it("never throws on arbitrary text", () => {
    fc.assert(fc.property(fc.string(), (s) => Buffer.isBuffer(pemToDer(s, "CERTIFICATE"))));
  });

  it("maps JWT claims to google.protobuf.Struct", () => {
    expect(toStruct({ sub: "s", aud: ["a", "b"], exp: 5, ok: true, x: null, o: { k: 1 } })).toEqual({
      fields: {
        sub: { stringValue: "s" },
        aud: { listValue: { values: [{ stringValue: "a" }, { stringValue: "b" }] } },
        exp: { numberValue: 5 },
        ok: { boolValue: true },
        x: { nullValue: "NULL_VALUE" },
        o: { structValue: { fields: { k: { numberValue: 1 } } } },
      },
    });
  });
});

describe("FetchJWTSVID answers, built and encoded once per SVID", () => {
  const view = (token: string): JwtSvidView => ({
    spiffeId: "spiffe://example.org/fn",
    token,
    audience: "a",
    expiresAt: 1,
  });

  it("gives the same frozen answer for the same held SVID, a new one for a new SVID", () => {
    const held = view("t1");
    const first = jwtSvidResponse(held);
    expect(first).toEqual({ svids: [{ spiffe_id: "spiffe://example.org/fn", svid: "t1", hint: "" }] });
    expect(jwtSvidResponse(held)).toBe(first);
    expect(Object.isFrozen(first) && Object.isFrozen(first.svids) && Object.isFrozen(first.svids[0])).toBe(
      true,
    );
    const next = jwtSvidResponse(view("t2"));
    expect(next).not.toBe(first);
    expect(next.svids[0]!.svid).toBe("t2");
  });

  it("encodes a frozen answer once and reuses its bytes; a mutable one every time", () => {
    let calls = 0;
    const encode = encodeOnce((v: { svid: string }) => {
      calls++;
      return Buffer.from(v.svid);
    });
    const frozen = Object.freeze({ svid: "t1" });
    expect(encode(frozen)).toBe(encode(frozen));
    expect(calls).toBe(1);
    expect(encode(Object.freeze({ svid: "t2" })).toString()).toBe("t2");
    expect(calls).toBe(2);
    const mutable = { svid: "m1" };
    encode(mutable);
    mutable.svid = "m2";
    expect(encode(mutable).toString()).toBe("m2");
    expect(calls).toBe(4);
  });
});

describe("Workload API status codes", () => {
  it("maps the manager's errors: refused -> PermissionDenied, outage -> Unavailable, never Internal for those", () => {
    const code = (e: unknown) => rpcErrorOf(e).code;
    expect(code(new BridgeError("exchange_rejected", "no"))).toBe(GrpcCode.PermissionDenied);
    expect(code(new BridgeError("not_found", "x509 off"))).toBe(GrpcCode.PermissionDenied);
    expect(code(new BridgeError("not_ready", "later"))).toBe(GrpcCode.Unavailable);
    expect(code(new BridgeError("exchange_unavailable", "later"))).toBe(GrpcCode.Unavailable);
    expect(code(new BridgeError("invalid_request", "bad"))).toBe(GrpcCode.InvalidArgument);
    expect(code(new Error("bug"))).toBe(GrpcCode.Internal);
    expect(rpcErrorOf(new Error("secret detail")).details).toBe("internal error");
  });

  it("says Unavailable while fetching and PermissionDenied when refused", () => {
    expect(noIdentity({ kind: "fetching" }).code).toBe(GrpcCode.Unavailable);
    expect(
      noIdentity({ kind: "refused", error: new BridgeError("exchange_rejected", "no_registration") }).code,
    ).toBe(GrpcCode.PermissionDenied);
  });
});
