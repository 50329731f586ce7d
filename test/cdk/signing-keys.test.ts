/**
 * How a deployed bridge's rotation makes KMS signing keys (issue 19 items 4, 6, 8): with the
 * key policy naming its roles and no tags, usable at once, never left billing on failure.
 * Against the KMS stand-in; the failures a fresh key gives are injected at the SDK level.
 */
import { type CreateKeyCommandInput, ListResourceTagsCommand } from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KmsKeyManager } from "../../lib/aws/kms-key-manager.js";
import { ACCOUNT_ADMIN_ACTIONS, signingKeyPolicy } from "../../lib/aws/kms-key-policy.js";
import { TrustDomain } from "../../lib/spiffe/spiffe-id.js";
import { FakeKms, kmsClientFor } from "../support/fake-kms.js";

const ROTATION = "arn:aws:iam::111122223333:role/bridge-rotation";
const EXCHANGE = "arn:aws:iam::111122223333:role/bridge-exchange";
const td = TrustDomain.parse("example.org");

let kms: FakeKms;
let url: string;
beforeAll(async () => {
  kms = new FakeKms();
  url = await kms.start();
});
afterAll(() => kms.stop());

/** A client whose commands named in `failures` fail (once per entry) with the given error name. */
function clientFailing(failures: Record<string, string[]>, seen: { command: string; input: unknown }[] = []) {
  const client = kmsClientFor(url);
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName as string;
      seen.push({ command, input: args.input });
      const name = failures[command]?.shift();
      if (name) throw Object.assign(new Error(`injected ${name}`), { name, $metadata: {} });
      return next(args);
    },
    { step: "initialize", name: "injectFailures" },
  );
  return client;
}

