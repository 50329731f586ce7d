import { generateKeyPairSync, sign as nodeSign } from "node:crypto";
import { base64url, exportJWK, importJWK, jwtVerify, SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../lib/clock.js";
import type { SigningAlgorithm } from "../../lib/crypto/algorithms.js";
import { publicJwk } from "../../lib/crypto/public-key.js";
import { BridgeError } from "../../lib/errors.js";
import { InMemoryKeyManager } from "../../lib/local/in-memory-key-manager.js";
import { type Signer, signerFor } from "../../lib/ports/key-manager.js";
import { BundleSet, TrustBundle } from "../../lib/spiffe/bundle.js";
import { mintJwtSvid, type ValidateJwtSvidOptions, validateJwtSvid } from "../../lib/spiffe/jwt-svid.js";
import { SpiffeId, TrustDomain } from "../../lib/spiffe/spiffe-id.js";

const td = TrustDomain.parse("example.org");
const id = SpiffeId.parse("spiffe://example.org/aws/111122223333/fn");
const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);

async function expectCode(promise: Promise<unknown>, code: string) {
  await expect(promise).rejects.toSatisfy((e) => e instanceof BridgeError && e.code === code);
}

describe.each<SigningAlgorithm>(["RS256", "ES256", "ES384"])("JWT-SVID with %s", (alg) => {
  const keys = new InMemoryKeyManager();
  let signer: Signer;
  let bundle: TrustBundle;
  const clock = new ManualClock(T0);

  beforeAll(async () => {
    const key = await keys.createKey(alg);
    signer = await signerFor(keys, key.keyId);
    bundle = new TrustBundle({
      trustDomain: td,
      jwtAuthorities: [{ kid: key.thumbprint, jwk: key.jwk, alg }],
    });
  });

  const opts = (o: Partial<ValidateJwtSvidOptions> = {}): ValidateJwtSvidOptions => ({
    audience: "sts.amazonaws.com",
    bundles: bundle,
    clock,
    ...o,
  });

  it("mints a token with only alg/kid/typ and sub/aud/exp/iat/iss, that jose verifies", async () => {
    const svid = await mintJwtSvid({
      spiffeId: id,
      audience: ["sts.amazonaws.com"],
      ttlSeconds: 300,
      signer,
      issuer: "https://oidc.example.org",
      clock,
    });
    const [h, p] = svid.token.split(".");
    expect(JSON.parse(Buffer.from(base64url.decode(h!)).toString())).toEqual({
      alg,
      kid: signer.kid,
      typ: "JWT",
    });
    const claims = JSON.parse(Buffer.from(base64url.decode(p!)).toString());
    expect(claims).toEqual({
      sub: id.toString(),
      aud: ["sts.amazonaws.com"],
      exp: T0 / 1000 + 300,
      iat: T0 / 1000,
      iss: "https://oidc.example.org",
    });
    // An outside verifier: jose with the published key.
    const key = await importJWK(bundle.jwtAuthorities[0]!.jwk, alg);
    const verified = await jwtVerify(svid.token, key, {
      audience: "sts.amazonaws.com",
      currentDate: new Date(T0),
    });
    expect(verified.payload.sub).toBe(id.toString());
    const ok = await validateJwtSvid(
      svid.token,
      opts({ trustDomains: [td], issuer: "https://oidc.example.org" }),
    );
    expect(ok.spiffeId.toString()).toBe(id.toString());
  });

  it("refuses an expired token, and accepts within the clock skew", async () => {
    const svid = await mintJwtSvid({ spiffeId: id, audience: ["a"], ttlSeconds: 60, signer, clock });
    await expect(
      validateJwtSvid(svid.token, opts({ audience: "a", clock: new ManualClock(T0 + 60_000 + 59_000) })),
    ).resolves.toBeDefined();
    await expectCode(
      validateJwtSvid(svid.token, opts({ audience: "a", clock: new ManualClock(T0 + 60_000 + 61_000) })),
      "jwt_expired",
    );
  });

  it("refuses a token for another audience", async () => {
    const svid = await mintJwtSvid({ spiffeId: id, audience: ["a", "b"], ttlSeconds: 60, signer, clock });
    await expect(validateJwtSvid(svid.token, opts({ audience: "b" }))).resolves.toBeDefined();
    await expectCode(validateJwtSvid(svid.token, opts({ audience: "c" })), "jwt_audience_mismatch");
  });

  it("refuses a tampered payload", async () => {
    const svid = await mintJwtSvid({ spiffeId: id, audience: ["a"], ttlSeconds: 60, signer, clock });
    const [h, , s] = svid.token.split(".");
    const forged = base64url.encode(
      JSON.stringify({ sub: "spiffe://example.org/admin", aud: ["a"], exp: T0 / 1000 + 60 }),
    );
    await expectCode(
      validateJwtSvid(`${h}.${forged}.${s}`, opts({ audience: "a" })),
      "jwt_signature_invalid",
    );
  });

  it("refuses a token from the wrong trust domain, and a kid not in the bundle", async () => {
    const other = SpiffeId.parse("spiffe://evil.example/fn");
    const svid = await mintJwtSvid({ spiffeId: other, audience: ["a"], ttlSeconds: 60, signer, clock });
    await expectCode(
      validateJwtSvid(svid.token, opts({ audience: "a", trustDomains: [td] })),
      "trust_domain_mismatch",
    );
    // Same key, but no bundle for evil.example: a key never crosses trust domains.
    await expectCode(validateJwtSvid(svid.token, opts({ audience: "a" })), "jwt_kid_unknown");
    const unknownKid = { ...signer, kid: "never-published" };
    const t2 = await mintJwtSvid({
      spiffeId: id,
      audience: ["a"],
      ttlSeconds: 60,
      signer: unknownKid,
      clock,
    });
    await expectCode(validateJwtSvid(t2.token, opts({ audience: "a" })), "jwt_kid_unknown");
  });
});

