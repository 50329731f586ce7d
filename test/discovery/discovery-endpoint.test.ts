import type { APIGatewayProxyEventV2, Context } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { createDiscoveryHandler } from "../../lambdas/discovery/app.js";
import { ManualClock } from "../../lib/clock.js";
import {
  createDiscoveryEndpoint,
  discoveryPaths,
  etagMatches,
} from "../../lib/discovery/discovery-endpoint.js";
import { BridgeError } from "../../lib/errors.js";
import type { HttpRequest } from "../../lib/http/http-types.js";
import type { KeySetStore } from "../../lib/keyset/key-set-store.js";
import { InMemoryKeySetStore } from "../../lib/local/in-memory-key-set-store.js";
import { rotateKeys } from "../../lib/rotation/rotate-keys.js";
import { TrustDomain } from "../../lib/spiffe/spiffe-id.js";
import { DeletingKeyManager, ObservedStore } from "../rotation/helpers.js";

const td = TrustDomain.parse("bridge.example.com");
const ISSUER = "https://bridge.example.com";
const PATHS = ["/.well-known/openid-configuration", "/.well-known/jwks.json", "/bundle.json"];

function req(path: string, method = "GET", headers: Record<string, string> = {}): HttpRequest {
  return { method, path, headers, query: {}, body: Buffer.alloc(0) };
}

async function setup(options: { maxAge?: number } = {}) {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const keys = new DeletingKeyManager();
  const store = new ObservedStore(new InMemoryKeySetStore());
  await rotateKeys({ store, keys, clock, config: { alg: "ES256" } });
  const endpoint = createDiscoveryEndpoint({
    issuer: ISSUER,
    trustDomain: td,
    store,
    clock,
    keySetCacheSeconds: 5,
    ...(options.maxAge !== undefined && { cacheMaxAgeSeconds: options.maxAge }),
  });
  return { clock, keys, store, endpoint };
}

