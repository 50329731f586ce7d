/**
 * The key policy every KMS signing key of a deployed bridge is created with (CreateKey
 * `Policy`). It, not IAM and not tags, says who may use the key:
 *
 * - the rotation role (the key's creator) may sign (the intermediate CA's CSR), read the
 *   public key, retire the key and, because KMS's lockout safety check requires the
 *   creator to be able to, replace this policy;
 * - the signer roles (the exchange) may sign and read the public key;
 * - the account (that is, IAM principals whose IAM policies allow it) may administer the
 *   key (describe, tag, disable, schedule or cancel deletion) but neither sign nor grant
 *   nor change the policy: `kms:Sign` on `*` in an IAM policy (AdministratorAccess,
 *   PowerUserAccess) does not reach these keys.
 *
 * Access given in the key policy at creation holds from the first request: nothing waits
 * for tag-based authorization, which KMS says can take up to five minutes.
 * See https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html.
 */
import { BridgeError } from "../errors.js";

/** What the account (IAM) may do on a bridge signing key: administer, never use. */
export const ACCOUNT_ADMIN_ACTIONS = [
  "kms:CancelKeyDeletion",
  "kms:DescribeKey",
  "kms:DisableKey",
  "kms:EnableKey",
  "kms:GetKeyPolicy",
  "kms:GetPublicKey",
  "kms:ListGrants",
  "kms:ListKeyPolicies",
  "kms:ListResourceTags",
  "kms:ScheduleKeyDeletion",
  "kms:TagResource",
  "kms:UntagResource",
  "kms:UpdateKeyDescription",
] as const;

export const ROTATION_KEY_ACTIONS = [
  "kms:GetPublicKey",
  "kms:PutKeyPolicy",
  "kms:ScheduleKeyDeletion",
  "kms:Sign",
] as const;

export const SIGNER_KEY_ACTIONS = ["kms:GetPublicKey", "kms:Sign"] as const;

export interface SigningKeyPolicyInput {
  /** The rotation Lambda's role ARN (`arn:<partition>:iam::<account>:role/…`): the creator. */
  rotationRoleArn: string;
  /** Roles that sign with the key (the exchange's). */
  signerRoleArns: readonly string[];
}

const ROLE_ARN = /^arn:(aws[a-z-]*):iam::(\d{12}):role\/[\w+=,.@/-]{1,512}$/;

function roleArn(name: string, value: string): { partition: string; account: string } {
  const match = ROLE_ARN.exec(value);
  if (!match)
    throw new BridgeError("config_invalid", `${name}: ${JSON.stringify(value)} is not an IAM role ARN`);
  return { partition: match[1]!, account: match[2]! };
}

/** The policy document as KMS takes it (a JSON string, ≤ 32 KB). */
export function signingKeyPolicy(input: SigningKeyPolicyInput): string {
  const { partition, account } = roleArn("rotation role", input.rotationRoleArn);
  if (input.signerRoleArns.length === 0)
    throw new BridgeError("config_invalid", "a signing key needs at least one signer role");
  for (const arn of input.signerRoleArns) {
    const signer = roleArn("signer role", arn);
    if (signer.account !== account || signer.partition !== partition)
      throw new BridgeError("config_invalid", `signer role ${arn} is not in the rotation role's account`);
  }
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "AccountAdministersButCannotUse",
        Effect: "Allow",
        Principal: { AWS: `arn:${partition}:iam::${account}:root` },
        Action: [...ACCOUNT_ADMIN_ACTIONS],
        Resource: "*",
      },
      {
        Sid: "RotationUsesAndRetires",
        Effect: "Allow",
        Principal: { AWS: input.rotationRoleArn },
        Action: [...ROTATION_KEY_ACTIONS],
        Resource: "*",
      },
      {
        Sid: "ExchangeSigns",
        Effect: "Allow",
        Principal: { AWS: [...input.signerRoleArns] },
        Action: [...SIGNER_KEY_ACTIONS],
        Resource: "*",
      },
    ],
  });
}
