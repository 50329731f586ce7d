/**
 * The in-process source against the real exchange (test/client/local-bridge.ts: dynalite,
 * LocalSts verifying SigV4, the exchange handler), with one injected clock for bridge and
 * function: a freeze is time moving on both wall and monotonic clocks, a restore is the
 * wall clock jumping past the monotonic one. Counts are what reached the exchange.
 */

import { createPrivateKey, createPublicKey, X509Certificate } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import middy from "@middy/core";
import type { Context } from "aws-lambda";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { inProcessSourceFromEnv } from "../../layers/client/in-process/from-env.js";
import type { InProcessSvidSource } from "../../layers/client/in-process/in-process-source.js";
import { svidBridge, verifyJwtSvid } from "../../layers/client/middy.js";
import { svidSourceFromEnv, svidSourceMode } from "../../layers/client/source-from-env.js";
import { SvidBridgeClientError } from "../../layers/client/svid-source.js";
import { ManualClock } from "../../lib/clock.js";
import { type DevPrincipal, makeDevRolePrincipal } from "../../lib/local/sts-server.js";
import { BRIDGE_REGION, type LocalBridge, SERVER_ID, startLocalBridge } from "./local-bridge.js";

const ACCOUNT = "111122223333";
const role = (roleName: string) => makeDevRolePrincipal({ account: ACCOUNT, roleName, sessionName: "fn" });
const app = role("app-role");
const appRotated = { ...role("app-role"), arn: app.arn, userId: app.userId };
const jwtOnly = role("jwt-only-role");
const pinned = role("pinned-role");
const nobody = role("nobody-role");
const many = role("many-role");
const MANY_AUDIENCES = Array.from({ length: 18 }, (_, i) => `aud-${i}`);
const expired = { ...role("app-role"), arn: app.arn, userId: app.userId, expired: true };

const clock = new ManualClock(Date.now());
let jumped = 0;
const monotonic = () => clock.now() - jumped;
let bridge: LocalBridge;

beforeAll(async () => {
  bridge = await startLocalBridge({
    clock,
    principals: [app, appRotated, jwtOnly, pinned, nobody, expired, many],
    registrations: [
      {
        id: "app",
        selectors: { account: ACCOUNT, roleName: "app-role" },
        spiffeId: "spiffe://example.org/app",
        kinds: ["jwt", "x509"],
        audiences: ["api", "other"],
        jwtTtlSeconds: 300,
        x509TtlSeconds: 600,
        enabled: true,
      },
      {
        id: "jwt-only",
        selectors: { account: ACCOUNT, roleName: "jwt-only-role" },
        spiffeId: "spiffe://example.org/jwt-only",
        kinds: ["jwt"],
        enabled: true,
      },
      {
        id: "many",
        selectors: { account: ACCOUNT, roleName: "many-role" },
        spiffeId: "spiffe://example.org/many",
        kinds: ["jwt", "x509"],
        audiences: MANY_AUDIENCES,
        enabled: true,
      },
      {
        id: "pinned",
        selectors: { account: ACCOUNT, roleName: "pinned-role", roleId: "AROAAAAAAAAAAAAAAAAAA" },
        spiffeId: "spiffe://example.org/pinned",
        kinds: ["jwt"],
        enabled: true,
      },
    ],
  });
}, 60_000);
afterAll(() => bridge?.stop());
beforeEach(() => {
  bridge.outage = false;
  bridge.noBatch = false;
});

function envOf(principal: DevPrincipal, extra: Record<string, string> = {}): Record<string, string> {
  return {
    SVID_BRIDGE_URL: bridge.url,
    SVID_BRIDGE_SERVER_ID: SERVER_ID,
    AWS_REGION: BRIDGE_REGION,
    AWS_ACCESS_KEY_ID: principal.accessKeyId,
    AWS_SECRET_ACCESS_KEY: principal.secretAccessKey,
    AWS_SESSION_TOKEN: principal.sessionToken!,
    ...extra,
  };
}

