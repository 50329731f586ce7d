/**
 * FakeKms speaks KMS's wire as the real SDK expects it: these tests pin the behaviour
 * the adapters rely on, so a stand-in bug cannot hide an adapter bug.
 */
import { createHash, verify } from "node:crypto";
import {
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  GenerateDataKeyPairCommand,
  GetPublicKeyCommand,
  type KMSClient,
  ScheduleKeyDeletionCommand,
  SignCommand,
} from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeKms, kmsClientFor, publicKeyFromSpki } from "../support/fake-kms.js";

let kms: FakeKms;
let client: KMSClient;

beforeAll(async () => {
  kms = new FakeKms();
  client = kmsClientFor(await kms.start());
});
afterAll(() => kms.stop());

async function signingKey(spec: "RSA_2048" | "ECC_NIST_P256" | "ECC_NIST_P384") {
  const made = await client.send(new CreateKeyCommand({ KeySpec: spec, KeyUsage: "SIGN_VERIFY" }));
  return made.KeyMetadata!;
}

async function rejection(promise: Promise<unknown>): Promise<{ name: string; status?: number }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { name: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode };
  }
  throw new Error("expected a rejection");
}

describe("FakeKms", () => {
  it.each([
    ["ECC_NIST_P256", "ECDSA_SHA_256", "sha256"],
    ["ECC_NIST_P384", "ECDSA_SHA_384", "sha384"],
    ["RSA_2048", "RSASSA_PKCS1_V1_5_SHA_256", "sha256"],
  ] as const)("signs RAW and DIGEST with %s, ECDSA in DER", async (spec, algorithm, hash) => {
    const key = await signingKey(spec);
    const pub = await client.send(new GetPublicKeyCommand({ KeyId: key.KeyId }));
    expect(pub.SigningAlgorithms).toContain(algorithm);
    const publicKey = publicKeyFromSpki(pub.PublicKey!);
    const message = Buffer.from("the signing input");
    for (const [type, body] of [
      ["RAW", message],
      ["DIGEST", createHash(hash).update(message).digest()],
    ] as const) {
      const out = await client.send(
        new SignCommand({ KeyId: key.Arn, Message: body, MessageType: type, SigningAlgorithm: algorithm }),
      );
      const signature = Buffer.from(out.Signature!);
      expect(verify(hash, message, { key: publicKey, dsaEncoding: "der" }, signature)).toBe(true);
      if (spec !== "RSA_2048") expect(signature[0]).toBe(0x30); // DER SEQUENCE, not raw R||S.
      expect(out.KeyId).toBe(key.Arn);
    }
  });

  it("describes keys with epoch-second dates and their signing algorithms", async () => {
    const key = await signingKey("ECC_NIST_P256");
    const described = await client.send(new DescribeKeyCommand({ KeyId: key.KeyId }));
    expect(described.KeyMetadata).toMatchObject({
      KeyState: "Enabled",
      KeyUsage: "SIGN_VERIFY",
      KeySpec: "ECC_NIST_P256",
      SigningAlgorithms: ["ECDSA_SHA_256"],
    });
    expect(described.KeyMetadata!.CreationDate).toBeInstanceOf(Date);
    expect(Math.abs(described.KeyMetadata!.CreationDate!.getTime() - Date.now())).toBeLessThan(60_000);
  });

  it("refuses an algorithm the key cannot sign with InvalidKeyUsageException", async () => {
    const key = await signingKey("ECC_NIST_P256");
    const e = await rejection(
      client.send(
        new SignCommand({ KeyId: key.KeyId, Message: Buffer.from("x"), SigningAlgorithm: "ECDSA_SHA_384" }),
      ),
    );
    expect(e).toEqual({ name: "InvalidKeyUsageException", status: 400 });
  });

  it("refuses a DIGEST whose length is not the hash's", async () => {
    const key = await signingKey("ECC_NIST_P256");
    const e = await rejection(
      client.send(
        new SignCommand({
          KeyId: key.KeyId,
          Message: Buffer.alloc(31, 1),
          MessageType: "DIGEST",
          SigningAlgorithm: "ECDSA_SHA_256",
        }),
      ),
    );
    expect(e.name).toBe("ValidationException");
  });

  it("answers NotFoundException for an unknown key and KMSInvalidStateException once deletion is scheduled", async () => {
    expect((await rejection(client.send(new GetPublicKeyCommand({ KeyId: crypto.randomUUID() })))).name).toBe(
      "NotFoundException",
    );
    const key = await signingKey("RSA_2048");
    const scheduled = await client.send(
      new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 7 }),
    );
    expect(scheduled.KeyState).toBe("PendingDeletion");
    const e = await rejection(
      client.send(
        new SignCommand({
          KeyId: key.KeyId,
          Message: Buffer.from("x"),
          SigningAlgorithm: "RSASSA_PKCS1_V1_5_SHA_256",
        }),
      ),
    );
    expect(e).toEqual({ name: "KMSInvalidStateException", status: 400 });
  });

  it("wraps data key pairs under a symmetric key, bound to the encryption context", async () => {
    const wrapping = (await client.send(new CreateKeyCommand({}))).KeyMetadata!;
    expect(wrapping.KeySpec).toBe("SYMMETRIC_DEFAULT");
    const context = { purpose: "test" };
    const pair = await client.send(
      new GenerateDataKeyPairCommand({
        KeyId: wrapping.Arn,
        KeyPairSpec: "ECC_NIST_P256",
        EncryptionContext: context,
      }),
    );
    const plain = await client.send(
      new DecryptCommand({ CiphertextBlob: pair.PrivateKeyCiphertextBlob, EncryptionContext: context }),
    );
    expect(Buffer.from(plain.Plaintext!).equals(Buffer.from(pair.PrivateKeyPlaintext!))).toBe(true);
    expect(plain.KeyId).toBe(wrapping.Arn);
    const wrongContext = await rejection(
      client.send(
        new DecryptCommand({ CiphertextBlob: pair.PrivateKeyCiphertextBlob, EncryptionContext: {} }),
      ),
    );
    expect(wrongContext.name).toBe("InvalidCiphertextException");
    const signing = await signingKey("ECC_NIST_P256");
    const notSymmetric = await rejection(
      client.send(new GenerateDataKeyPairCommand({ KeyId: signing.KeyId, KeyPairSpec: "ECC_NIST_P256" })),
    );
    expect(notSymmetric.name).toBe("InvalidKeyUsageException");
  });

  it("requires X-Amz-Target and the JSON 1.1 content type, and names unknown operations", async () => {
    const post = (headers: Record<string, string>) =>
      fetch(kms.url, { method: "POST", headers, body: "{}" }).then(async (r) => ({
        status: r.status,
        body: await r.json(),
      }));
    const json = { "content-type": "application/x-amz-json-1.1" };
    expect(await post(json)).toMatchObject({ status: 400, body: { __type: "UnknownOperationException" } });
    expect(await post({ ...json, "x-amz-target": "TrentService.Frobnicate" })).toMatchObject({
      status: 400,
      body: { __type: "UnknownOperationException" },
    });
    expect(
      await post({ "content-type": "application/json", "x-amz-target": "TrentService.DescribeKey" }),
    ).toMatchObject({ status: 400, body: { __type: "SerializationException" } });
  });
});
