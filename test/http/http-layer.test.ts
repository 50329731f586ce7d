import middy from "@middy/core";
import type { APIGatewayProxyEventV2, Context } from "aws-lambda";
import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import { BridgeError } from "../../lib/errors.js";
import { boolean, integer, oneOf, requiredString } from "../../lib/http/env.js";
import { httpErrorHandler } from "../../lib/http/error-middleware.js";
import { requestFromEvent } from "../../lib/http/function-url-event.js";
import type { HttpRequest, HttpResponse } from "../../lib/http/http-types.js";
import { parseJsonBody } from "../../lib/http/json-body.js";
import { createLogger, REDACTED, redactingReplacer } from "../../lib/http/logger.js";
import { errorToResponse, jsonResponse } from "../../lib/http/responses.js";

const v2 = (over: Partial<APIGatewayProxyEventV2> = {}): APIGatewayProxyEventV2 =>
  ({
    version: "2.0",
    rawPath: "/v1/svid/jwt",
    headers: { "Content-Type": "application/json", "x-a": "1" },
    requestContext: {
      http: { method: "post", path: "/v1/svid/jwt", sourceIp: "10.0.0.1" },
      requestId: "id-1",
    },
    isBase64Encoded: false,
    ...over,
  }) as unknown as APIGatewayProxyEventV2;

describe("requestFromEvent", () => {
  it("lower-cases header names and the method, keeps path, query, request id and source IP", () => {
    const r = requestFromEvent(v2({ queryStringParameters: { a: "1" }, cookies: ["x=1", "y=2"] }));
    expect(r).toMatchObject({
      method: "POST",
      path: "/v1/svid/jwt",
      headers: { "content-type": "application/json", "x-a": "1", cookie: "x=1; y=2" },
      query: { a: "1" },
      requestId: "id-1",
      sourceIp: "10.0.0.1",
    });
    expect(r.body.byteLength).toBe(0);
  });

  it("decodes base64 bodies and keeps plain ones as UTF-8", () => {
    expect(
      requestFromEvent(
        v2({ body: Buffer.from('{"a":1}').toString("base64"), isBase64Encoded: true }),
      ).body.toString(),
    ).toBe('{"a":1}');
    expect(requestFromEvent(v2({ body: "héllo" })).body.toString("utf8")).toBe("héllo");
  });

  it("refuses an event that is not an HTTP v2 request with invalid_request", () => {
    for (const bad of [{}, { requestContext: {} }, null])
      expect(() => requestFromEvent(bad as unknown as APIGatewayProxyEventV2)).toThrow(
        expect.objectContaining({ code: "invalid_request" }),
      );
  });
});

describe("responses and the error middleware", () => {
  it("jsonResponse sets JSON and nosniff, and lets the caller add headers", () => {
    const r = jsonResponse(201, { ok: true }, { "cache-control": "no-store" });
    expect(r).toEqual({
      statusCode: 201,
      headers: {
        "content-type": "application/json",
        "x-content-type-options": "nosniff",
        "cache-control": "no-store",
      },
      body: '{"ok":true}',
    });
  });

  it("a 4xx BridgeError shows its code and message", () => {
    const r = errorToResponse(new BridgeError("no_registration", "no entry for role app"));
    expect(r.statusCode).toBe(403);
    expect(JSON.parse(r.body)).toEqual({ error: "no_registration", message: "no entry for role app" });
  });

  it("a 5xx BridgeError shows its code but never its message; unknown errors are internal_error", () => {
    const r = errorToResponse(new BridgeError("sts_unavailable", "sts.us-east-1 at 10.1.2.3 timed out"));
    expect(r.statusCode).toBe(503);
    expect(JSON.parse(r.body)).toEqual({ error: "sts_unavailable", message: "internal error" });
    const unknown = errorToResponse(Object.assign(new Error("db password is hunter2"), { status: 400 }));
    expect(unknown.statusCode).toBe(500);
    expect(JSON.parse(unknown.body)).toEqual({ error: "internal_error", message: "internal error" });
    expect(unknown.body).not.toMatch(/hunter2|at .*\.ts/);
  });

  it("middy: maps thrown errors, logs 5xx with their cause and 4xx without, never leaks a stack", async () => {
    const logger = { info: vi.fn(), error: vi.fn() };
    const make = (error: unknown) =>
      middy<APIGatewayProxyEventV2, HttpResponse, Error, Context>()
        .use(httpErrorHandler({ logger, headers: { "access-control-allow-origin": "*" } }))
        .handler(async () => {
          throw error;
        });
    const ctx = {} as Context;
    const four = await make(new BridgeError("invalid_request", "bad audience"))(v2(), ctx);
    expect(four.statusCode).toBe(400);
    expect(four.headers["access-control-allow-origin"]).toBe("*");
    expect(logger.info).toHaveBeenCalledTimes(1);
    expect(logger.error).not.toHaveBeenCalled();
    const five = await make(new RangeError("stack me"))(v2(), ctx);
    expect(five.statusCode).toBe(500);
    expect(five.body).not.toContain("stack me");
    expect(five.body).not.toContain("RangeError");
    expect(logger.error).toHaveBeenCalledTimes(1);
    const thrownString = await make("a string")(v2(), ctx);
    expect(JSON.parse(thrownString.body).error).toBe("internal_error");
  });
});