const source = (principal: DevPrincipal, extra: Record<string, string> = {}, c = clock) =>
  inProcessSourceFromEnv(envOf(principal, extra), { clock: c, monotonic });

async function refusal(promise: Promise<unknown>): Promise<SvidBridgeClientError> {
  const outcome = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(outcome instanceof SvidBridgeClientError)) throw new Error(`expected a refusal, got ${outcome}`);
  return outcome;
}

/** SVIDs of a kind asked for: a request to its own endpoint, or an ask inside a batch. */
function asked(kind: "jwt" | "x509"): number {
  let n = bridge.count(`/v1/svid/${kind}`);
  for (const r of bridge.requests.filter((r) => r.path === "/v1/svid/batch")) {
    const body = JSON.parse(r.body) as { jwt?: unknown[]; x509?: unknown };
    n += kind === "jwt" ? (body.jwt?.length ?? 0) : body.x509 ? 1 : 0;
  }
  return n;
}
const jwtCalls = () => asked("jwt");
const x509Calls = () => asked("x509");
/** Requests that reached the exchange, by path. */
const sent = () => ({
  jwt: bridge.count("/v1/svid/jwt"),
  x509: bridge.count("/v1/svid/x509"),
  batch: bridge.count("/v1/svid/batch"),
  bundle: bridge.count("/v1/bundle"),
});
const since = (before: ReturnType<typeof sent>) => {
  const now = sent();
  return {
    jwt: now.jwt - before.jwt,
    x509: now.x509 - before.x509,
    batch: now.batch - before.batch,
    bundle: now.bundle - before.bundle,
  };
};

