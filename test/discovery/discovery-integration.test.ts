/**
 * A relying party that knows only the issuer URL: it reads the OIDC discovery document
 * over real HTTP, follows jwks_uri with jose's remote JWKS, and verifies JWT-SVIDs across
 * a rotation. The same server's SPIFFE bundle verifies them the SPIFFE way.
 */
import { createRemoteJWKSet, errors as joseErrors, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDiscoveryHandler } from "../../lambdas/discovery/app.js";
import { ManualClock } from "../../lib/clock.js";
import { BUNDLE_PATH, createDiscoveryEndpoint } from "../../lib/discovery/discovery-endpoint.js";
import { type RunningFunctionUrl, startFunctionUrlServer } from "../../lib/local/function-url-server.js";
import { InMemoryKeySetStore } from "../../lib/local/in-memory-key-set-store.js";
import { LocalCaRenewer } from "../../lib/local/local-ca-renewer.js";
import { signerFor } from "../../lib/ports/key-manager.js";
import { getActiveSigner } from "../../lib/rotation/active-key.js";
import { rotateKeys } from "../../lib/rotation/rotate-keys.js";
import { DEFAULT_ROTATION_CONFIG } from "../../lib/rotation/rotation-config.js";
import { mintJwtSvid, validateJwtSvid } from "../../lib/spiffe/jwt-svid.js";
import { parseTrustBundle } from "../../lib/spiffe/parse-trust-bundle.js";
import { SpiffeId, TrustDomain } from "../../lib/spiffe/spiffe-id.js";
import { DeletingKeyManager } from "../rotation/helpers.js";

const td = TrustDomain.parse("bridge.example.org");
const workload = SpiffeId.parse("spiffe://bridge.example.org/aws/123456789012/role/payments");
const AUDIENCE = "https://relying-party.example.com";
const T0 = Date.UTC(2026, 2, 1, 9);
const HOUR_MS = 3600_000;
const config = { alg: "ES256" as const };

const clock = new ManualClock(T0);
const keys = new DeletingKeyManager();
const store = new InMemoryKeySetStore();
let server: RunningFunctionUrl;
let issuer: string;
let caRenewer: LocalCaRenewer;

const rotate = () => rotateKeys({ store, keys, clock, config, caRenewer });

async function mint(
  signer = getActiveSigner(store, keys),
  ttlSeconds = DEFAULT_ROTATION_CONFIG.maxJwtTtlSeconds,
) {
  return mintJwtSvid({
    spiffeId: workload,
    audience: [AUDIENCE],
    ttlSeconds,
    signer: await signer,
    issuer,
    clock,
  });
}

/** What a relying party does: discovery document → jwks_uri → verify. No cache between calls. */
async function verifyAsRelyingParty(token: string, at = new Date(clock.now())) {
  const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as {
    issuer: string;
    jwks_uri: string;
  };
  expect(discovery.issuer).toBe(issuer);
  const jwks = createRemoteJWKSet(new URL(discovery.jwks_uri), { cacheMaxAge: 0, cooldownDuration: 0 });
  return jwtVerify(token, jwks, { issuer: discovery.issuer, audience: AUDIENCE, currentDate: at });
}

