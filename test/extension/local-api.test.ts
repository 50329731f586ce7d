import type { Server } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { GoogleAuth } from "google-auth-library";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SvidBridgeClient } from "../../layers/client/svid-bridge-client.js";
import { HttpExchangeClient } from "../../layers/extension/src/exchange-client.js";
import { gcpExternalAccountConfig } from "../../layers/extension/src/gcp-config.js";
import { createLocalApi, listen } from "../../layers/extension/src/local-api/server.js";
import { stsProofBuilder } from "../../layers/extension/src/proof-builder.js";
import { SvidManager } from "../../layers/extension/src/svid-manager.js";
import { InMemoryKeyManager } from "../../lib/local/in-memory-key-manager.js";
import { signerFor } from "../../lib/ports/key-manager.js";
import { mintJwtSvid } from "../../lib/spiffe/jwt-svid.js";
import { SpiffeId } from "../../lib/spiffe/spiffe-id.js";
import { type FakeExchange, startFakeExchange } from "../support/fake-exchange.js";

const TOKEN = "session-token-of-the-function";
const ISSUER = "https://oidc.example.org";

describe("the local API", () => {
  let exchange: FakeExchange;
  let server: Server;
  let base: string;
  let manager: SvidManager;

  beforeAll(async () => {
    exchange = await startFakeExchange({ issuer: ISSUER });
    manager = new SvidManager({
      exchange: new HttpExchangeClient({
        baseUrl: exchange.url,
        proofs: stsProofBuilder({
          credentials: async () => exchange.principal,
          region: "us-east-1",
          serverId: exchange.serverId,
        }),
      }),
      jwtAudiences: ["aud-a"],
      x509: true,
      snapStart: false,
      clockJumpMs: 300_000,
    });
    await manager.initialize();
    server = createLocalApi({ manager, apiToken: TOKEN, issuer: ISSUER });
    base = `http://127.0.0.1:${await listen(server, 0)}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await exchange.stop();
  });

  const get = (path: string, token: string | null = TOKEN) =>
    fetch(`${base}${path}`, { headers: token === null ? {} : { "X-Svid-Bridge-Token": token } });
  const client = () => new SvidBridgeClient({ endpoint: base, token: TOKEN });

  it("answers 401 unauthorized without the token, with a wrong one, and with an empty one", async () => {
    for (const token of [null, "wrong", ""]) {
      const res = await get("/v1/bundle", token);
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: "unauthorized" });
    }
  });

  it("checks the token before routing: an unknown path is 401 without it, 404 with it", async () => {
    expect((await get("/nope", null)).status).toBe(401);
    const res = await get("/nope");
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: "not_found" });
  });

  it("answers 405 for a wrong method", async () => {
    const res = await fetch(`${base}/v1/bundle`, {
      method: "DELETE",
      headers: { "X-Svid-Bridge-Token": TOKEN },
    });
    expect(res.status).toBe(405);
  });

  it("needs exactly one audience", async () => {
    for (const q of ["", "?audience=", "?audience=a&audience=b"]) {
      const res = await get(`/v1/jwt-svid${q}`);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: "invalid_request" });
    }
  });

  it("serves the JWT-SVID as JSON and as a bare token, from the cache", async () => {
    const json = await client().jwtSvid("aud-a");
    const raw = await (await get("/v1/jwt-svid?audience=aud-a&format=token")).text();
    expect(raw).toBe(json.token);
    expect(exchange.count("/v1/svid/jwt")).toBe(1);
  });

  it("serves the X.509-SVID as JSON and PEM, and the bundle as JSON and PEM", async () => {
    const x509 = await client().x509Svid();
    const pem = await (await get("/v1/x509-svid?format=pem")).text();
    expect(pem).toContain(x509.privateKey);
    expect(pem.startsWith(x509.certificateChain.trimEnd())).toBe(true);
    const doc = await client().bundle();
    expect(doc.keys.map((k) => k.use).sort()).toEqual(["jwt-svid", "x509-svid"]);
    expect(await (await get("/v1/bundle?format=pem")).text()).toBe(exchange.bundle.toX509Pem());
    expect((await get("/v1/bundle?format=xml")).status).toBe(400);
  });

  it("validates a JWT-SVID against the bundle, with the validator's codes", async () => {
    const token = (await client().jwtSvid("payments")).token;
    expect(await client().validateJwtSvid(token, "payments")).toMatchObject({
      spiffeId: exchange.spiffeId.toString(),
    });
    await expect(client().validateJwtSvid(token, "other")).rejects.toMatchObject({
      code: "jwt_audience_mismatch",
      status: 401,
    });
    // Signed by a key the bundle does not hold.
    const keys = new InMemoryKeyManager();
    const k = await keys.createKey("ES256");
    const forged = await mintJwtSvid({
      spiffeId: SpiffeId.parse(exchange.spiffeId.toString()),
      audience: ["payments"],
      ttlSeconds: 60,
      signer: await signerFor(keys, k.keyId),
    });
    await expect(client().validateJwtSvid(forged.token, "payments")).rejects.toMatchObject({
      code: "jwt_kid_unknown",
    });
  });

  it("fault 6: POST /v1/validate-jwt pins iss to the bridge's issuer", async () => {
    const token = (await client().jwtSvid("payments")).token;
    // The same manager and bundle, but a local API that believes the bridge is another issuer.
    const other = createLocalApi({ manager, apiToken: TOKEN, issuer: "https://other-bridge.example.org" });
    const otherBase = `http://127.0.0.1:${await listen(other, 0)}`;
    try {
      const answer = await fetch(`${otherBase}/v1/validate-jwt`, {
        method: "POST",
        headers: { "X-Svid-Bridge-Token": TOKEN, "content-type": "application/json" },
        body: JSON.stringify({ token, audience: "payments" }),
      });
      expect(answer.status).toBe(401);
      expect(await answer.json()).toMatchObject({ error: "jwt_claims_invalid" });
    } finally {
      other.closeAllConnections();
      await new Promise((r) => other.close(r));
    }
  });

  it("refuses a validate body that is not JSON, has unknown fields, or no token", async () => {
    const post = (body: string, type = "application/json") =>
      fetch(`${base}/v1/validate-jwt`, {
        method: "POST",
        headers: { "X-Svid-Bridge-Token": TOKEN, "content-type": type },
        body,
      });
    expect((await post("{", "application/json")).status).toBe(400);
    expect((await post("{}", "text/plain")).status).toBe(415);
    expect(
      await (await post(JSON.stringify({ token: "a.b.c", audience: "x", extra: 1 }))).json(),
    ).toMatchObject({
      error: "unknown_field",
    });
    expect(await (await post(JSON.stringify({ audience: "x" }))).json()).toMatchObject({
      error: "invalid_request",
    });
    expect((await post("x".repeat(70_000))).status).toBe(413);
  });

  it("fault 6's kind: a validate body that repeats a member is refused (invalid_request)", async () => {
    const answer = await fetch(`${base}/v1/validate-jwt`, {
      method: "POST",
      headers: { "X-Svid-Bridge-Token": TOKEN, "content-type": "application/json" },
      body: '{"token":"a.b.c","audience":"other","audience":"payments"}',
    });
    expect(answer.status).toBe(400);
    expect(await answer.json()).toMatchObject({
      error: "invalid_request",
      message: expect.stringContaining("audience"),
    });
  });

  it("feeds google-auth-library's external_account flow: the library reads the JWT-SVID from us", async () => {
    const audience =
      "//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/p/providers/svid";
    const seen: Record<string, string>[] = [];
    // A fake GCP STS: records the token exchange request the real library makes.
    const sts = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => {
        body += c;
      });
      req.on("end", () => {
        seen.push(Object.fromEntries(new URLSearchParams(body)));
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            access_token: "gcp-federated-token",
            issued_token_type: "urn:ietf:params:oauth:token-type:access_token",
            token_type: "Bearer",
            expires_in: 3600,
          }),
        );
      });
    });
    await new Promise<void>((r) => sts.listen(0, "127.0.0.1", r));
    try {
      const config = gcpExternalAccountConfig({
        audience,
        endpoint: base,
        apiToken: TOKEN,
        tokenUrl: `http://127.0.0.1:${(sts.address() as AddressInfo).port}/v1/token`,
      });
      const auth = new GoogleAuth({
        credentials: config as never,
        scopes: ["https://www.googleapis.com/auth/cloud-platform"],
      });
      const gclient = await auth.getClient();
      const { token } = await gclient.getAccessToken();
      expect(token).toBe("gcp-federated-token");
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatchObject({
        grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
        audience,
        subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
      });
      // The subject token is the extension's JWT-SVID for the provider's audience.
      const validated = await client().validateJwtSvid(seen[0]!.subject_token!, audience);
      expect(validated.spiffeId).toBe(exchange.spiffeId.toString());
    } finally {
      await new Promise((r) => sts.close(r));
    }
  });
});
