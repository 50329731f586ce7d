/**
 * lib/crypto/sound-key.ts: the one rule for outside public keys (issue 14, fault 2), and
 * every place that takes a key from outside uses it: CSRs, SPIFFE bundles, JWKS.
 */
import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { assertSoundJwk, assertSoundPublicKey } from "../../lib/crypto/sound-key.js";
import { errorCodeOf } from "../../lib/errors.js";
import { InMemoryKeyManager } from "../../lib/local/in-memory-key-manager.js";
import { signerFor } from "../../lib/ports/key-manager.js";
import { TrustBundle } from "../../lib/spiffe/bundle.js";
import { mintJwtSvid, validateJwtSvid } from "../../lib/spiffe/jwt-svid.js";
import { parseTrustBundle } from "../../lib/spiffe/parse-trust-bundle.js";
import { SpiffeId, TrustDomain } from "../../lib/spiffe/spiffe-id.js";
import { checkCsr } from "../../lib/spiffe/x509-svid.js";
import { rsaExponentCsr, rsaExponentOneCsr } from "../hostile/weak-keys.js";
import { makeCsr, makeWorkloadKey } from "../support/x509-fixtures.js";

const refusal = async (f: () => unknown) => {
  try {
    await f();
  } catch (error) {
    return { code: errorCodeOf(error), message: (error as Error).message };
  }
  return { code: "accepted" };
};
const spkiOf = (key: import("node:crypto").KeyObject) =>
  new Uint8Array(key.export({ format: "der", type: "spki" }));

describe("sound public keys", () => {
  it("accepts RSA 2048 e=65537, EC P-256 and P-384", () => {
    expect(assertSoundPublicKey(spkiOf(generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey))).toBe(
      "rsa-2048",
    );
    expect(assertSoundPublicKey(generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey)).toBe(
      "ec-p256",
    );
    expect(assertSoundPublicKey(generateKeyPairSync("ec", { namedCurve: "P-384" }).publicKey)).toBe(
      "ec-p384",
    );
  });

  it.each([
    [
      "RSA e=3",
      () => generateKeyPairSync("rsa", { modulusLength: 2048, publicExponent: 3 }).publicKey,
      /exponent 65537/,
    ],
    ["RSA 1024", () => generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey, /at least 2048/],
    ["EC P-521", () => generateKeyPairSync("ec", { namedCurve: "P-521" }).publicKey, /P-521|secp521r1/],
    ["EC secp256k1", () => generateKeyPairSync("ec", { namedCurve: "secp256k1" }).publicKey, /not accepted/],
    ["Ed25519", () => generateKeyPairSync("ed25519").publicKey, /ed25519/],
    ["RSA-PSS", () => generateKeyPairSync("rsa-pss", { modulusLength: 2048 }).publicKey, /rsa-pss/],
  ])("refuses %s", async (_name, make, message) => {
    const r = await refusal(() => assertSoundPublicKey(make(), "bundle_malformed"));
    expect(r.code).toBe("bundle_malformed");
    expect(r.message).toMatch(message);
  });

  it("refuses an EC JWK whose point is off the curve", async () => {
    const jwk = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ format: "jwk" });
    const y = Buffer.from(jwk.y!, "base64url");
    y[31] = y[31]! ^ 1;
    expect(
      (await refusal(() => assertSoundJwk({ ...jwk, y: y.toString("base64url") }, "bundle_malformed"))).code,
    ).toBe("bundle_malformed");
  });

  it("fault 2: a validly self-signed CSR for an RSA key with e = 1 is refused (unsupported_key)", async () => {
    const r = await refusal(() => checkCsr(rsaExponentOneCsr()));
    expect(r).toEqual({ code: "unsupported_key", message: expect.stringMatching(/exponent 65537.*has 1$/) });
    const e3 = await rsaExponentCsr(3);
    expect((await refusal(() => checkCsr(e3))).code).toBe("unsupported_key");
  });

  it("fault 2: a CSR for a sound key still passes", async () => {
    expect((await checkCsr(await makeCsr(await makeWorkloadKey("rsa-2048")))).keyKind).toBe("rsa-2048");
  });

  it("fault 2: a SPIFFE bundle with an e = 3 or 1024-bit RSA JWT authority is refused (bundle_malformed)", async () => {
    for (const key of [
      generateKeyPairSync("rsa", { modulusLength: 2048, publicExponent: 3 }).publicKey,
      generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey,
    ]) {
      const doc = { keys: [{ ...key.export({ format: "jwk" }), use: "jwt-svid", kid: "k1" }] };
      const r = await refusal(() => parseTrustBundle(TrustDomain.parse("example.org"), doc));
      expect(r.code).toBe("bundle_malformed");
      expect(r.message).toMatch(/^keys\[0\]: RSA/);
    }
  });

  it("fault 2: a JWT-SVID checked against a JWKS key with e = 3 is refused before jose looks at it", async () => {
    const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048, publicExponent: 3 });
    const td = TrustDomain.parse("example.org");
    const keys = new InMemoryKeyManager();
    const real = await keys.createKey("RS256");
    const signer = await signerFor(keys, real.keyId);
    const svid = await mintJwtSvid({
      spiffeId: SpiffeId.parse("spiffe://example.org/a"),
      audience: ["x"],
      ttlSeconds: 60,
      signer,
    });
    // What relying-party.ts builds from a fetched JWKS: no parse, the key as served.
    const bundle = new TrustBundle({
      trustDomain: td,
      jwtAuthorities: [{ kid: signer.kid, jwk: publicKey.export({ format: "jwk" }) }],
    });
    const r = await refusal(() => validateJwtSvid(svid.token, { audience: "x", bundles: bundle }));
    expect(r.code).toBe("jwt_key_unsupported");
  });
});
