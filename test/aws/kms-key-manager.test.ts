import { generateKeyPairSync, sign, verify } from "node:crypto";
import {
  DisableKeyCommand,
  type KMSClient,
  ListResourceTagsCommand,
  ScheduleKeyDeletionCommand,
} from "@aws-sdk/client-kms";
import { importJWK, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DEFAULT_KMS_ALGORITHM,
  derToJoseSignature,
  KmsKeyManager,
  TRUST_DOMAIN_TAG,
} from "../../lib/aws/kms-key-manager.js";
import { BridgeError } from "../../lib/errors.js";
import { signerFor } from "../../lib/ports/key-manager.js";
import { TrustBundle } from "../../lib/spiffe/bundle.js";
import { mintJwtSvid, validateJwtSvid } from "../../lib/spiffe/jwt-svid.js";
import { SpiffeId, TrustDomain } from "../../lib/spiffe/spiffe-id.js";
import { FakeKms, kmsClientFor, publicKeyFromSpki } from "../support/fake-kms.js";

const td = TrustDomain.parse("example.org");
let kms: FakeKms;
let client: KMSClient;
let keys: KmsKeyManager;

beforeAll(async () => {
  kms = new FakeKms();
  client = kmsClientFor(await kms.start());
  keys = new KmsKeyManager({ client, trustDomain: td, tags: { team: "platform" } });
});
afterAll(() => kms.stop());

async function caught(promise: Promise<unknown>): Promise<BridgeError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof BridgeError) return error;
    throw error;
  }
  throw new Error("expected a BridgeError");
}

