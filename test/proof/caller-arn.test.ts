import { describe, expect, it } from "vitest";
import { BridgeError } from "../../lib/errors.js";
import { callerIdentityFrom } from "../../lib/proof/caller-arn.js";

const roles = { allowIamUsers: false };
const users = { allowIamUsers: true };

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof BridgeError ? e.code : "not a BridgeError";
  }
  return undefined;
}

describe("caller identity from STS's answer", () => {
  it.each([
    ["aws", "111122223333"],
    ["aws-cn", "222233334444"],
    ["aws-us-gov", "333344445555"],
  ] as const)("reads an assumed-role session in partition %s", (partition, account) => {
    const arn = `arn:${partition}:sts::${account}:assumed-role/app-role/my-function`;
    expect(callerIdentityFrom({ arn, userId: "AROAFAKEROLEID000001:my-function", account }, roles)).toEqual({
      arn,
      partition,
      account,
      principalType: "assumed-role",
      principalName: "app-role",
      uniqueId: "AROAFAKEROLEID000001",
      sessionName: "my-function",
    });
  });

  it("reads an IAM user (path dropped) only when users are allowed", () => {
    const answer = {
      arn: "arn:aws:iam::111122223333:user/dev/team/alice",
      userId: "AIDAFAKEUSERID000001",
      account: "111122223333",
    };
    expect(callerIdentityFrom(answer, users)).toEqual({
      arn: answer.arn,
      partition: "aws",
      account: "111122223333",
      principalType: "iam-user",
      principalName: "alice",
      uniqueId: "AIDAFAKEUSERID000001",
    });
    expect(code(() => callerIdentityFrom(answer, roles))).toBe("principal_not_allowed");
  });

  it("refuses root and federated users, even when users are allowed", () => {
    const account = "111122223333";
    expect(
      code(() =>
        callerIdentityFrom({ arn: `arn:aws:iam::${account}:root`, userId: account, account }, users),
      ),
    ).toBe("principal_not_allowed");
    expect(
      code(() =>
        callerIdentityFrom(
          { arn: `arn:aws:sts::${account}:federated-user/bob`, userId: `${account}:bob`, account },
          users,
        ),
      ),
    ).toBe("principal_not_allowed");
    expect(
      code(() =>
        callerIdentityFrom(
          { arn: `arn:aws:iam::${account}:role/app-role`, userId: "AROAFAKEROLEID000001", account },
          users,
        ),
      ),
    ).toBe("principal_not_allowed");
  });

  it("refuses answers that do not hang together", () => {
    const account = "111122223333";
    const arn = `arn:aws:sts::${account}:assumed-role/app-role/my-function`;
    const bad = [
      { arn, userId: "AROAFAKEROLEID000001:other-function", account },
      { arn, userId: "AIDAFAKEROLEID000001:my-function", account },
      { arn, userId: "AROAFAKEROLEID000001", account },
      { arn, userId: "AROAFAKEROLEID000001:my-function", account: "444455556666" },
      { arn: "arn:aws-iso:sts::111122223333:assumed-role/r/s1", userId: "AROAFAKEROLEID000001:s1", account },
      { arn: `arn:aws:sts::${account}:assumed-role/a/b/c`, userId: "AROAFAKEROLEID000001:c", account },
      { arn: "not an arn", userId: "x", account },
    ];
    for (const answer of bad)
      expect(
        code(() => callerIdentityFrom(answer, users)),
        answer.arn,
      ).toBe("proof_rejected");
  });
});