describe("JWT-SVID validation refusals", () => {
  const clock = new ManualClock(T0);
  const now = T0 / 1000;
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const ec = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  let bundles: BundleSet;
  const base = { sub: id.toString(), aud: ["a"], exp: now + 60, iat: now };

  beforeAll(async () => {
    bundles = new BundleSet([
      new TrustBundle({
        trustDomain: td,
        jwtAuthorities: [
          { kid: "rsa", jwk: publicJwk(await exportJWK(rsa.publicKey)), alg: "RS256" },
          { kid: "ec", jwk: publicJwk(await exportJWK(ec.publicKey)) },
        ],
      }),
    ]);
  });
  const validate = (token: string, audience = "a") => validateJwtSvid(token, { audience, bundles, clock });
  const sign = (
    claims: Record<string, unknown>,
    header: Record<string, unknown> = { alg: "RS256", kid: "rsa", typ: "JWT" },
    key = rsa.privateKey,
  ) => new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(key);
  const unsigned = (header: unknown, claims: unknown, sig = "") =>
    `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(claims))}.${sig}`;

  it("accepts a well-formed token from an outside signer, with aud as a string", async () => {
    const v = await validate(await sign({ ...base, aud: "a" }));
    expect(v.spiffeId.toString()).toBe(id.toString());
    expect(v.kid).toBe("rsa");
  });

  it("refuses alg none", async () => {
    await expectCode(validate(unsigned({ alg: "none", kid: "rsa" }, base)), "jwt_alg_not_allowed");
  });

  it("refuses HS256, even with the RSA public key as the HMAC secret (key confusion)", async () => {
    const secret = new TextEncoder().encode(JSON.stringify(publicJwk(await exportJWK(rsa.publicKey))));
    const token = await new SignJWT(base).setProtectedHeader({ alg: "HS256", kid: "rsa" }).sign(secret);
    await expectCode(validate(token), "jwt_alg_not_allowed");
  });

  it("refuses EdDSA", async () => {
    const ed = generateKeyPairSync("ed25519");
    await expectCode(
      validate(await sign(base, { alg: "EdDSA", kid: "rsa" }, ed.privateKey)),
      "jwt_alg_not_allowed",
    );
  });

  it("refuses an alg that does not fit the key (ES256 header on the RSA kid)", async () => {
    await expectCode(
      validate(await sign(base, { alg: "ES256", kid: "rsa" }, ec.privateKey)),
      "jwt_alg_not_allowed",
    );
  });

  it("refuses a token with no kid", async () => {
    await expectCode(validate(await sign(base, { alg: "RS256" })), "jwt_kid_missing");
  });

  it("refuses extra header parameters and a bad typ", async () => {
    await expectCode(
      validate(await sign(base, { alg: "RS256", kid: "rsa", jku: "https://evil" })),
      "jwt_header_invalid",
    );
    await expectCode(
      validate(await sign(base, { alg: "RS256", kid: "rsa", typ: "at+jwt" })),
      "jwt_header_invalid",
    );
  });

  it("refuses a token without aud or exp, and a sub that is not a SPIFFE ID", async () => {
    await expectCode(validate(await sign({ sub: id.toString(), exp: now + 60 })), "jwt_claims_invalid");
    await expectCode(validate(await sign({ sub: id.toString(), aud: ["a"] })), "jwt_claims_invalid");
    await expectCode(validate(await sign({ ...base, sub: "arn:aws:iam::1:role/x" })), "jwt_claims_invalid");
  });

  it("refuses a future nbf and a future iat", async () => {
    await expectCode(validate(await sign({ ...base, nbf: now + 600 })), "jwt_not_yet_valid");
    await expectCode(validate(await sign({ ...base, iat: now + 600, exp: now + 900 })), "jwt_not_yet_valid");
  });

  it("refuses the JSON serialization and garbage", async () => {
    await expectCode(validate(JSON.stringify({ payload: "x", signatures: [] })), "jwt_malformed");
    await expectCode(validate("a.b.c"), "jwt_malformed");
    await expectCode(validate(""), "jwt_malformed");
  });

  it("accepts an ES256 token on the EC kid that publishes no alg", async () => {
    await expect(
      validate(await sign(base, { alg: "ES256", kid: "ec", typ: "JOSE" }, ec.privateKey)),
    ).resolves.toBeDefined();
  });
});

