/**
 * Issue 14, suites "Extension faults" and the extension half of "Load": the built layer
 * run the way Lambda runs it (LambdaSandbox: Extensions and Runtime APIs, SIGSTOP between
 * invokes) against the fake exchange (test/support/fake-exchange.ts, proofs checked with
 * StsCallerVerifier and LocalSts), reached through a FaultProxy so it can be down or slow.
 * JWT-SVIDs live 2 s, so refreshes come every second. Never an expired SVID served,
 * never an X.509-SVID whose key is not its certificate's, never a crash (the extension
 * exiting outside init failure or SHUTDOWN), key files removed at shutdown.
 *
 * "Clock jump" here is a freeze longer than the JWT-SVID's life (what Lambda's freeze does
 * to wall time between two invokes); a wall clock jumping against the monotonic clock
 * (SnapStart restore) needs libfaketime, which this machine lacks: it is covered in
 * process by test/extension/svid-manager.test.ts.
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { freePort, LambdaSandbox } from "../../lib/local/lambda-sandbox.js";
import { buildLayer } from "../../scripts/build-layer.js";
import { type FakeExchange, startFakeExchange } from "../support/fake-exchange.js";
import { FaultProxy, PASS } from "../support/fault-proxy.js";
import { SOAK, Tally } from "../support/hostile-tally.js";

const AUD = "aud.example.org";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tally = new Tally("extension");
let layerDir: string;
let exchange: FakeExchange;
let proxy: FaultProxy;
const sandboxes: LambdaSandbox[] = [];
const latencies: number[] = [];

beforeAll(async () => {
  layerDir = (await buildLayer(mkdtempSync(join(tmpdir(), "svid-hostile-layer-")))).dir;
  exchange = await startFakeExchange({ jwtTtlSeconds: 2 });
  proxy = new FaultProxy(exchange.url);
  await proxy.start();
}, 120_000);
afterAll(async () => {
  latencies.sort((a, b) => a - b);
  if (latencies.length)
    tally.note(
      `extension local API under refreshes: ${latencies.length} requests, p50 ${latencies[Math.floor(latencies.length / 2)]!.toFixed(1)} ms, ` +
        `p99 ${latencies[Math.floor(latencies.length * 0.99)]!.toFixed(1)} ms`,
    );
  tally.save(inject("hostileTallyDir"));
  for (const s of sandboxes) await s.close();
  await proxy?.stop();
  await exchange?.stop();
});
beforeEach(() => {
  proxy.policy = () => PASS;
});

interface Started {
  rt: LambdaSandbox;
  endpoint: string;
  filesDir: string;
}

async function start(env: Record<string, string> = {}): Promise<Started> {
  const port = await freePort();
  const filesDir = join(mkdtempSync(join(tmpdir(), "svid-hostile-files-")), "svid");
  const rt = await LambdaSandbox.start({
    layerDir,
    principal: exchange.principal,
    env: {
      SVID_BRIDGE_URL: proxy.url,
      SVID_BRIDGE_SERVER_ID: exchange.serverId,
      SVID_BRIDGE_HTTP_PORT: String(port),
      SVID_BRIDGE_JWT_AUDIENCES: AUD,
      SVID_BRIDGE_FILES_DIR: filesDir,
      SVID_BRIDGE_INIT_TIMEOUT_MS: "700",
      ...env,
    },
  });
  sandboxes.push(rt);
  return { rt, endpoint: `http://127.0.0.1:${port}`, filesDir };
}

/** One request to the local API, checked: 200 only with an unexpired SVID (and a matching key). */
async function ask(s: Started, kind: "jwt" | "x509"): Promise<number> {
  const path = kind === "jwt" ? `/v1/jwt-svid?audience=${AUD}` : "/v1/x509-svid";
  const started = performance.now();
  let status: number | "net";
  let body: Record<string, string | number> = {};
  try {
    const res = await fetch(`${s.endpoint}${path}`, {
      headers: { "X-Svid-Bridge-Token": s.rt.principal.sessionToken! },
    });
    status = res.status;
    body = (await res.json()) as typeof body;
  } catch {
    status = "net";
  }
  const receivedAt = Date.now();
  const ms = performance.now() - started;
  latencies.push(ms);
  tally.response(status, ms, `local API ${kind}`);
  if (status === "net") tally.add("crashes");
  else if (status >= 500 && !(status === 503 && body.error === "not_ready")) tally.add("unexpected5xx");
  if (status === 200) {
    // An expired SVID served counts as an unauthorised issue: it is one the bridge no longer vouches for.
    if (Number(body.expires_at) * 1000 <= receivedAt) tally.add("unauthorisedIssues");
    if (kind === "x509" && !keyMatches(String(body.certificate_chain), String(body.private_key)))
      tally.add("unauthorisedIssues");
  }
  return status === "net" ? 0 : status;
}

function keyMatches(chain: string, key: string): boolean {
  const leaf = new X509Certificate(chain.split(/(?<=-----END CERTIFICATE-----)/)[0]!);
  return leaf.checkPrivateKey(createPrivateKey(key));
}

