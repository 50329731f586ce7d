/**
 * What AWS IAM (CreateOpenIDConnectProvider, AssumeRoleWithWebIdentity) and GCP Workload
 * Identity Federation require of our documents and tokens (reference sheet §6–7): one
 * assertion per requirement, for each algorithm the bridge can sign with.
 */
import { decodeJwt, decodeProtectedHeader } from "jose";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../lib/clock.js";
import type { SigningAlgorithm } from "../../lib/crypto/algorithms.js";
import { createDiscoveryEndpoint } from "../../lib/discovery/discovery-endpoint.js";
import type { HttpRequest } from "../../lib/http/http-types.js";
import { InMemoryKeySetStore } from "../../lib/local/in-memory-key-set-store.js";
import { getActiveSigner } from "../../lib/rotation/active-key.js";
import { rotateKeys } from "../../lib/rotation/rotate-keys.js";
import { mintJwtSvid } from "../../lib/spiffe/jwt-svid.js";
import { SpiffeId, TrustDomain } from "../../lib/spiffe/spiffe-id.js";
import { DeletingKeyManager } from "../rotation/helpers.js";

const ISSUER = "https://bridge.example.com/prod";
const td = TrustDomain.parse("bridge.example.com");
const AWS_ALGS = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512"];
const GCP_JWK_FIELDS = new Set(["kty", "alg", "use", "kid", "n", "e", "x", "y", "crv"]);

const get = (path: string): HttpRequest => ({
  method: "GET",
  path,
  headers: {},
  query: {},
  body: Buffer.alloc(0),
});

describe.each(["RS256", "ES256", "ES384"] as SigningAlgorithm[])("documents and tokens for %s", (alg) => {
  async function setup() {
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    const keys = new DeletingKeyManager();
    const store = new InMemoryKeySetStore();
    await rotateKeys({ store, keys, clock, config: { alg } });
    await rotateKeys({ store, keys, clock, config: { alg }, force: true }); // a prepared key too
    const endpoint = createDiscoveryEndpoint({ issuer: ISSUER, trustDomain: td, store, clock });
    const config = JSON.parse((await endpoint(get("/prod/.well-known/openid-configuration"))).body);
    const jwksResponse = await endpoint(get(new URL(config.jwks_uri).pathname));
    const jwks = JSON.parse(jwksResponse.body) as { keys: Record<string, unknown>[] };
    const svid = await mintJwtSvid({
      spiffeId: SpiffeId.parse("spiffe://bridge.example.com/aws/123456789012/role/app"),
      audience: ["sts.amazonaws.com"],
      ttlSeconds: 3600,
      signer: await getActiveSigner(store, keys),
      issuer: ISSUER,
      clock,
    });
    return { config, jwks, jwksResponse, svid, clock };
  }

  it("issuer is the configured URL byte for byte, https, no port, query, fragment or trailing slash", async () => {
    const { config } = await setup();
    expect(config.issuer).toBe(ISSUER);
    const url = new URL(config.issuer);
    expect(url.protocol).toBe("https:");
    expect(url.port).toBe("");
    expect(url.search + url.hash).toBe("");
    expect(config.issuer.endsWith("/")).toBe(false);
  });

  it("the token's iss equals the discovery issuer byte for byte", async () => {
    const { config, svid } = await setup();
    expect(decodeJwt(svid.token).iss).toBe(config.issuer);
  });

  it("jwks_uri is https, under the issuer, and served", async () => {
    const { config, jwksResponse } = await setup();
    expect(config.jwks_uri).toBe(`${ISSUER}/.well-known/jwks.json`);
    expect(new URL(config.jwks_uri).protocol).toBe("https:");
    expect(jwksResponse.statusCode).toBe(200);
  });

  it("has the OIDC fields GCP and AWS read, and nothing that claims an authorization server", async () => {
    const { config } = await setup();
    expect(config.response_types_supported).toEqual(["id_token"]);
    expect(config.subject_types_supported).toEqual(["public"]);
    expect(config.id_token_signing_alg_values_supported).toEqual([alg]);
    for (const absent of [
      "authorization_endpoint",
      "token_endpoint",
      "userinfo_endpoint",
      "registration_endpoint",
    ])
      expect(config).not.toHaveProperty(absent);
  });

  it("every key: RSA or EC, kid, use sig, an alg AWS accepts that fits the key, only fields GCP accepts", async () => {
    const { jwks } = await setup();
    expect(jwks.keys).toHaveLength(2);
    for (const key of jwks.keys) {
      expect(["RSA", "EC"]).toContain(key.kty);
      expect(typeof key.kid).toBe("string");
      expect((key.kid as string).length).toBeGreaterThan(0);
      expect(key.use).toBe("sig");
      expect(AWS_ALGS).toContain(key.alg);
      expect(key.alg).toBe(alg);
      expect(String(key.alg).startsWith(key.kty === "RSA" ? "RS" : "ES")).toBe(true);
      for (const field of Object.keys(key)) expect(GCP_JWK_FIELDS.has(field), `field ${field}`).toBe(true);
    }
    expect(new Set(jwks.keys.map((k) => k.kid)).size).toBe(2);
  });

  it("the token: kid present and published, integer exp and iat, iat not in the future, lifetime < 48 h, no azp", async () => {
    const { jwks, svid, clock } = await setup();
    const header = decodeProtectedHeader(svid.token);
    expect(jwks.keys.map((k) => k.kid)).toContain(header.kid);
    expect(header.alg).toBe(alg);
    const claims = decodeJwt(svid.token);
    expect(Number.isInteger(claims.exp)).toBe(true);
    expect(Number.isInteger(claims.iat)).toBe(true);
    expect(claims.iat!).toBeLessThanOrEqual(Math.floor(clock.now() / 1000));
    expect(claims.exp! - claims.iat!).toBeLessThan(48 * 3600);
    expect(claims).not.toHaveProperty("azp");
    expect(claims.aud).toEqual(["sts.amazonaws.com"]);
    expect(typeof claims.sub).toBe("string");
  });
});