describe("JWT-SVID validation with node:crypto keeps jose's rules", () => {
  const clock = new ManualClock(T0);
  const now = T0 / 1000;
  const base = { sub: id.toString(), aud: ["a"], exp: now + 60, iat: now };
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const small = generateKeyPairSync("rsa", { modulusLength: 1024 });
  const p384 = generateKeyPairSync("ec", { namedCurve: "secp384r1" });
  const p521 = generateKeyPairSync("ec", { namedCurve: "secp521r1" });
  let bundles: BundleSet;
  beforeAll(async () => {
    const jwk = async (k: typeof rsa.publicKey) => publicJwk(await exportJWK(k));
    bundles = new BundleSet([
      new TrustBundle({
        trustDomain: td,
        jwtAuthorities: [
          { kid: "rsa", jwk: await jwk(rsa.publicKey) },
          { kid: "small", jwk: await jwk(small.publicKey) },
          { kid: "p384", jwk: await jwk(p384.publicKey) },
          { kid: "p521", jwk: await jwk(p521.publicKey) },
        ],
      }),
    ]);
  });
  const validate = (token: string) => validateJwtSvid(token, { audience: "a", bundles, clock });
  const sign = (claims: Record<string, unknown>, alg: string, kid: string, key: typeof rsa.privateKey) =>
    new SignJWT(claims).setProtectedHeader({ alg, kid }).sign(key);

  it("accepts PS256, PS512, RS512 and ES384 from an outside signer", async () => {
    for (const [alg, kid, key] of [
      ["PS256", "rsa", rsa.privateKey],
      ["PS512", "rsa", rsa.privateKey],
      ["RS512", "rsa", rsa.privateKey],
      ["ES384", "p384", p384.privateKey],
    ] as const)
      await expect(validate(await sign(base, alg, kid, key))).resolves.toMatchObject({ alg });
  });

  it("refuses a P-521 key in the bundle (ES512): only sound keys, P-256/P-384 (issue 14, fault 2)", async () => {
    await expectCode(validate(await sign(base, "ES512", "p521", p521.privateKey)), "jwt_key_unsupported");
  });

  it("refuses an RSA key under 2048 bits (unsound), and an EC key on another curve than alg names", async () => {
    // jose will sign with neither key: node:crypto will.
    const raw = (alg: string, kid: string, hash: string, key: typeof rsa.privateKey) => {
      const input = `${base64url.encode(JSON.stringify({ alg, kid }))}.${base64url.encode(JSON.stringify(base))}`;
      const sig = nodeSign(hash, Buffer.from(input), { key, dsaEncoding: "ieee-p1363" });
      return `${input}.${base64url.encode(sig)}`;
    };
    await expectCode(validate(raw("RS256", "small", "sha256", small.privateKey)), "jwt_key_unsupported");
    await expectCode(validate(raw("ES256", "p384", "sha256", p384.privateKey)), "jwt_alg_not_allowed");
  });

  it("refuses a signature of the wrong length, or made for another algorithm of the same key", async () => {
    const token = await sign(base, "ES384", "p384", p384.privateKey);
    const [h, p, sig] = token.split(".") as [string, string, string];
    await expectCode(validate(`${h}.${p}.${sig.slice(0, -4)}`), "jwt_signature_invalid");
    const ps = (await sign(base, "PS256", "rsa", rsa.privateKey)).split(".")[2];
    const rs = (await sign(base, "RS256", "rsa", rsa.privateKey)).split(".");
    await expectCode(validate(`${rs[0]}.${rs[1]}.${ps}`), "jwt_signature_invalid");
  });

  it("refuses characters outside base64url, and claims that are not an object", async () => {
    const token = await sign(base, "RS256", "rsa", rsa.privateKey);
    await expectCode(validate(token.replace(".", "+.")), "jwt_malformed");
    await expectCode(validate(`${token.slice(0, 10)} ${token.slice(10)}`), "jwt_malformed");
    const [h] = token.split(".");
    await expectCode(validate(`${h}.${base64url.encode("[1]")}.AAAA`), "jwt_malformed");
  });

  it("refuses claims of the wrong type: exp, nbf, iat not numbers, aud neither string nor list", async () => {
    const t = (claims: Record<string, unknown>) => sign(claims, "RS256", "rsa", rsa.privateKey);
    await expectCode(validate(await t({ ...base, exp: String(now + 60) })), "jwt_claims_invalid");
    await expectCode(validate(await t({ ...base, nbf: "0" })), "jwt_not_yet_valid");
    await expectCode(validate(await t({ ...base, iat: "0" })), "jwt_not_yet_valid");
    await expectCode(validate(await t({ ...base, aud: { a: 1 } })), "jwt_audience_mismatch");
    await expectCode(validate(await t({ ...base, exp: now - 61 })), "jwt_expired");
    await expect(validate(await t({ ...base, exp: now - 59 }))).resolves.toBeDefined();
  });

  it("checks iss only when the validator names one", async () => {
    const token = await sign({ ...base, iss: "https://a.example" }, "RS256", "rsa", rsa.privateKey);
    const opts = { audience: "a", bundles, clock };
    await expect(validateJwtSvid(token, { ...opts, issuer: "https://a.example" })).resolves.toBeDefined();
    await expectCode(validateJwtSvid(token, { ...opts, issuer: "https://b.example" }), "jwt_claims_invalid");
  });
});