describe("signingKeyPolicy (item 6)", () => {
  const policy = JSON.parse(signingKeyPolicy({ rotationRoleArn: ROTATION, signerRoleArns: [EXCHANGE] }));
  const sid = Object.fromEntries(policy.Statement.map((s: { Sid: string }) => [s.Sid, s]));

  it("lets the exchange sign and read the public key, nothing else", () => {
    expect(sid.ExchangeSigns).toEqual({
      Sid: "ExchangeSigns",
      Effect: "Allow",
      Principal: { AWS: [EXCHANGE] },
      Action: ["kms:GetPublicKey", "kms:Sign"],
      Resource: "*",
    });
  });

  it("lets rotation sign, retire and (for KMS's lockout safety check) re-policy its keys", () => {
    expect(sid.RotationUsesAndRetires).toMatchObject({
      Principal: { AWS: ROTATION },
      Action: ["kms:GetPublicKey", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:Sign"],
    });
  });

  it("lets the account (IAM) administer but neither sign, grant nor change the policy", () => {
    expect(sid.AccountAdministersButCannotUse.Principal).toEqual({ AWS: "arn:aws:iam::111122223333:root" });
    for (const action of ["kms:Sign", "kms:Verify", "kms:CreateGrant", "kms:PutKeyPolicy", "kms:*"])
      expect(ACCOUNT_ADMIN_ACTIONS).not.toContain(action);
    expect(policy.Statement).toHaveLength(3);
  });

  it("takes the partition from the roles (aws-cn, aws-us-gov)", () => {
    const cn = JSON.parse(
      signingKeyPolicy({
        rotationRoleArn: "arn:aws-cn:iam::111122223333:role/r",
        signerRoleArns: ["arn:aws-cn:iam::111122223333:role/e"],
      }),
    );
    expect(cn.Statement[0].Principal.AWS).toBe("arn:aws-cn:iam::111122223333:root");
  });

  it.each([
    [
      { rotationRoleArn: "arn:aws:iam::111122223333:user/u", signerRoleArns: [EXCHANGE] },
      /not an IAM role ARN/,
    ],
    [{ rotationRoleArn: ROTATION, signerRoleArns: [] }, /at least one signer role/],
    [
      { rotationRoleArn: ROTATION, signerRoleArns: ["arn:aws:iam::999999999999:role/other"] },
      /not in the rotation role's account/,
    ],
  ])("refuses %o", (input, message) => {
    expect(() => signingKeyPolicy(input)).toThrow(message);
  });
});

describe("KmsKeyManager with a key policy (items 4, 8)", () => {
  const keyPolicy = signingKeyPolicy({ rotationRoleArn: ROTATION, signerRoleArns: [EXCHANGE] });

  it("item 8: creates the key with the policy and no tags (no kms:TagResource needed)", async () => {
    const seen: { command: string; input: unknown }[] = [];
    const client = clientFailing({}, seen);
    const keys = new KmsKeyManager({ client, trustDomain: td, keyPolicy });
    const info = await keys.createKey("ES256");
    const create = seen.find((s) => s.command === "CreateKeyCommand")!.input as CreateKeyCommandInput;
    expect(create.Policy).toBe(keyPolicy);
    expect(create.Tags).toBeUndefined();
    expect((await client.send(new ListResourceTagsCommand({ KeyId: info.keyId }))).Tags).toEqual([]);
  });

  it("item 4: a fresh key that answers AccessDenied/NotFound is retried until KMS has propagated it", async () => {
    const client = clientFailing({
      GetPublicKeyCommand: ["AccessDeniedException", "NotFoundException"],
    });
    const keys = new KmsKeyManager({ client, trustDomain: td, keyPolicy, freshKeyWaitMs: 5000 });
    const info = await keys.createKey("RS256");
    expect(info.alg).toBe("RS256");
  });

  it("item 4: a fresh key that never becomes usable is scheduled for deletion, not left billing", async () => {
    const seen: { command: string; input: unknown }[] = [];
    const client = clientFailing({ GetPublicKeyCommand: Array(20).fill("AccessDeniedException") }, seen);
    const keys = new KmsKeyManager({ client, trustDomain: td, keyPolicy, freshKeyWaitMs: 300 });
    await expect(keys.createKey("ES256")).rejects.toMatchObject({ code: "key_unavailable" });
    const deletion = seen.find((s) => s.command === "ScheduleKeyDeletionCommand");
    expect(deletion?.input).toMatchObject({ PendingWindowInDays: 7 });
    const created = seen.filter((s) => s.command === "CreateKeyCommand");
    expect(created).toHaveLength(1);
  });

  it("item 4: any other failure is not retried, and the key is still retired", async () => {
    const seen: { command: string; input: unknown }[] = [];
    const client = clientFailing({ GetPublicKeyCommand: ["KMSInternalException"] }, seen);
    const keys = new KmsKeyManager({ client, trustDomain: td, keyPolicy });
    await expect(keys.createKey("ES256")).rejects.toMatchObject({ code: "key_unavailable" });
    expect(seen.filter((s) => s.command === "GetPublicKeyCommand")).toHaveLength(1);
    expect(seen.some((s) => s.command === "ScheduleKeyDeletionCommand")).toBe(true);
  });
});

describe("PCA template ARNs in the CA's partition (item 10)", () => {
  it("the adapters send the template in the partition the deployed role's condition names", async () => {
    const { templateInPartitionOf } = await import("../../lib/aws/pca-issuance.js");
    const { DIRECT_MODE_TEMPLATE_ARN } = await import("../../lib/aws/pca-direct-certificate-authority.js");
    const ca = (p: string) => `arn:${p}:acm-pca:cn-north-1:111122223333:certificate-authority/x`;
    expect(templateInPartitionOf(ca("aws-cn"), DIRECT_MODE_TEMPLATE_ARN)).toBe(
      "arn:aws-cn:acm-pca:::template/BlankEndEntityCertificate_APIPassthrough/V1",
    );
    expect(templateInPartitionOf(ca("aws-us-gov"), DIRECT_MODE_TEMPLATE_ARN)).toMatch(/^arn:aws-us-gov:/);
    expect(templateInPartitionOf(ca("aws"), DIRECT_MODE_TEMPLATE_ARN)).toBe(DIRECT_MODE_TEMPLATE_ARN);
  });
});