describe("fetching", () => {
  it("is lazy: nothing is asked until first use, then the SVID is served from memory", async () => {
    const before = jwtCalls();
    const svids = source(app);
    expect(jwtCalls()).toBe(before);
    const first = await svids.jwtSvid("api");
    expect(first.spiffeId).toBe("spiffe://example.org/app");
    expect(first.audience).toBe("api");
    const again = await svids.jwtSvid("api");
    expect(again.token).toBe(first.token);
    expect(jwtCalls()).toBe(before + 1);
  });

  it("is eager on prefetch(): the configured audiences and the X.509-SVID, then no request", async () => {
    const [j, x] = [jwtCalls(), x509Calls()];
    const svids = source(app, { SVID_BRIDGE_JWT_AUDIENCES: "api,other" });
    await svids.prefetch();
    expect([jwtCalls() - j, x509Calls() - x]).toEqual([2, 1]);
    await svids.jwtSvid("other");
    const x509 = await svids.x509Svid();
    expect([jwtCalls() - j, x509Calls() - x]).toEqual([2, 1]);
    // The key pair was made here and matches the certificate; it never left the process.
    const leaf = new X509Certificate(x509.certificateChain.split(/(?<=-----END CERTIFICATE-----)/)[0]!);
    expect(leaf.subjectAltName).toBe("URI:spiffe://example.org/app");
    expect(
      createPublicKey(createPrivateKey(x509.privateKey)).export({ format: "der", type: "spki" }),
    ).toEqual(leaf.publicKey.export({ format: "der", type: "spki" }));
    expect(bridge.requests.some((r) => r.body.includes("PRIVATE KEY"))).toBe(false);
  });

  it("asks for everything prefetch() wants in one batch request (one proof), with the bundle", async () => {
    const before = sent();
    const svids = source(app, { SVID_BRIDGE_JWT_AUDIENCES: "api,other" });
    // A caller during init shares the batch instead of sending its own request.
    const [, early] = await Promise.all([svids.prefetch(), svids.jwtSvid("api")]);
    expect(since(before)).toEqual({ jwt: 0, x509: 0, batch: 1, bundle: 0 });
    expect(early.audience).toBe("api");
    // The batch answer brought the bundle: validation asks nothing more.
    const other = await source(app).jwtSvid("other");
    expect((await svids.validateJwtSvid(other.token, "other")).spiffeId).toBe("spiffe://example.org/app");
    expect(since(before)).toEqual({ jwt: 1, x509: 0, batch: 1, bundle: 0 });
  });

  it("parses a batch answer's bundle only when a validation needs it; one that does not parse is fetched anew", async () => {
    bridge.badBatchBundle = true;
    try {
      const before = sent();
      const svids = source(app, { SVID_BRIDGE_JWT_AUDIENCES: "api" });
      await svids.prefetch(); // the SVIDs are served though the bundle in the answer is bad
      expect((await svids.x509Svid()).spiffeId).toBe("spiffe://example.org/app");
      expect(since(before)).toEqual({ jwt: 0, x509: 0, batch: 1, bundle: 0 });
      const token = (await svids.jwtSvid("api")).token;
      expect((await svids.validateJwtSvid(token, "api")).spiffeId).toBe("spiffe://example.org/app");
      expect(since(before)).toEqual({ jwt: 0, x509: 0, batch: 1, bundle: 1 });
    } finally {
      bridge.badBatchBundle = false;
    }
  });

  it("keeps a repeated or malformed configured audience out of the batch (one bad ask would fail it all)", async () => {
    const before = sent();
    const svids = inProcessSourceFromEnv(envOf(app), {
      clock,
      monotonic,
      jwtAudiences: ["api", "api", "other", "has space"],
    });
    const e = await refusal(svids.prefetch());
    expect([e.code, e.status]).toEqual(["invalid_request", 400]);
    expect(since(before)).toEqual({ jwt: 0, x509: 0, batch: 1, bundle: 0 });
    expect((await svids.jwtSvid("other")).audience).toBe("other");
    expect(since(before)).toEqual({ jwt: 0, x509: 0, batch: 1, bundle: 0 });
  });

  it("sends a lone ask to its own endpoint, and batches only what is due", async () => {
    const before = sent();
    await source(app, { SVID_BRIDGE_JWT_AUDIENCES: "api", SVID_BRIDGE_X509: "off" }).prefetch();
    expect(since(before)).toEqual({ jwt: 1, x509: 0, batch: 0, bundle: 0 });
    const svids = source(app, { SVID_BRIDGE_JWT_AUDIENCES: "api" });
    await svids.jwtSvid("api");
    await svids.prefetch(); // the JWT-SVID is held: only the X.509-SVID is due
    expect(since(before)).toEqual({ jwt: 2, x509: 1, batch: 0, bundle: 0 });
  });

  it("batches at most the exchange's limit of JWT-SVID asks; the rest go one by one", async () => {
    const before = sent();
    const svids = source(many, { SVID_BRIDGE_JWT_AUDIENCES: MANY_AUDIENCES.join(",") });
    await svids.prefetch();
    expect(since(before)).toEqual({ jwt: 2, x509: 0, batch: 1, bundle: 0 });
    const batch = JSON.parse(bridge.requests.filter((r) => r.path === "/v1/svid/batch").at(-1)!.body);
    expect([batch.jwt.length, typeof batch.x509?.csr]).toEqual([16, "string"]);
  });

  it("falls back to one request per SVID when the exchange has no batch endpoint, and stays there", async () => {
    bridge.noBatch = true;
    const before = sent();
    const svids = source(app, { SVID_BRIDGE_JWT_AUDIENCES: "api,other" });
    await svids.prefetch();
    expect(since(before)).toEqual({ jwt: 2, x509: 1, batch: 1, bundle: 0 });
    clock.advance(400_000); // every SVID past half-life (X.509 lives 600 s)
    await svids.prefetch();
    expect(since(before)).toEqual({ jwt: 4, x509: 2, batch: 1, bundle: 0 });
  });

  it("shares one exchange request among concurrent first callers", async () => {
    const [j, x] = [jwtCalls(), x509Calls()];
    const svids = source(app);
    const jwts = await Promise.all(Array.from({ length: 10 }, () => svids.jwtSvid("api")));
    const x509s = await Promise.all(Array.from({ length: 5 }, () => svids.x509Svid()));
    expect(new Set(jwts.map((s) => s.token)).size).toBe(1);
    expect(new Set(x509s.map((s) => s.certificateChain)).size).toBe(1);
    expect([jwtCalls() - j, x509Calls() - x]).toEqual([1, 1]);
  });

  it("validates another function's JWT-SVID against the bridge's bundle", async () => {
    const sender = await source(app).jwtSvid("api");
    const receiver = source(jwtOnly, { SVID_BRIDGE_TRUST_DOMAIN: "example.org" });
    const valid = await receiver.validateJwtSvid(sender.token, "api");
    expect(valid.spiffeId).toBe("spiffe://example.org/app");
    expect(valid.claims.aud).toEqual(["api"]);
    const wrong = await refusal(receiver.validateJwtSvid(sender.token, "other"));
    expect([wrong.code, wrong.status]).toEqual(["jwt_audience_mismatch", 401]);
    expect((await receiver.bundle()).keys.length).toBeGreaterThan(0);
    const unknown = await refusal(
      source(jwtOnly, { SVID_BRIDGE_X509: "off" }).validateJwtSvid(sender.token, "api"),
    );
    expect(unknown.code).toBe("not_ready");
  });
});