/** Files under `dir` (recursively) that hold a private key. */
function keyFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(d, name);
      const stat = statSync(path, { throwIfNoEntry: false });
      if (stat?.isDirectory()) walk(path);
      else if (stat?.isFile() && readFileSync(path, "utf8").includes("PRIVATE KEY")) found.push(path);
    }
  };
  walk(dir);
  return found;
}

/** SVID requests the exchange has been sent so far (every route). */
function svidRequests(): number {
  return [...proxy.seen].filter(([path]) => path.startsWith("/v1/svid/")).reduce((n, [, c]) => n + c, 0);
}

function noCrash(rt: LambdaSandbox): void {
  const exited = rt.extensions[0]!.exitCode;
  if (exited !== null) tally.add("crashes");
  expect(exited, rt.logs).toBeNull();
}

async function shutdownClean(s: Started): Promise<void> {
  const result = await s.rt.shutdown("SPINDOWN", 2_000);
  expect(result).toMatchObject({ exitedInTime: true, code: 0 });
  expect(keyFiles(s.filesDir)).toEqual([]);
}

describe("extension faults (the built layer in a LambdaSandbox)", () => {
  it("exchange down at init, policy fail: init/error, no key file left", async () => {
    proxy.policy = () => ({ kind: "reset" });
    const s = await start();
    expect(s.rt.initResult).toMatchObject({ ok: false, errorType: "Extension.ExchangeUnavailable" });
    expect(keyFiles(s.filesDir)).toEqual([]);
  });

  it("exchange down at init, policy degraded: 503 not_ready, then serves once it is up; clean shutdown", async () => {
    proxy.policy = () => ({ kind: "reset" });
    const s = await start({ SVID_BRIDGE_INIT_FAILURE: "degraded" });
    expect(s.rt.initResult).toMatchObject({ ok: true });
    expect(await s.rt.invoke(() => ask(s, "jwt"))).toBe(503);
    proxy.policy = () => PASS;
    await s.rt.invoke(async () => undefined); // the INVOKE retries
    expect(await s.rt.invoke(() => ask(s, "jwt"))).toBe(200);
    expect(await s.rt.invoke(() => ask(s, "x509"))).toBe(200);
    noCrash(s.rt);
    await shutdownClean(s);
  });

  it("exchange down mid-life and a freeze past the JWT-SVID's life: never the expired SVID; serves again after", async () => {
    const s = await start();
    expect(s.rt.initResult).toMatchObject({ ok: true });
    expect(await s.rt.invoke(() => ask(s, "jwt"))).toBe(200);
    proxy.policy = () => ({ kind: "reset" });
    await sleep(2_300); // frozen (SIGSTOP) longer than the 2 s JWT-SVID lives
    const statuses = await s.rt.invoke(() => Promise.all([ask(s, "jwt"), ask(s, "jwt"), ask(s, "x509")]));
    expect(statuses).toEqual([503, 503, 200]); // the X.509-SVID has an hour left
    proxy.policy = () => PASS;
    await s.rt.invoke(async () => undefined);
    expect(await s.rt.invoke(() => ask(s, "jwt"))).toBe(200);
    noCrash(s.rt);
    await shutdownClean(s);
  });

  it("a freeze past the JWT-SVID's life with the exchange up: the first request after it gets a live SVID", async () => {
    const s = await start();
    for (let round = 0; round < (SOAK === 1 ? 1 : 5); round++) {
      await sleep(2_200);
      const status = await s.rt.invoke(() => ask(s, "jwt"));
      expect([200, 503]).toContain(status);
    }
    noCrash(s.rt);
    await shutdownClean(s);
  });

  it("SHUTDOWN while a refresh is still in flight: exits in time, and the late answer writes no key file", async () => {
    const s = await start();
    expect(s.rt.initResult).toMatchObject({ ok: true });
    await sleep(1_100); // the 2 s JWT-SVID is due
    proxy.policy = (r) => (r.path.startsWith("/v1/svid/") ? { kind: "pass", delayMs: 2_500 } : PASS);
    const asked = svidRequests();
    // A short invoke: the extension stops waiting for its refresh at the deadline and calls next.
    await s.rt.invoke(async () => undefined, 1_000).catch(() => undefined);
    expect(svidRequests()).toBeGreaterThan(asked); // the refresh is in flight, held by the proxy
    await shutdownClean(s);
    await sleep(2_000); // the delayed exchange answers land now
    expect(keyFiles(s.filesDir)).toEqual([]);
  });

  it("requests racing refreshes and rotations: every answer a live SVID, X.509 key and certificate a pair", async () => {
    const s = await start();
    for (let round = 0; round < 10 * SOAK; round++) {
      await sleep(220);
      const statuses = await s.rt.invoke(() =>
        Promise.all(Array.from({ length: 24 }, (_, i) => ask(s, i % 4 === 0 ? "x509" : "jwt"))),
      );
      for (const status of statuses) expect(status).toBe(200);
    }
    noCrash(s.rt);
    await shutdownClean(s);
  }, 60_000);

  it("zeros: no expired or mismatched SVID served, no crash, no unexpected 5xx", () => {
    expect(tally.record).toMatchObject({ unauthorisedIssues: 0, crashes: 0, unexpected5xx: 0 });
  });
});
