/**
 * How the built layer behaves when init cannot get SVIDs: `fail` reports init/error (so
 * Lambda retries the sandbox), `degraded` starts and answers 503 until the exchange does.
 */
import { mkdtempSync } from "node:fs";
import { createServer as createTcpServer, type Server as TcpServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SvidBridgeClient, SvidBridgeClientError } from "../../layers/client/svid-bridge-client.js";
import { freePort, LambdaSandbox } from "../../lib/local/lambda-sandbox.js";
import { buildLayer } from "../../scripts/build-layer.js";
import { type FakeExchange, startFakeExchange } from "../support/fake-exchange.js";

describe("init failure modes of the built layer", () => {
  let layerDir: string;
  let exchange: FakeExchange;
  const runtimes: LambdaSandbox[] = [];

  beforeAll(async () => {
    layerDir = (await buildLayer(mkdtempSync(join(tmpdir(), "svid-layer-")))).dir;
    exchange = await startFakeExchange();
  });
  afterAll(async () => {
    for (const r of runtimes) await r.close();
    await exchange.stop();
  });

  async function start(env: Record<string, string>) {
    const port = await freePort();
    const rt = await LambdaSandbox.start({
      layerDir,
      principal: exchange.principal,
      env: {
        SVID_BRIDGE_URL: exchange.url,
        SVID_BRIDGE_SERVER_ID: exchange.serverId,
        SVID_BRIDGE_HTTP_PORT: String(port),
        SVID_BRIDGE_JWT_AUDIENCES: "aud",
        SVID_BRIDGE_INIT_TIMEOUT_MS: "700",
        ...env,
      },
    });
    runtimes.push(rt);
    return { rt, endpoint: `http://127.0.0.1:${port}` };
  }

  it("fail: retries within the budget, then reports init/error", async () => {
    exchange.refuseWith({ status: 503, code: "sts_unavailable" });
    const before = exchange.count("/v1/svid/x509");
    const { rt } = await start({});
    exchange.refuseWith(undefined);
    expect(rt.initResult).toMatchObject({ ok: false, errorType: "Extension.ExchangeUnavailable" });
    expect(exchange.count("/v1/svid/x509") - before).toBeGreaterThan(1);
    expect(rt.extensions[0]!.exitCode).toBe(1);
  });

  it("fail: a refusal (no registration) is not retried", async () => {
    exchange.refuseWith({ status: 403, code: "no_registration" });
    const before = exchange.count("/v1/svid/x509");
    const { rt } = await start({ SVID_BRIDGE_INIT_TIMEOUT_MS: "5000" });
    exchange.refuseWith(undefined);
    expect(rt.initResult).toMatchObject({ ok: false, errorType: "Extension.ExchangeRejected" });
    expect(exchange.count("/v1/svid/x509") - before).toBe(1);
  });

  it("fail: a proof for another bridge is refused by the exchange and reported, not retried", async () => {
    const before = exchange.refusals.length;
    const { rt } = await start({ SVID_BRIDGE_SERVER_ID: "other-bridge.example.org" });
    expect(rt.initResult).toMatchObject({ ok: false, errorType: "Extension.ExchangeRejected" });
    expect(rt.initResult && !rt.initResult.ok && rt.initResult.message).toContain("proof_server_id_mismatch");
    // One batch (the X.509 and the JWT ask under one proof), refused once: not retried.
    expect(exchange.refusals.slice(before)).toEqual(["proof_server_id_mismatch"]);
  });

  it("reports a config error as Extension.ConfigInvalid naming the variable", async () => {
    const { rt } = await start({ SVID_BRIDGE_URL: "ftp://nope" });
    expect(rt.initResult).toMatchObject({ ok: false, errorType: "Extension.ConfigInvalid" });
    expect(rt.initResult && !rt.initResult.ok && rt.initResult.message).toContain("SVID_BRIDGE_URL");
  });

  it("degraded: starts, answers 503 not_ready, then serves once the exchange answers", async () => {
    exchange.refuseWith({ status: 503, code: "sts_unavailable" });
    const { rt, endpoint } = await start({ SVID_BRIDGE_INIT_FAILURE: "degraded" });
    expect(rt.initResult).toMatchObject({ ok: true });
    const headers = { "X-Svid-Bridge-Token": rt.principal.sessionToken! };
    const down = await rt.invoke(async () => {
      const ready = await fetch(`${endpoint}/v1/ready`, { headers });
      const jwt = await fetch(`${endpoint}/v1/jwt-svid?audience=aud`, { headers });
      return { ready: ready.status, jwt: jwt.status, body: (await jwt.json()) as { error: string } };
    });
    expect(down).toEqual({ ready: 503, jwt: 503, body: expect.objectContaining({ error: "not_ready" }) });
    exchange.refuseWith(undefined);
    await rt.invoke(async () => undefined); // the INVOKE retries init
    const up = await rt.invoke(async () => {
      const ready = await fetch(`${endpoint}/v1/ready`, { headers });
      const jwt = await fetch(`${endpoint}/v1/jwt-svid?audience=aud`, { headers });
      return { ready: ready.status, jwt: jwt.status };
    });
    expect(up).toEqual({ ready: 200, jwt: 200 });
    expect((await rt.shutdown()).exitedInTime).toBe(true);
  });

  it("degraded: a refusal reaches the function with the exchange's own code and status, as in process", async () => {
    exchange.refuseWith({ status: 403, code: "no_registration" });
    try {
      const { rt, endpoint } = await start({ SVID_BRIDGE_INIT_FAILURE: "degraded" });
      expect(rt.initResult).toMatchObject({ ok: true });
      const client = new SvidBridgeClient({ endpoint, token: rt.principal.sessionToken! });
      const error = await rt.invoke(() => client.jwtSvid("aud").catch((e: unknown) => e));
      expect(error).toBeInstanceOf(SvidBridgeClientError);
      const { code, status } = error as SvidBridgeClientError;
      // What InProcessSvidSource reports for the same refusal (test/client/in-process-source.test.ts).
      expect({ code, status }).toEqual({ code: "no_registration", status: 403 });
    } finally {
      exchange.refuseWith(undefined);
    }
  });

  it("cold-start regression: a slow-to-reach exchange does not hold back the listeners and register", async () => {
    // The extension opens its listeners once init's request is on the wire; an exchange
    // whose TLS handshake never completes never takes it, so the wait is capped (200 ms).
    const silent: TcpServer = createTcpServer(() => {}); // accepts TCP, never answers TLS
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const url = `https://127.0.0.1:${(silent.address() as { port: number }).port}`;
    const port = await freePort();
    const t0 = Date.now();
    let listeningAfter: number | undefined;
    const poll = setInterval(() => {
      fetch(`http://127.0.0.1:${port}/v1/ready`)
        .then(() => {
          listeningAfter ??= Date.now() - t0;
        })
        .catch(() => undefined);
    }, 20);
    try {
      const rt = await LambdaSandbox.start({
        layerDir,
        principal: exchange.principal,
        env: {
          SVID_BRIDGE_URL: url,
          SVID_BRIDGE_SERVER_ID: exchange.serverId,
          SVID_BRIDGE_HTTP_PORT: String(port),
          SVID_BRIDGE_JWT_AUDIENCES: "aud",
          SVID_BRIDGE_INIT_FAILURE: "degraded",
          SVID_BRIDGE_INIT_TIMEOUT_MS: "4000",
        },
      });
      runtimes.push(rt);
      const initMs = Date.now() - t0;
      expect(rt.initResult).toMatchObject({ ok: true }); // degraded: started without SVIDs
      // The first attempt waits out its 3 s timeout; the local API was up long before.
      expect(initMs).toBeGreaterThan(2_500);
      expect(listeningAfter).toBeDefined();
      expect(listeningAfter!).toBeLessThan(1_500);
    } finally {
      clearInterval(poll);
      silent.close();
    }
  }, 20_000);
});