describe("discovery endpoint", () => {
  it.each(PATHS)("GET %s: 200 JSON, short public cache, strong ETag, CORS", async (path) => {
    const { endpoint } = await setup({ maxAge: 120 });
    const response = await endpoint(req(path));
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toBe("application/json");
    expect(response.headers["cache-control"]).toBe("public, max-age=120");
    expect(response.headers["access-control-allow-origin"]).toBe("*");
    expect(response.headers.etag).toMatch(/^"[A-Za-z0-9_-]{43}"$/);
    expect(() => JSON.parse(response.body)).not.toThrow();
  });

  it("answers If-None-Match with 304 and no body, for the same ETag, a weak form of it, a list or *", async () => {
    const { endpoint } = await setup();
    const first = await endpoint(req("/.well-known/jwks.json"));
    const etag = first.headers.etag!;
    for (const inm of [etag, `W/${etag}`, `"other", ${etag}`, "*"]) {
      const again = await endpoint(req("/.well-known/jwks.json", "GET", { "if-none-match": inm }));
      expect(again.statusCode).toBe(304);
      expect(again.body).toBe("");
      expect(again.headers.etag).toBe(etag);
      expect(again.headers["cache-control"]).toBe("public, max-age=300");
    }
    const stale = await endpoint(req("/.well-known/jwks.json", "GET", { "if-none-match": '"stale"' }));
    expect(stale.statusCode).toBe(200);
    expect(stale.body).toBe(first.body);
  });

  it("HEAD has the GET headers and no body", async () => {
    const { endpoint } = await setup();
    const get = await endpoint(req("/bundle.json"));
    const head = await endpoint(req("/bundle.json", "HEAD"));
    expect(head.statusCode).toBe(200);
    expect(head.body).toBe("");
    expect(head.headers).toEqual(get.headers);
  });

  it("keeps the ETag while the set is unchanged and changes it after a rotation", async () => {
    const { endpoint, clock, keys, store } = await setup();
    const before = await endpoint(req("/.well-known/jwks.json"));
    clock.advance(3600_000);
    expect((await endpoint(req("/.well-known/jwks.json"))).headers.etag).toBe(before.headers.etag);
    await rotateKeys({ store, keys, clock, config: { alg: "ES256" }, force: true });
    clock.advance(6_000);
    const after = await endpoint(req("/.well-known/jwks.json"));
    expect(after.headers.etag).not.toBe(before.headers.etag);
    expect(JSON.parse(after.body).keys).toHaveLength(2);
  });

  it("reads the key set at most once per cache period", async () => {
    const { endpoint, clock, store } = await setup();
    const readsBefore = store.reads;
    await Promise.all(PATHS.map((p) => endpoint(req(p))));
    await endpoint(req(PATHS[0]!));
    expect(store.reads - readsBefore).toBe(1);
    clock.advance(5_000);
    await endpoint(req(PATHS[0]!));
    expect(store.reads - readsBefore).toBe(2);
  });

  it.each(["/", "/keys", "/.well-known/openid-configuration/", "/.well-known/jwks.json.bak", "/BUNDLE.JSON"])(
    "GET %s: 404 not_found as JSON",
    async (path) => {
      const { endpoint } = await setup();
      const response = await endpoint(req(path));
      expect(response.statusCode).toBe(404);
      expect(JSON.parse(response.body)).toEqual({ error: "not_found", message: "no such document" });
      expect(response.headers["content-type"]).toBe("application/json");
      expect(response.headers["cache-control"]).toBe("no-store");
    },
  );

  it.each(["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])(
    "%s on a document: 405 method_not_allowed with Allow",
    async (method) => {
      const { endpoint } = await setup();
      const response = await endpoint(req("/.well-known/openid-configuration", method));
      expect(response.statusCode).toBe(405);
      expect(JSON.parse(response.body).error).toBe("method_not_allowed");
      expect(response.headers.allow).toBe("GET, HEAD");
    },
  );

  it("serves under the issuer's path when it has one", async () => {
    const clock = new ManualClock();
    const store = new InMemoryKeySetStore();
    const endpoint = createDiscoveryEndpoint({
      issuer: "https://h.example.com/td1",
      trustDomain: td,
      store,
      clock,
    });
    const paths = discoveryPaths("https://h.example.com/td1");
    expect(paths.openIdConfiguration).toBe("/td1/.well-known/openid-configuration");
    const doc = JSON.parse((await endpoint(req(paths.openIdConfiguration))).body);
    expect(doc.jwks_uri).toBe("https://h.example.com/td1/.well-known/jwks.json");
    expect((await endpoint(req(new URL(doc.jwks_uri).pathname))).statusCode).toBe(200);
    expect((await endpoint(req("/.well-known/openid-configuration"))).statusCode).toBe(404);
  });

  it("direct mode: publishes roots from outside the key set (ACM PCA's), fetched once, retried after a failure", async () => {
    const { makeTestCa } = await import("../support/x509-fixtures.js");
    const ca = await makeTestCa(td);
    let calls = 0;
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const store = new InMemoryKeySetStore();
    await rotateKeys({ store, keys: new DeletingKeyManager(), clock, config: { alg: "ES256" } });
    const endpoint = createDiscoveryEndpoint({
      issuer: ISSUER,
      trustDomain: td,
      store,
      clock,
      extraTrustAnchors: async () => {
        calls++;
        if (calls === 1) throw new BridgeError("ca_unavailable", "PCA is down");
        return [ca.root];
      },
    });
    await expect(endpoint(req("/bundle.json"))).rejects.toMatchObject({ code: "ca_unavailable" });
    const bundle = JSON.parse((await endpoint(req("/bundle.json"))).body) as {
      keys: Array<{ use: string; x5c?: string[] }>;
    };
    const x509 = bundle.keys.filter((k) => k.use === "x509-svid");
    expect(x509.map((k) => k.x5c![0])).toEqual([Buffer.from(ca.root.rawData).toString("base64")]);
    await endpoint(req("/bundle.json"));
    expect(calls).toBe(2);
  });

  it("item 16: OIDC discovery and the JWKS never wait on the PCA: served while its root fetch hangs or fails", async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const store = new InMemoryKeySetStore();
    await rotateKeys({ store, keys: new DeletingKeyManager(), clock, config: { alg: "ES256" } });
    for (const extraTrustAnchors of [
      () => new Promise<never>(() => {}), // a PCA that never answers
      async () => {
        throw new BridgeError("ca_unavailable", "PCA is down");
      },
    ]) {
      const endpoint = createDiscoveryEndpoint({
        issuer: ISSUER,
        trustDomain: td,
        store,
        clock,
        extraTrustAnchors,
      });
      const config = await endpoint(req("/.well-known/openid-configuration"));
      expect(config.statusCode).toBe(200);
      expect(JSON.parse(config.body).jwks_uri).toBe(`${ISSUER}/.well-known/jwks.json`);
      const keys = JSON.parse((await endpoint(req("/.well-known/jwks.json"))).body) as { keys: unknown[] };
      expect(keys.keys).toHaveLength(1);
    }
  });

  it("serves an empty key list (not an error) before the first rotation", async () => {
    const endpoint = createDiscoveryEndpoint({
      issuer: ISSUER,
      trustDomain: td,
      store: new InMemoryKeySetStore(),
      clock: new ManualClock(),
    });
    expect(JSON.parse((await endpoint(req("/.well-known/jwks.json"))).body)).toEqual({ keys: [] });
    expect(JSON.parse((await endpoint(req("/bundle.json"))).body)).toEqual({
      spiffe_sequence: 0,
      spiffe_refresh_hint: 300,
      keys: [],
    });
  });

  it("refuses an issuer AWS IAM would refuse", () => {
    const make = (issuer: string) => () =>
      createDiscoveryEndpoint({
        issuer,
        trustDomain: td,
        store: new InMemoryKeySetStore(),
        clock: new ManualClock(),
      });
    for (const bad of [
      "http://bridge.example.com",
      "https://bridge.example.com/",
      "https://bridge.example.com:8443",
      // item 17: forms a parser rewrites, which would break iss comparison or jwks_uri
      "https://bridge.example.com:443",
      "https://bridge.example.com?",
      "https://bridge.example.com#",
      "https://bridge.example.com/.",
      "https://bridge.example.com/a/./b",
      "https://bridge.example.com/a/../b",
      "https://Bridge.example.com",
    ])
      expect(make(bad)).toThrow(expect.objectContaining({ code: "config_invalid" }));
  });

  it("etagMatches compares weakly and never matches an absent header", () => {
    expect(etagMatches(undefined, '"a"')).toBe(false);
    expect(etagMatches('"b"', '"a"')).toBe(false);
    expect(etagMatches('W/"a"', '"a"')).toBe(true);
  });
});

