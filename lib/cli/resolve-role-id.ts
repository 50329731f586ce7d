/**
 * `--resolve-role-id`: reads the role's unique ID (AROA…) with iam:GetRole, so the entry
 * stops matching if the role is ever deleted and re-created under the same name. The
 * role is read with the operator's credentials, so the ARN's account is checked against
 * the entry's: pinning another account's role of the same name would lock the entry out.
 */
import { GetRoleCommand, type IAMClient } from "@aws-sdk/client-iam";
import { BridgeError } from "../errors.js";

export async function resolveRoleId(iam: IAMClient, account: string, roleName: string): Promise<string> {
  let role: { RoleId?: string; Arn?: string } | undefined;
  try {
    role = (await iam.send(new GetRoleCommand({ RoleName: roleName }))).Role;
  } catch (error) {
    if (error instanceof Error && error.name === "NoSuchEntityException")
      throw new BridgeError(
        "registration_invalid",
        `role ${roleName} does not exist in the credentials' account`,
        {
          cause: error,
          details: { field: "selectors.roleName" },
        },
      );
    throw error;
  }
  const arnAccount = role?.Arn?.split(":")[4];
  if (!role?.RoleId || !arnAccount)
    throw new BridgeError("store_unavailable", "iam:GetRole answered without a role ID or ARN");
  if (arnAccount !== account)
    throw new BridgeError(
      "registration_invalid",
      `role ${roleName} was read in account ${arnAccount}, not ${account}: use credentials of account ${account}`,
      { details: { field: "selectors.roleId" } },
    );
  return role.RoleId;
}
