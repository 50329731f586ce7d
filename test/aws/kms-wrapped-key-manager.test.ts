import { verify } from "node:crypto";
import { CreateKeyCommand, DisableKeyCommand, type KMSClient } from "@aws-sdk/client-kms";
import { importJWK, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KmsWrappedKeyManager } from "../../lib/aws/kms-wrapped-key-manager.js";
import { BridgeError } from "../../lib/errors.js";
import { InMemoryWrappedKeyStore } from "../../lib/local/in-memory-wrapped-key-store.js";
import { signerFor } from "../../lib/ports/key-manager.js";
import { mintJwtSvid } from "../../lib/spiffe/jwt-svid.js";
import { SpiffeId } from "../../lib/spiffe/spiffe-id.js";
import { FakeKms, kmsClientFor, publicKeyFromSpki } from "../support/fake-kms.js";

let kms: FakeKms;
let client: KMSClient;
let wrappingKeyId: string;

beforeAll(async () => {
  kms = new FakeKms();
  client = kmsClientFor(await kms.start());
  wrappingKeyId = (await client.send(new CreateKeyCommand({ Description: "wrapping" }))).KeyMetadata!.Arn!;
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

describe("KmsWrappedKeyManager", () => {
  it("stores only ciphertext and the public key, and a new sandbox decrypts once for many signs", async () => {
    const store = new InMemoryWrappedKeyStore();
    const creator = new KmsWrappedKeyManager({ client, wrappingKeyId, store });
    const info = await creator.createKey("ES256");
    const record = (await store.get(info.keyId))!;
    expect(record).toMatchObject({ keyId: info.keyId, alg: "ES256", kmsKeyId: wrappingKeyId });
    expect(Buffer.from(record.publicKeySpki, "base64").equals(Buffer.from(info.spki))).toBe(true);
    expect(Object.keys(record).sort()).toEqual(
      ["alg", "createdAt", "encryptedPrivateKey", "keyId", "kmsKeyId", "publicKeySpki"].sort(),
    );

    const sandbox = new KmsWrappedKeyManager({ client, wrappingKeyId, store });
    kms.resetCounts();
    const data = new TextEncoder().encode("signing input");
    const signatures = await Promise.all(Array.from({ length: 20 }, () => sandbox.sign(info.keyId, data)));
    signatures.push(await sandbox.sign(info.keyId, data));
    expect(kms.callCount("Decrypt")).toBe(1);
    expect(kms.callCount("Sign")).toBe(0);
    for (const signature of signatures)
      expect(
        verify("sha256", data, { key: publicKeyFromSpki(info.spki), dsaEncoding: "ieee-p1363" }, signature),
      ).toBe(true);
  });

  it("publishes the public key without decrypting", async () => {
    const store = new InMemoryWrappedKeyStore();
    const info = await new KmsWrappedKeyManager({ client, wrappingKeyId, store }).createKey("ES256");
    kms.resetCounts();
    const published = await new KmsWrappedKeyManager({ client, wrappingKeyId, store }).getPublicKey(
      info.keyId,
    );
    expect(published.thumbprint).toBe(info.thumbprint);
    expect(kms.callCount("Decrypt")).toBe(0);
  });

  it.each(["ES256", "RS256"] as const)("mints a %s JWT-SVID jose verifies", async (alg) => {
    const store = new InMemoryWrappedKeyStore();
    const keys = new KmsWrappedKeyManager({ client, wrappingKeyId, store });
    const info = await keys.createKey(alg);
    const svid = await mintJwtSvid({
      spiffeId: SpiffeId.parse("spiffe://example.org/fn"),
      audience: ["aud"],
      ttlSeconds: 60,
      signer: await signerFor(new KmsWrappedKeyManager({ client, wrappingKeyId, store }), info.keyId),
    });
    const { payload } = await jwtVerify(svid.token, await importJWK(info.jwk, alg), { audience: "aud" });
    expect(payload.sub).toBe("spiffe://example.org/fn");
  });

  it("refuses a record whose ciphertext belongs to another key", async () => {
    const store = new InMemoryWrappedKeyStore();
    const keys = new KmsWrappedKeyManager({ client, wrappingKeyId, store });
    const a = (await store.get((await keys.createKey("ES256")).keyId))!;
    const b = (await store.get((await keys.createKey("ES256")).keyId))!;
    const tampered = new InMemoryWrappedKeyStore();
    await tampered.put({ ...a, encryptedPrivateKey: b.encryptedPrivateKey });
    const e = await caught(
      new KmsWrappedKeyManager({ client, wrappingKeyId, store: tampered }).sign(a.keyId, new Uint8Array([1])),
    );
    expect([e.code, e.status, e.details?.kmsError]).toEqual([
      "key_unavailable",
      503,
      "InvalidCiphertextException",
    ]);
  });

  it("maps a disabled wrapping key to 503 key_unavailable, and retries Decrypt after a failure", async () => {
    const ownWrapping = (await client.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
    const store = new InMemoryWrappedKeyStore();
    const info = await new KmsWrappedKeyManager({ client, wrappingKeyId: ownWrapping, store }).createKey();
    const sandbox = new KmsWrappedKeyManager({ client, wrappingKeyId: ownWrapping, store });
    kms.inject("Decrypt", "ThrottlingException");
    const throttled = await caught(sandbox.sign(info.keyId, new Uint8Array([1])));
    expect(throttled.details).toMatchObject({ kmsError: "ThrottlingException", retryAfterSeconds: 1 });
    expect((await sandbox.sign(info.keyId, new Uint8Array([1]))).byteLength).toBe(64);

    await client.send(new DisableKeyCommand({ KeyId: ownWrapping }));
    const cold = new KmsWrappedKeyManager({ client, wrappingKeyId: ownWrapping, store });
    const e = await caught(cold.sign(info.keyId, new Uint8Array([1])));
    expect([e.code, e.status, e.details?.kmsError]).toEqual(["key_unavailable", 503, "DisabledException"]);
  });

  it("answers key_not_found for a key id with no record", async () => {
    const keys = new KmsWrappedKeyManager({ client, wrappingKeyId, store: new InMemoryWrappedKeyStore() });
    expect((await caught(keys.sign("missing", new Uint8Array([1])))).code).toBe("key_not_found");
  });
});