describe("parseJsonBody", () => {
  const withBody = (body: string | Buffer, type = "application/json"): HttpRequest => ({
    method: "POST",
    path: "/",
    headers: { "content-type": type },
    query: {},
    body: Buffer.isBuffer(body) ? body : Buffer.from(body),
  });

  it("accepts a JSON object (charset parameter allowed)", () => {
    expect(parseJsonBody(withBody('{"a":[1]}', "application/json; charset=utf-8"))).toEqual({ a: [1] });
    // Issue 14, fault 6's kind: a repeated member (a WAF may read the first, JSON.parse the last).
    for (const body of ['{"audience":["a"],"audience":["b"]}', '{"proof":{"body":"x","b\\u006fdy":"y"}}'])
      expect(() => parseJsonBody(withBody(body))).toThrow(/appears twice/);
  });

  it.each([
    ["x".repeat(70_000), "application/json", "body_too_large"],
    ['{"a":1}', "text/plain", "unsupported_media_type"],
    ["", "application/json", "invalid_request"],
    ["[1]", "application/json", "invalid_request"],
    ["null", "application/json", "invalid_request"],
    ["{", "application/json", "invalid_request"],
  ])("refuses %j (%s) with %s", (body, type, code) => {
    expect(() => parseJsonBody(withBody(body.length > 100 ? `"${body}"` : body, type))).toThrow(
      expect.objectContaining({ code }),
    );
  });

  it("refuses invalid UTF-8", () => {
    expect(() => parseJsonBody(withBody(Buffer.from([0x7b, 0xff, 0x7d])))).toThrow(
      expect.objectContaining({ code: "invalid_request" }),
    );
  });

  it("property: any bytes give an object or a 4xx BridgeError, nothing else", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.constantFrom("application/json", "text/json", ""),
        (bytes, type) => {
          try {
            const value = parseJsonBody(withBody(Buffer.from(bytes), type), { maxBytes: 200 });
            expect(typeof value).toBe("object");
          } catch (error) {
            expect(error).toBeInstanceOf(BridgeError);
            expect((error as BridgeError).status).toBeLessThan(500);
          }
        },
      ),
    );
  });
});

describe("logger", () => {
  afterEach(() => vi.restoreAllMocks());

  it("redactingReplacer hides secret fields and secret-shaped strings", () => {
    const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzcGlmZmUifQ.c2lnbmF0dXJl";
    const line = JSON.stringify(
      {
        token: "anything",
        proof: { headers: {} },
        authorization: "AWS4-HMAC-SHA256 Credential=…",
        nested: { privateKey: "pem", jwk: { kty: "EC", d: "secret-d", x: "pub" } },
        note: `got ${jwt} from caller`,
        pem: "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----",
        kid: "abc",
      },
      redactingReplacer,
    );
    for (const secret of ["anything", "AWS4-HMAC", "secret-d", jwt, "MIIE"])
      expect(line).not.toContain(secret);
    expect(line).toContain(`"privateKey":"${REDACTED}"`);
    expect(line).toContain('"kid":"abc"');
    expect(line).toContain('"x":"pub"');
  });

  it("redacts a JWS in linear time whatever the logged string (issue 14, fault 1's kind)", () => {
    expect(redactingReplacer("", "a eyJhbGciOi.eyJzdWIi.sig b")).toBe(`a ${REDACTED} b`);
    expect(redactingReplacer("", "x.eyJhbGciOi.p.s.tail")).toBe(`x.${REDACTED}.tail`);
    expect(redactingReplacer("", "not.a.token eyJ.x.y")).toBe("not.a.token eyJ.x.y");
    const hostile = `${"JeyJ-yeJ.-".repeat(20_000)}\u0000`;
    const started = performance.now();
    redactingReplacer("", hostile);
    expect(performance.now() - started).toBeLessThan(1000); // quadratic was minutes
  });

  it("createLogger writes structured JSON with the service name and without the token", () => {
    const writes: string[] = [];
    vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    });
    const logger = createLogger({ serviceName: "svid-bridge-test", logLevel: "INFO" });
    logger.info("minted", { token: "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.sig", spiffeId: "spiffe://td/app" });
    const line = writes.join("");
    const entry = JSON.parse(line.trim().split("\n").at(-1)!);
    expect(entry).toMatchObject({
      message: "minted",
      service: "svid-bridge-test",
      spiffeId: "spiffe://td/app",
    });
    expect(entry.token).toBe(REDACTED);
    expect(line).not.toContain("eyJhbGciOiJFUzI1NiJ9");
  });
});

describe("env readers", () => {
  it("name the variable they refuse", () => {
    expect(() => requiredString({}, "X_NAME")).toThrow(/X_NAME is required/);
    expect(() => integer({ N: "1.5" }, "N", 1)).toThrow(/N must be a non-negative integer/);
    expect(() => integer({ N: "9" }, "N", 1, { max: 5 })).toThrow(/N must be at most 5/);
    expect(() => oneOf({ M: "x" }, "M", ["a", "b"], "a")).toThrow(/M must be one of a, b/);
    expect(() => boolean({ B: "yes" }, "B", false)).toThrow(/B must be true or false/);
    expect([integer({}, "N", 7), oneOf({}, "M", ["a"], "a"), boolean({ B: "1" }, "B", false)]).toEqual([
      7,
      "a",
      true,
    ]);
  });
});
