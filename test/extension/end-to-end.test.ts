/**
 * The built layer, run the way Lambda runs it (LambdaSandbox: Extensions and Runtime
 * APIs, SIGSTOP between invokes), against the fake exchange on loopback, which checks
 * every proof with lib/proof's StsCallerVerifier and a LocalSts that knows the function's
 * dev credentials. Short SVID
 * lifetimes from the exchange stand in for time passing: no test sleeps more than a
 * JWT-SVID's two-second life.
 */
import { existsSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLocalJWKSet, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SvidBridgeClient } from "../../layers/client/svid-bridge-client.js";
import { freePort, LambdaSandbox } from "../../lib/local/lambda-sandbox.js";
import { parseCertificatesPem } from "../../lib/spiffe/x509-svid.js";
import { buildLayer } from "../../scripts/build-layer.js";
import { type FakeExchange, startFakeExchange } from "../support/fake-exchange.js";
import { hasOpenssl, opensslVerify } from "../support/x509-fixtures.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const AUDIENCE = "sts.example.com";

describe("the layer in a fake Lambda sandbox", () => {
  let exchange: FakeExchange;
  let lambda: LambdaSandbox;
  let endpoint: string;
  let filesDir: string;
  let layerDir: string;

  beforeAll(async () => {
    const out = mkdtempSync(join(tmpdir(), "svid-layer-"));
    layerDir = (await buildLayer(out)).dir;
    exchange = await startFakeExchange({ jwtTtlSeconds: 2 });
    const port = await freePort();
    endpoint = `http://127.0.0.1:${port}`;
    filesDir = join(mkdtempSync(join(tmpdir(), "svid-files-")), "svid");
    lambda = await LambdaSandbox.start({
      layerDir,
      principal: exchange.principal,
      env: {
        SVID_BRIDGE_URL: exchange.url,
        SVID_BRIDGE_SERVER_ID: exchange.serverId,
        SVID_BRIDGE_HTTP_PORT: String(port),
        SVID_BRIDGE_JWT_AUDIENCES: AUDIENCE,
        SVID_BRIDGE_FILES_DIR: filesDir,
      },
    });
  });

  afterAll(async () => {
    await lambda?.close();
    await exchange?.stop();
  });

  const client = () => new SvidBridgeClient({ endpoint, token: lambda.principal.sessionToken! });

  it("is ready at the end of init, with SVIDs fetched once each", () => {
    expect(lambda.initResult, lambda.logs).toMatchObject({ ok: true });
    // The launcher's one malloc arena reached the extension (its resident-memory budget).
    const environ = readFileSync(`/proc/${lambda.extensions[0]!.child.pid}/environ`, "utf8").split("\0");
    expect(environ).toContain("MALLOC_ARENA_MAX=1");
    expect(exchange.count("/v1/svid/x509")).toBe(1);
    expect(exchange.count("/v1/svid/jwt")).toBe(1);
    expect(exchange.count("/v1/bundle")).toBe(1);
    // Init is one round trip: the batch answer carried the bundle, no GET /v1/bundle.
    expect(exchange.requests.map((r) => (r.body ? r.path : `GET ${r.path}`))).not.toContain("GET /v1/bundle");
    expect(exchange.requests.filter((r) => r.path === "/v1/svid/batch")).toHaveLength(1);
    // Every SVID request carried a proof the real server half accepted, as this function's role.
    expect(exchange.refusals).toEqual([]);
    // One refresh cycle, one batch: one proof, one STS call for both SVIDs.
    expect(exchange.callers).toHaveLength(1);
    for (const caller of exchange.callers)
      expect(caller).toMatchObject({
        arn: exchange.principal.arn,
        principalType: "assumed-role",
        principalName: "svid-bridge-test-role",
        sessionName: "svid-bridge-test-fn",
      });
    expect(exchange.sts.received).toBe(1);
  });

  it("serves a JWT-SVID and an X.509-SVID that validate, and writes the files", async () => {
    const { jwt, x509, bundle } = await lambda.invoke(async () => {
      const c = client();
      return { jwt: await c.jwtSvid(AUDIENCE), x509: await c.x509Svid(), bundle: await c.bundle() };
    });
    // JWT: jose against the bundle's JWT authorities (jose wants JWKS `use` to be "sig").
    const jwks = createLocalJWKSet({
      keys: bundle.keys.filter((k) => k.use === "jwt-svid").map((k) => ({ ...k, use: "sig" })) as never,
    });
    const { payload } = await jwtVerify(jwt.token, jwks, { audience: AUDIENCE });
    expect(payload.sub).toBe(exchange.spiffeId.toString());
    expect(jwt.spiffeId).toBe(exchange.spiffeId.toString());
    // X.509: OpenSSL verifies the chain against the bundle's roots.
    const chain = parseCertificatesPem(x509.certificateChain);
    const roots = parseCertificatesPem(x509.bundle);
    if (hasOpenssl()) expect(opensslVerify(roots, chain)).toContain("OK");
    expect(x509.privateKey).toContain("BEGIN PRIVATE KEY");
    // Files mode: the same SVID, the key readable by its owner only.
    expect(readFileSync(join(filesDir, "svid.pem"), "utf8")).toBe(x509.certificateChain);
    expect(readFileSync(join(filesDir, "svid_key.pem"), "utf8")).toBe(x509.privateKey);
    expect(statSync(join(filesDir, "svid_key.pem")).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(filesDir, "bundle.pem"), "utf8")).toBe(x509.bundle);
  });

  it("refuses a request without the token header with 401", async () => {
    const statuses = await lambda.invoke(async () => {
      const none = await fetch(`${endpoint}/v1/jwt-svid?audience=${AUDIENCE}`);
      const wrong = await fetch(`${endpoint}/v1/jwt-svid?audience=${AUDIENCE}`, {
        headers: { "X-Svid-Bridge-Token": "not-the-session-token" },
      });
      return [none.status, ((await none.json()) as { error: string }).error, wrong.status];
    });
    expect(statuses).toEqual([401, "unauthorized", 401]);
  });

  it("refreshes on the INVOKE after half the lifetime has passed", async () => {
    const before = await lambda.invoke(() => client().jwtSvid(AUDIENCE));
    const jwtCalls = exchange.count("/v1/svid/jwt");
    // Lifetime is measured from receipt: the 2 s token is due after at most 1 s.
    await sleep(1_100);
    await lambda.invoke(async () => undefined);
    expect(exchange.count("/v1/svid/jwt")).toBe(jwtCalls + 1);
    const after = await lambda.invoke(() => client().jwtSvid(AUDIENCE));
    expect(after.token).not.toBe(before.token);
  });

  it("with the exchange stopped, serves a still-valid SVID and never an expired one", async () => {
    await exchange.stop();
    const fresh = await lambda.invoke(() => client().jwtSvid(AUDIENCE));
    expect(fresh.expiresAt * 1000).toBeGreaterThan(Date.now());
    await sleep(Math.max(0, fresh.expiresAt * 1000 - Date.now()) + 50);
    const outcome = await lambda.invoke(async () => {
      const res = await fetch(`${endpoint}/v1/jwt-svid?audience=${AUDIENCE}`, {
        headers: { "X-Svid-Bridge-Token": lambda.principal.sessionToken! },
      });
      const x509 = await client().x509Svid();
      return {
        status: res.status,
        body: (await res.json()) as { error: string },
        x509Expires: x509.expiresAt,
      };
    });
    expect(outcome.status).toBe(503);
    expect(outcome.body.error).toBe("not_ready");
    // The X.509-SVID has an hour left: still served.
    expect(outcome.x509Expires * 1000).toBeGreaterThan(Date.now());
  });

  it("exits within the SHUTDOWN deadline and removes the key file", async () => {
    const result = await lambda.shutdown("SPINDOWN", 2_000);
    expect(result.exitedInTime).toBe(true);
    expect(result.code).toBe(0);
    expect(existsSync(join(filesDir, "svid_key.pem"))).toBe(false);
  });
});