async function publishedKids(): Promise<string[]> {
  const body = (await (await fetch(`${issuer}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
  return body.keys.map((k) => k.kid);
}

beforeAll(async () => {
  caRenewer = await LocalCaRenewer.create({
    trustDomain: td,
    keys,
    clock,
    intermediateTtlSeconds: 30 * 24 * 3600,
  });
  let handler: ReturnType<typeof createDiscoveryHandler> | undefined;
  server = await startFunctionUrlServer((event, context) => handler!(event, context));
  issuer = server.url;
  handler = createDiscoveryHandler({
    endpoint: createDiscoveryEndpoint({
      issuer,
      trustDomain: td,
      store,
      clock,
      allowHttpLoopback: true,
      keySetCacheSeconds: 5,
    }),
  });
  await rotate();
});

afterAll(async () => {
  await server.close();
});

describe("discovery over HTTP, across a rotation", () => {
  it("verifies a token from the issuer URL alone, keeps verifying it after the rotation, and drops its key only after it expired", async () => {
    const first = await mint();
    const verified = await verifyAsRelyingParty(first.token);
    expect(verified.payload.sub).toBe(workload.toString());
    expect(verified.protectedHeader.kid).toBe((await getActiveSigner(store, keys)).kid);
    const firstKid = verified.protectedHeader.kid!;

    // The successor is published (prepared) a lead before it signs.
    clock.set(T0 + 23 * HOUR_MS);
    expect((await rotate()).actions.map((a) => a.type)).toEqual(["created"]);
    clock.advance(10_000); // past the discovery Lambda's key set cache
    const kidsBefore = await publishedKids();
    expect(kidsBefore).toHaveLength(2);
    expect(kidsBefore[0]).toBe(firstKid); // active first

    // The last token the old key signs, just before the switch.
    clock.set(T0 + 24 * HOUR_MS - 60_000);
    const lastOld = await mint();
    expect(lastOld.token.split(".")[0]).toBe(first.token.split(".")[0]); // same kid

    clock.set(T0 + 24 * HOUR_MS);
    expect((await rotate()).actions.map((a) => a.type)).toEqual(["retired", "activated"]);
    clock.advance(10_000);
    const fresh = await mint();
    const freshVerified = await verifyAsRelyingParty(fresh.token);
    expect(freshVerified.protectedHeader.kid).not.toBe(firstKid);
    expect(kidsBefore).toContain(freshVerified.protectedHeader.kid); // it was published before it signed

    // The token signed before the rotation still verifies, until it expires.
    await expect(verifyAsRelyingParty(lastOld.token)).resolves.toBeDefined();
    clock.set((lastOld.expiresAt - 1) * 1000);
    await expect(verifyAsRelyingParty(lastOld.token)).resolves.toBeDefined();
    await expect(
      verifyAsRelyingParty(lastOld.token, new Date((lastOld.expiresAt + 1) * 1000)),
    ).rejects.toBeInstanceOf(joseErrors.JWTExpired);

    // The old key goes only once every token it signed has expired (plus skew)…
    const retired = (await store.get()).jwtKeys.find((k) => k.kid === firstKid)!;
    expect(retired.publishUntil!).toBeGreaterThanOrEqual(
      lastOld.expiresAt + DEFAULT_ROTATION_CONFIG.clockSkewSeconds,
    );
    clock.set(retired.publishUntil! * 1000);
    expect((await rotate()).actions).toContainEqual({ type: "dropped", kid: firstKid });
    clock.advance(10_000);
    expect(await publishedKids()).not.toContain(firstKid);
    expect(keys.deleted).toContain(retired.keyId);
    // …after which even a (replayed, back-dated) old token finds no key.
    await expect(
      verifyAsRelyingParty(lastOld.token, new Date((lastOld.issuedAt + 1) * 1000)),
    ).rejects.toBeInstanceOf(joseErrors.JWKSNoMatchingKey);
    // The key that replaced it is still published.
    await expect(
      verifyAsRelyingParty(fresh.token, new Date((fresh.issuedAt + 1) * 1000)),
    ).resolves.toBeDefined();
  });

  it("refuses a token whose kid was never published", async () => {
    const rogueKeys = new DeletingKeyManager();
    const rogue = await rogueKeys.createKey("ES256");
    const token = await mint(signerFor(rogueKeys, rogue.keyId));
    expect(await publishedKids()).not.toContain(rogue.thumbprint);
    await expect(verifyAsRelyingParty(token.token)).rejects.toBeInstanceOf(joseErrors.JWKSNoMatchingKey);
  });

  it("serves a SPIFFE bundle that the strict parser accepts and that verifies the same tokens", async () => {
    const token = await mint();
    const response = await fetch(`${issuer}${BUNDLE_PATH}`);
    expect(response.status).toBe(200);
    const bundle = await parseTrustBundle(td, await response.text());
    expect(bundle.sequence).toBe((await store.get()).sequence);
    expect(bundle.refreshHintSeconds).toBe(300);
    expect(bundle.x509Authorities.map((c) => c.serialNumber)).toEqual([caRenewer.root.serialNumber]);
    const validated = await validateJwtSvid(token.token, {
      audience: AUDIENCE,
      bundles: bundle,
      issuer,
      clock,
    });
    expect(validated.spiffeId.toString()).toBe(workload.toString());
  });
});