describe("lifetime across freezes (no timers: every rule runs on access)", () => {
  it("serves from memory before half-life and renews on the first access past it", async () => {
    const svids = source(app);
    const first = await svids.jwtSvid("api");
    const calls = jwtCalls();
    clock.advance(140_000); // frozen 140 s of a 300 s life
    expect((await svids.jwtSvid("api")).token).toBe(first.token);
    expect(jwtCalls()).toBe(calls);
    clock.advance(20_000); // past half-life
    const renewed = await svids.jwtSvid("api");
    expect(renewed.token).not.toBe(first.token);
    expect(jwtCalls()).toBe(calls + 1);
  });

  it("serves a held SVID through an outage, but never within its safety margin of expiry", async () => {
    const svids = source(app);
    const held = await svids.jwtSvid("api");
    bridge.outage = true;
    clock.set(held.expiresAt * 1000 - 6_000); // 6 s left: margin is min(5 s, life/10)
    expect((await svids.jwtSvid("api")).token).toBe(held.token);
    clock.advance(2_000); // 4 s left
    const e = await refusal(svids.jwtSvid("api"));
    expect([e.code, e.status]).toEqual(["exchange_unavailable", 503]);
    bridge.outage = false;
    clock.advance(2_000); // past the outage hold: asks again
    expect((await svids.jwtSvid("api")).token).not.toBe(held.token);
  });

  it("asks the container credentials endpoint again before its credentials expire", async () => {
    let served = 0;
    const creds = [app, appRotated];
    const server: Server = createServer((req, res) => {
      if (req.headers.authorization !== "container-token") return void res.writeHead(401).end();
      const p = creds[Math.min(served++, 1)]!;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          AccessKeyId: p.accessKeyId,
          SecretAccessKey: p.secretAccessKey,
          Token: p.sessionToken,
          Expiration: new Date(clock.now() + 15 * 60_000).toISOString(),
        }),
      );
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const env = envOf(app, {
        AWS_CONTAINER_CREDENTIALS_FULL_URI: `http://127.0.0.1:${(server.address() as AddressInfo).port}/creds`,
        AWS_CONTAINER_AUTHORIZATION_TOKEN: "container-token",
        AWS_LAMBDA_INITIALIZATION_TYPE: "snap-start",
      });
      for (const k of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]) delete env[k];
      const svids = inProcessSourceFromEnv(env, { clock, monotonic });
      await svids.jwtSvid("api");
      expect(served).toBe(1);
      clock.advance(11 * 60_000); // within 5 min of the credentials' expiry: new ones
      await svids.jwtSvid("api");
      expect(served).toBe(2);
    } finally {
      server.close();
    }
  });
});