describe("KmsKeyManager", () => {
  it("defaults to RS256 on RSA_2048, the cheaper KMS key", () => {
    expect(DEFAULT_KMS_ALGORITHM).toBe("RS256");
  });

  it("creates keys tagged with the trust domain", async () => {
    const info = await keys.createKey("ES256");
    expect(info.keyId).toMatch(/^arn:aws:kms:us-east-1:111122223333:key\//);
    expect(info.alg).toBe("ES256");
    const tags = await client.send(new ListResourceTagsCommand({ KeyId: info.keyId }));
    expect(tags.Tags).toEqual(
      expect.arrayContaining([
        { TagKey: TRUST_DOMAIN_TAG, TagValue: "example.org" },
        { TagKey: "svid-bridge:alg", TagValue: "ES256" },
        { TagKey: "team", TagValue: "platform" },
      ]),
    );
  });

  it.each(["RS256", "ES256", "ES384"] as const)(
    "mints a %s JWT-SVID through KMS that jose and the SPIFFE core verify",
    async (alg) => {
      const info = await keys.createKey(alg);
      const signer = await signerFor(keys, info.keyId);
      const spiffeId = SpiffeId.parse("spiffe://example.org/aws/111122223333/fn");
      const svid = await mintJwtSvid({ spiffeId, audience: ["sts.amazonaws.com"], ttlSeconds: 300, signer });
      const { payload, protectedHeader } = await jwtVerify(svid.token, await importJWK(info.jwk, alg), {
        audience: "sts.amazonaws.com",
      });
      expect(payload.sub).toBe(spiffeId.toString());
      expect(protectedHeader).toMatchObject({ alg, kid: info.thumbprint });
      const bundle = new TrustBundle({
        trustDomain: td,
        jwtAuthorities: [{ kid: info.thumbprint, jwk: info.jwk, alg }],
      });
      const validated = await validateJwtSvid(svid.token, { audience: "sts.amazonaws.com", bundles: bundle });
      expect(validated.spiffeId.equals(spiffeId)).toBe(true);
    },
  );

  it("signs with MessageType DIGEST and fetches each public key once", async () => {
    const info = await keys.createKey("ES256");
    const fresh = new KmsKeyManager({ client, trustDomain: td });
    kms.resetCounts();
    const data = new TextEncoder().encode("x".repeat(5000)); // above RAW's 4096-byte ceiling
    const signatures = await Promise.all([1, 2, 3].map(() => fresh.sign(info.keyId, data)));
    expect(kms.callCount("GetPublicKey")).toBe(1);
    expect(kms.callCount("Sign")).toBe(3);
    for (const signature of signatures) {
      expect(signature.byteLength).toBe(64);
      expect(
        verify("sha256", data, { key: publicKeyFromSpki(info.spki), dsaEncoding: "ieee-p1363" }, signature),
      ).toBe(true);
    }
  });

  it("maps a key pending deletion to 503 key_unavailable", async () => {
    const info = await keys.createKey("RS256");
    await client.send(new ScheduleKeyDeletionCommand({ KeyId: info.keyId, PendingWindowInDays: 7 }));
    const e = await caught(keys.sign(info.keyId, new Uint8Array([1])));
    expect(e.code).toBe("key_unavailable");
    expect(e.status).toBe(503);
    expect(e.details).toMatchObject({ kmsError: "KMSInvalidStateException" });
    expect(e.toJSON().message).not.toContain(info.keyId);
  });

  it("maps a disabled key and an unknown key to 503 key_unavailable", async () => {
    const info = await keys.createKey("ES256");
    await client.send(new DisableKeyCommand({ KeyId: info.keyId }));
    expect((await caught(keys.sign(info.keyId, new Uint8Array([1])))).details).toMatchObject({
      kmsError: "DisabledException",
    });
    const missing = await caught(
      keys.getPublicKey(`arn:aws:kms:us-east-1:111122223333:key/${crypto.randomUUID()}`),
    );
    expect([missing.code, missing.status, missing.details?.kmsError]).toEqual([
      "key_unavailable",
      503,
      "NotFoundException",
    ]);
  });

  it("maps throttling to 503 key_unavailable with a retry hint", async () => {
    const info = await keys.createKey("ES256");
    kms.inject("Sign", "ThrottlingException");
    const e = await caught(keys.sign(info.keyId, new Uint8Array([1])));
    expect(e.code).toBe("key_unavailable");
    expect(e.status).toBe(503);
    expect(e.details).toMatchObject({ kmsError: "ThrottlingException", retryAfterSeconds: 1 });
  });
});

describe("derToJoseSignature", () => {
  const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s/g, ""), "hex"));

  it("left-pads a short r and strips the sign byte of a long s (ES256)", () => {
    // r has 31 bytes (its top byte was zero); s has 33 (00 before a high bit).
    const r = "7f".repeat(31);
    const s = `00${"ff".repeat(32)}`;
    const der = hex(`3042 021f ${r} 0221 ${s}`);
    expect(Buffer.from(derToJoseSignature("ES256", der)).toString("hex")).toBe(`00${r}${"ff".repeat(32)}`);
  });

  it("handles a short s and a very short r (ES256)", () => {
    const der = hex(`3025 0201 01 0220 ${"11".repeat(32)}`);
    const raw = Buffer.from(derToJoseSignature("ES256", der)).toString("hex");
    expect(raw).toBe(`${"00".repeat(31)}01${"11".repeat(32)}`);
    const shortS = hex(`3043 0221 00${"ff".repeat(32)} 021e ${"55".repeat(30)}`);
    expect(Buffer.from(derToJoseSignature("ES256", shortS)).toString("hex")).toBe(
      `${"ff".repeat(32)}0000${"55".repeat(30)}`,
    );
  });

  it("pads to 48 bytes for ES384", () => {
    const der = hex(`3061 022f ${"33".repeat(47)} 0230 ${"44".repeat(48)}`);
    expect(Buffer.from(derToJoseSignature("ES384", der)).toString("hex")).toBe(
      `00${"33".repeat(47)}${"44".repeat(48)}`,
    );
  });

  it("converts real short-r signatures into ones the raw verifier accepts", () => {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    let found = 0;
    for (let i = 0; found < 2 && i < 20_000; i++) {
      const data = Buffer.from(`message ${i}`);
      const der = sign("sha256", data, { key: privateKey, dsaEncoding: "der" });
      const rLength = der[3]!;
      const sLength = der[5 + rLength]!;
      if (rLength < 32 || sLength < 32) {
        const raw = derToJoseSignature("ES256", der);
        expect(raw.byteLength).toBe(64);
        expect(verify("sha256", data, { key: publicKey, dsaEncoding: "ieee-p1363" }, raw)).toBe(true);
        found++;
      }
    }
    expect(found).toBe(2);
  });

  it("refuses garbage as a KMS fault, never passes it on", () => {
    expect(() => derToJoseSignature("ES256", hex("deadbeef"))).toThrow(BridgeError);
  });
});
