import { IAMClient } from "@aws-sdk/client-iam";
import { describe, expect, it } from "vitest";
import { resolveRoleId } from "../../lib/cli/resolve-role-id.js";
import { errorCodeOf } from "../../lib/errors.js";

/** An IAM client whose GetRole is answered in the SDK's middleware stack: no network. */
function iamAnswering(answer: () => unknown): { iam: IAMClient; calls: unknown[] } {
  const calls: unknown[] = [];
  const iam = new IAMClient({ region: "us-east-1", credentials: { accessKeyId: "a", secretAccessKey: "b" } });
  iam.middlewareStack.add(
    () => async (args) => {
      calls.push(args.input);
      return { output: answer(), response: {} } as never;
    },
    { step: "initialize", priority: "high" },
  );
  return { iam, calls };
}

describe("resolveRoleId (iam:GetRole)", () => {
  it("returns the role's unique ID when the role is in the entry's account", async () => {
    const { iam, calls } = iamAnswering(() => ({
      Role: {
        RoleId: "AROAEXAMPLEEXAMPLE123",
        Arn: "arn:aws:iam::111122223333:role/svc/app",
        RoleName: "app",
      },
    }));
    expect(await resolveRoleId(iam, "111122223333", "app")).toBe("AROAEXAMPLEEXAMPLE123");
    expect(calls).toEqual([{ RoleName: "app" }]);
  });

  it("refuses a role read in another account than the entry's", async () => {
    const { iam } = iamAnswering(() => ({
      Role: { RoleId: "AROAEXAMPLEEXAMPLE123", Arn: "arn:aws:iam::999988887777:role/app" },
    }));
    await expect(resolveRoleId(iam, "111122223333", "app")).rejects.toMatchObject({
      code: "registration_invalid",
    });
  });

  it("says registration_invalid for a role that does not exist", async () => {
    const { iam } = iamAnswering(() => {
      throw Object.assign(new Error("The role with name app cannot be found."), {
        name: "NoSuchEntityException",
      });
    });
    let error: unknown;
    try {
      await resolveRoleId(iam, "111122223333", "app");
    } catch (e) {
      error = e;
    }
    expect(errorCodeOf(error)).toBe("registration_invalid");
  });

  it("lets other IAM failures through (the CLI maps them to exit 4)", async () => {
    const { iam } = iamAnswering(() => {
      throw Object.assign(new Error("denied"), { name: "AccessDenied" });
    });
    await expect(resolveRoleId(iam, "111122223333", "app")).rejects.toMatchObject({ name: "AccessDenied" });
  });
});