describe("restore", () => {
  const newKey = async (svids: InProcessSvidSource) => (await svids.x509Svid()).privateKey;

  it("drops every key and SVID when the wall clock jumps past the monotonic one", async () => {
    const svids = source(app);
    const [jwt, key] = [await svids.jwtSvid("api"), await newKey(svids)];
    const [j, x] = [jwtCalls(), x509Calls()];
    clock.advance(600_000);
    jumped += 600_000; // the monotonic clock did not move: a snapshot restored
    expect((await svids.jwtSvid("api")).token).not.toBe(jwt.token);
    expect(await newKey(svids)).not.toBe(key);
    expect([jwtCalls() - j, x509Calls() - x]).toEqual([1, 1]);
  });

  it("drops what a SnapStart init fetched at the first access, and on onRestore()", async () => {
    const svids = source(app, {
      AWS_LAMBDA_INITIALIZATION_TYPE: "snap-start",
      SVID_BRIDGE_JWT_AUDIENCES: "api",
    });
    const x = x509Calls();
    await svids.prefetch();
    expect(x509Calls()).toBe(x + 1);
    // (the snapshot is taken here: every restored copy would hold what init fetched)
    const restoredKey = await newKey(svids);
    expect(x509Calls()).toBe(x + 2);
    expect(await newKey(svids)).toBe(restoredKey);
    expect(x509Calls()).toBe(x + 2);
    svids.onRestore();
    expect(await newKey(svids)).not.toBe(restoredKey);
  });
});

describe("refusals carry the exchange's stable codes, and are not retried in a loop", () => {
  const cases: [string, () => Promise<unknown>, string, number][] = [
    ["no registration for the role", () => source(nobody).jwtSvid("api"), "no_registration", 403],
    [
      "an audience outside the allow-list",
      () => source(app).jwtSvid("elsewhere"),
      "audience_not_allowed",
      403,
    ],
    ["an X.509-SVID for a JWT-only entry", () => source(jwtOnly).x509Svid(), "svid_kind_not_allowed", 403],
    ["a role re-created under the same name", () => source(pinned).jwtSvid("api"), "role_id_mismatch", 403],
    [
      "another bridge's server ID",
      () => source(app, { SVID_BRIDGE_SERVER_ID: "https://other.example.org" }).jwtSvid("api"),
      "proof_server_id_mismatch",
      401,
    ],
    [
      "a region the bridge does not accept",
      () => source(app, { AWS_REGION: "us-west-2" }).jwtSvid("api"),
      "proof_region_not_allowed",
      401,
    ],
    [
      "a clock far behind the bridge's",
      () => source(app, {}, new ManualClock(clock.now() - 20 * 60_000)).jwtSvid("api"),
      "proof_expired",
      401,
    ],
    [
      "expired credentials (STS says ExpiredToken)",
      () => source(expired).jwtSvid("api"),
      "proof_rejected",
      401,
    ],
  ];
  it.each(cases)("%s", async (_name, ask, code, status) => {
    const e = await refusal(ask());
    expect([e.code, e.status]).toEqual([code, status]);
  });

  it("a refused batch refuses each of its asks with the exchange's code, and holds the refusal", async () => {
    const svids = source(jwtOnly, { SVID_BRIDGE_JWT_AUDIENCES: "api" });
    const before = sent();
    const e = await refusal(svids.prefetch());
    expect([e.code, e.status]).toEqual(["svid_kind_not_allowed", 403]);
    expect((await refusal(svids.jwtSvid("api"))).code).toBe("svid_kind_not_allowed");
    expect((await refusal(svids.x509Svid())).code).toBe("svid_kind_not_allowed");
    expect(since(before)).toEqual({ jwt: 0, x509: 0, batch: 1, bundle: 0 });
  });

  it("answers a refused caller from memory until the hold has passed", async () => {
    const svids = source(nobody);
    const before = jwtCalls();
    for (let i = 0; i < 5; i++) expect((await refusal(svids.jwtSvid("api"))).code).toBe("no_registration");
    expect(jwtCalls()).toBe(before + 1);
    clock.advance(61_000);
    expect((await refusal(svids.jwtSvid("api"))).code).toBe("no_registration");
    expect(jwtCalls()).toBe(before + 2);
  });

  it("refuses X.509-SVIDs when they are off, without asking", async () => {
    const e = await refusal(source(app, { SVID_BRIDGE_X509: "off" }).x509Svid());
    expect([e.code, e.status]).toEqual(["not_found", 404]);
  });

  it("names the variable when the configuration is wrong", () => {
    expect(() => source(app, { SVID_BRIDGE_URL: "http://bridge.example.org" })).toThrow(
      /SVID_BRIDGE_URL must be https/,
    );
    expect(() => source(app, { SVID_BRIDGE_SERVER_ID: "" })).toThrow(/SVID_BRIDGE_SERVER_ID must be set/);
  });
});

