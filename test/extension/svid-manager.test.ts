import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type ExchangeClient, HttpExchangeClient } from "../../layers/extension/src/exchange-client.js";
import { type ProofAsk, stsProofBuilder } from "../../layers/extension/src/proof-builder.js";
import { SvidManager, type SvidManagerOptions } from "../../layers/extension/src/svid-manager.js";
import { ManualClock } from "../../lib/clock.js";
import { Pkcs10CertificateRequest as X509Csr } from "../../lib/crypto/x509.js";
import { BridgeError, errorCodeOf } from "../../lib/errors.js";
import type { BatchAsk } from "../../lib/proof/binding.js";
import { type FakeExchange, startFakeExchange } from "../support/fake-exchange.js";

describe("SvidManager", () => {
  let exchange: FakeExchange;
  let clock: ManualClock;
  let mono: number;
  let bindings: ProofAsk[];
  let batches: BatchAsk[];

  beforeEach(async () => {
    exchange = await startFakeExchange({ jwtTtlSeconds: 600 });
    clock = new ManualClock(Date.now());
    mono = 0;
    bindings = [];
    batches = [];
  });
  afterEach(() => exchange.stop());

  function manager(over: Partial<SvidManagerOptions> = {}) {
    // Proofs are real (signed with the system clock): the exchange checks them.
    const real = stsProofBuilder({
      credentials: async () => exchange.principal,
      region: "us-east-1",
      serverId: exchange.serverId,
    });
    return new SvidManager({
      exchange: new HttpExchangeClient({
        baseUrl: exchange.url,
        proofs: {
          proofFor: (ask) => {
            bindings.push(ask);
            return real.proofFor(ask);
          },
          proofForBatch: (ask) => {
            batches.push(ask);
            return real.proofForBatch(ask);
          },
        },
      }),
      jwtAudiences: ["aud-a"],
      x509: true,
      snapStart: false,
      clockJumpMs: 60_000,
      clock,
      monotonic: () => mono,
      ...over,
    });
  }
  const advance = (ms: number, monoToo = true) => {
    clock.advance(ms);
    if (monoToo) mono += ms;
  };

  it("binds each proof to what its request asks for", async () => {
    const m = manager();
    await m.initialize();
    // Init is one refresh cycle: one batch, one proof bound to every ask in it.
    expect(bindings).toEqual([]);
    expect(batches).toHaveLength(1);
    expect(batches[0]!.jwt).toEqual([{ audience: ["aud-a"] }]);
    const x509 = batches[0]!.x509;
    // An audience asked for on demand is one request with its own proof.
    await m.jwtSvid("aud-b");
    expect(bindings).toEqual([{ kind: "jwt", audience: ["aud-b"] }]);
    // The X.509 binding is the CSR as sent, whose key is the key the SVID certifies.
    const { X509Certificate } = await import("node:crypto");
    const leaf = new X509Certificate((await m.x509Svid()).certificateChainPem);
    const csr = new X509Csr((x509 as { csr: string }).csr);
    expect(Buffer.from(csr.publicKey.rawData)).toEqual(
      leaf.publicKey.export({ format: "der", type: "spki" }),
    );
  });

  it("serves from the cache until half the lifetime, then refreshes on INVOKE", async () => {
    const m = manager();
    await m.initialize();
    const first = await m.jwtSvid("aud-a");
    advance(200_000);
    await m.refresh();
    expect(exchange.count("/v1/svid/jwt")).toBe(1);
    expect((await m.jwtSvid("aud-a")).token).toBe(first.token);
    advance(110_000); // past 300 s of a 600 s token
    await m.refresh();
    expect(exchange.count("/v1/svid/jwt")).toBe(2);
    expect((await m.jwtSvid("aud-a")).token).not.toBe(first.token);
  });

  it("mints an unconfigured audience on demand and caches it", async () => {
    const m = manager();
    await m.initialize();
    const a = await m.jwtSvid("aud-b");
    const b = await m.jwtSvid("aud-b");
    expect(a.token).toBe(b.token);
    expect(exchange.count("/v1/svid/jwt")).toBe(2);
  });

  it("never serves an expired SVID: not_ready while the exchange is down", async () => {
    const m = manager();
    await m.initialize();
    await exchange.stop();
    advance(599_000);
    await expect(m.jwtSvid("aud-a")).rejects.toMatchObject({ code: "not_ready", status: 503 });
  });

  it("passes the exchange's refusal through as exchange_rejected", async () => {
    const m = manager();
    exchange.refuseWith({ status: 403, code: "audience_not_allowed" });
    const err = await m.jwtSvid("nope").catch((e) => e);
    expect(errorCodeOf(err)).toBe("exchange_rejected");
    expect(err.message).toContain("audience_not_allowed");
  });

  it("makes a new key and new SVIDs on the first INVOKE after a SnapStart restore", async () => {
    const m = manager({ snapStart: true });
    await m.initialize();
    const before = await m.x509Svid();
    const jwtBefore = await m.jwtSvid("aud-a");
    await m.refresh();
    const after = await m.x509Svid();
    expect(after.privateKeyPem).not.toBe(before.privateKeyPem);
    expect((await m.jwtSvid("aud-a")).token).not.toBe(jwtBefore.token);
    await m.refresh(); // only once per restore
    expect(exchange.count("/v1/svid/x509")).toBe(2);
  });

  it("makes a new key when the wall clock jumps against the monotonic clock between events", async () => {
    const m = manager();
    await m.initialize();
    const before = await m.x509Svid();
    advance(30_000, false); // 30 s of wall time the monotonic clock did not see: under the threshold
    await m.refresh();
    expect(exchange.count("/v1/svid/x509")).toBe(1);
    advance(120_000, false);
    await m.refresh();
    expect(exchange.count("/v1/svid/x509")).toBe(2);
    expect((await m.x509Svid()).privateKeyPem).not.toBe(before.privateKeyPem);
  });

  it("does not serve a cloned SVID when the rekey fails", async () => {
    const m = manager({ snapStart: true });
    await m.initialize();
    await exchange.stop();
    await m.refresh();
    await expect(m.x509Svid()).rejects.toMatchObject({ code: "not_ready" });
    await expect(m.jwtSvid("aud-a")).rejects.toMatchObject({ code: "not_ready" });
    expect(m.ready).toBe(false);
  });

  it("publishes every change to every subscriber, and tells them when it closes", async () => {
    const m = manager();
    const seen: string[] = [];
    const stop = m.subscribe({
      x509Changed: () => void seen.push("x509"),
      jwtChanged: (s) => void seen.push(`jwt:${s.audience}`),
      bundleChanged: () => void seen.push("bundle"),
      closed: () => void seen.push("closed"),
    });
    let second = 0;
    m.subscribe({ x509Changed: () => void second++ });
    await m.initialize();
    expect(seen.sort()).toEqual(["bundle", "jwt:aud-a", "x509"]);
    stop();
    advance(1_900_000); // past half of the X.509-SVID's hour
    await m.refresh();
    expect(second).toBe(2);
    expect(seen).toHaveLength(3);
    m.close();
    expect(seen).toHaveLength(3);
  });

  it("ends subscribers on close", () => {
    const m = manager();
    let closed = 0;
    m.subscribe({ closed: () => void closed++ });
    m.close();
    expect(closed).toBe(1);
  });

  it("names the next refresh: the earliest half-life or bundle age", async () => {
    const m = manager();
    expect(m.nextRefreshAt()).toBeUndefined();
    const start = clock.now();
    await m.initialize();
    // The 600 s JWT-SVID is due at 300 s: earlier than the bundle's 5 minutes and the hour-long X.509.
    // (expiry is whole seconds on the exchange's own clock: within a second or two)
    expect(Math.abs(m.nextRefreshAt()! - (start + 300_000))).toBeLessThan(2_000);
  });

  it("says fetching, then ready; refused when the exchange refused the caller", async () => {
    const ok = manager();
    expect(ok.status()).toEqual({ kind: "fetching" });
    await ok.initialize();
    expect(ok.status()).toEqual({ kind: "ready" });
    exchange.refuseWith({ status: 403, code: "no_registration" });
    const refused = manager();
    await expect(refused.initialize()).rejects.toMatchObject({ code: "exchange_rejected" });
    expect(refused.status()).toMatchObject({ kind: "refused", error: { code: "exchange_rejected" } });
    exchange.refuseWith(undefined);
    await refused.refresh();
    expect(refused.status()).toEqual({ kind: "ready" });
  });

  it("asks for one token naming several audiences, cached apart from each single one", async () => {
    const m = manager();
    await m.initialize();
    const both = await m.jwtSvid(["aud-a", "aud-b"]);
    expect(both.audiences).toEqual(["aud-a", "aud-b"]);
    expect(bindings.at(-1)).toEqual({ kind: "jwt", audience: ["aud-a", "aud-b"] });
    expect((await m.jwtSvid("aud-a")).token).not.toBe(both.token);
    expect((await m.jwtSvid(["aud-a", "aud-b"])).token).toBe(both.token);
  });

  it("falls back to one request per SVID when the exchange has no batch endpoint, and stays there", async () => {
    await exchange.stop();
    exchange = await startFakeExchange({ jwtTtlSeconds: 600, noBatch: true });
    const m = manager();
    await m.initialize();
    expect(m.status()).toEqual({ kind: "ready" });
    expect(exchange.count("/v1/svid/jwt")).toBe(1);
    expect(exchange.count("/v1/svid/x509")).toBe(1);
    advance(1_900_000); // everything due
    await m.refresh();
    expect(exchange.count("/v1/svid/x509")).toBe(2);
    expect(exchange.requests.filter((r) => r.path === "/v1/svid/batch")).toHaveLength(1);
  });

  it("stores nothing from a batch answer whose bundle does not parse (no SVID published, init fails)", async () => {
    const real = new HttpExchangeClient({
      baseUrl: exchange.url,
      proofs: stsProofBuilder({
        credentials: async () => exchange.principal,
        region: "us-east-1",
        serverId: exchange.serverId,
      }),
    });
    const badBundle: ExchangeClient = {
      fetchJwtSvid: (audience, id) => real.fetchJwtSvid(audience, id),
      fetchX509Svid: (csr, spki, id) => real.fetchX509Svid(csr, spki, id),
      fetchBundle: (td) => real.fetchBundle(td),
      batch: async (asks) => ({
        ...(await real.batch(asks)),
        bundle: () =>
          Promise.reject(
            new BridgeError("exchange_unavailable", "the exchange sent a bundle that does not parse"),
          ),
      }),
    };
    const published: string[] = [];
    const m = manager({
      exchange: badBundle,
      listener: {
        jwtChanged: () => void published.push("jwt"),
        x509Changed: () => void published.push("x509"),
        bundleChanged: () => void published.push("bundle"),
      },
    });
    await expect(m.initialize()).rejects.toMatchObject({ code: "exchange_unavailable" });
    expect(published).toEqual([]);
    expect(m.ready).toBe(false);
  });

  it("takes the bundle from init's batch answer: one round trip, no GET /v1/bundle", async () => {
    const m = manager();
    await m.initialize();
    const gets = () => exchange.requests.filter((r) => r.path === "/v1/bundle" && r.body === undefined);
    expect(exchange.requests.map((r) => r.path)).toContain("/v1/svid/batch");
    expect(gets()).toHaveLength(0);
    const bundle = await m.bundle();
    expect(bundle.trustDomain.name).toBe(exchange.trustDomain.name);
    expect(bundle.toX509Pem()).toBe(exchange.bundle.toX509Pem());
    expect(await bundle.toDocument()).toEqual(await exchange.bundle.toDocument());
    expect(gets()).toHaveLength(0);
  });

  it("asks for a single SVID and the bundle in one batch: a JWT-only init is one round trip too", async () => {
    const m = manager({ x509: false, jwtAudiences: ["aud-a"] });
    await m.initialize();
    expect(exchange.requests.map((r) => (r.body ? r.path : `GET ${r.path}`))).toEqual([
      "/v1/svid/batch",
      "/v1/svid/jwt",
      "/v1/bundle",
    ]);
    expect((await m.bundle()).toX509Pem()).toBe(exchange.bundle.toX509Pem());
  });

  it("gets the bundle with GET /v1/bundle when the batch answer has none (an older exchange)", async () => {
    await exchange.stop();
    exchange = await startFakeExchange({ jwtTtlSeconds: 600, batchWithoutBundle: true });
    const m = manager();
    await m.initialize();
    expect(exchange.requests.filter((r) => r.path === "/v1/bundle" && r.body === undefined)).toHaveLength(1);
    expect((await m.bundle()).toX509Pem()).toBe(exchange.bundle.toX509Pem());
  });

  it("shares a refresh cycle's batch with an on-demand request for the same SVID", async () => {
    const m = manager();
    const [, jwt] = await Promise.all([m.initialize(), m.jwtSvid("aud-a")]);
    expect(jwt.token).toBe((await m.jwtSvid("aud-a")).token);
    expect(exchange.count("/v1/svid/jwt")).toBe(1);
  });
});