describe("discovery Lambda handler (middy)", () => {
  const context = {} as Context;
  const event = (path: string): APIGatewayProxyEventV2 =>
    ({
      version: "2.0",
      rawPath: path,
      headers: {},
      requestContext: { http: { method: "GET", path }, requestId: "r" },
      isBase64Encoded: false,
    }) as unknown as APIGatewayProxyEventV2;

  function failingStore(error: Error): KeySetStore {
    return { get: async () => Promise.reject(error), put: async () => Promise.reject(error) };
  }

  it("maps an unreachable store to 503 store_unavailable without its message, and logs it", async () => {
    const logged: unknown[] = [];
    const logger = { info: () => {}, error: (...args: unknown[]) => logged.push(args) };
    const handler = createDiscoveryHandler({
      endpoint: createDiscoveryEndpoint({
        issuer: ISSUER,
        trustDomain: td,
        store: failingStore(new BridgeError("store_unavailable", "table keys in 123456789012 is gone")),
        clock: new ManualClock(),
      }),
      logger,
    });
    const response = await handler(event("/bundle.json"), context);
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body)).toEqual({ error: "store_unavailable", message: "internal error" });
    expect(response.body).not.toContain("123456789012");
    expect(response.headers["access-control-allow-origin"]).toBe("*");
    expect(logged).toHaveLength(1);
  });

  it("maps an unknown error to 500 internal_error with a generic message", async () => {
    const handler = createDiscoveryHandler({
      endpoint: createDiscoveryEndpoint({
        issuer: ISSUER,
        trustDomain: td,
        store: failingStore(new TypeError("secret internals at line 42")),
        clock: new ManualClock(),
      }),
    });
    const response = await handler(event("/bundle.json"), context);
    expect(response.statusCode).toBe(500);
    expect(JSON.parse(response.body)).toEqual({ error: "internal_error", message: "internal error" });
  });

  it("answers 404 for a bad path without reading the store", async () => {
    const handler = createDiscoveryHandler({
      endpoint: createDiscoveryEndpoint({
        issuer: ISSUER,
        trustDomain: td,
        store: failingStore(new Error("must not be read")),
        clock: new ManualClock(),
      }),
    });
    expect((await handler(event("/nope"), context)).statusCode).toBe(404);
  });
});