describe("one interface, the mode chosen by configuration", () => {
  it("picks the mode from the environment", () => {
    expect(svidSourceMode({ SVID_BRIDGE_URL: "https://b" })).toBe("in-process");
    expect(
      svidSourceMode({ SVID_BRIDGE_URL: "https://b", SVID_BRIDGE_ENDPOINT: "http://127.0.0.1:2775" }),
    ).toBe("extension");
    expect(svidSourceMode({ SVID_BRIDGE_MODE: "In-Process", SVID_BRIDGE_ENDPOINT: "x" })).toBe("in-process");
    expect(svidSourceMode({})).toBe("extension");
    expect(() => svidSourceMode({ SVID_BRIDGE_MODE: "both" })).toThrow(/SVID_BRIDGE_MODE/);
    expect(svidSourceFromEnv(envOf(app)).mode).toBe("in-process");
    expect(svidSourceFromEnv({ ...envOf(app), SVID_BRIDGE_ENDPOINT: "http://127.0.0.1:1" }).mode).toBe(
      "extension",
    );
    const bad = (() => {
      try {
        svidSourceFromEnv({ ...envOf(app), SVID_BRIDGE_URL: "ftp://x" });
      } catch (e) {
        return e;
      }
    })() as SvidBridgeClientError;
    expect([bad.code, bad.message]).toEqual(["config_invalid", expect.stringContaining("SVID_BRIDGE_URL")]);
  });

  it("runs the middy middlewares on the in-process source: SVIDs on the context, a caller verified", async () => {
    const svids = source(app);
    const seen: Record<string, unknown>[] = [];
    const handler = middy(async (_event: unknown, context: Context) => {
      seen.push(context as unknown as Record<string, unknown>);
      return { statusCode: 200 };
    })
      .use(verifyJwtSvid({ audience: "api", client: svids }))
      .use(svidBridge({ audience: "other", x509: true, client: svids }));
    const caller = await source(app).jwtSvid("api");
    const ok = await handler({ headers: { Authorization: `Bearer ${caller.token}` } }, {} as never);
    expect(ok).toEqual({ statusCode: 200 });
    const ctx = seen[0] as {
      caller: { spiffeId: string };
      svid: { jwt: { audience: string }; x509: unknown };
    };
    expect(ctx.caller.spiffeId).toBe("spiffe://example.org/app");
    expect(ctx.svid.jwt.audience).toBe("other");
    expect(ctx.svid.x509).toBeDefined();
    const denied = (await handler({ headers: { authorization: "Bearer x.y.z" } }, {} as never)) as {
      statusCode: number;
      body: string;
    };
    expect(denied.statusCode).toBe(401);
    expect(JSON.parse(denied.body).error).toMatch(/^jwt_/);
    // A token over the cap is refused before any parsing, as the caller's fault (never a 500).
    const huge = (await handler(
      { headers: { authorization: `Bearer ${"a".repeat(20_000)}` } },
      {} as never,
    )) as {
      statusCode: number;
      body: string;
    };
    expect([huge.statusCode, JSON.parse(huge.body).error]).toEqual([401, "jwt_malformed"]);
  });
});
