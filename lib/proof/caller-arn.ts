/**
 * The caller's identity, derived from STS's answer. Only two kinds of principal can
 * hold a registration: an assumed-role session (every Lambda function) and, when the
 * bridge allows it, an IAM user. Root and federated users are refused outright.
 */
import { IAM_NAME, IAM_PATH, ROLE_UNIQUE_ID, SESSION_NAME, USER_UNIQUE_ID } from "../aws-names.js";
import { BridgeError } from "../errors.js";
import type { CallerIdentity } from "../ports/caller-verifier.js";
import { isPartition } from "./sts-endpoints.js";
import type { StsCallerIdentity } from "./sts-response.js";

export interface IdentityPolicy {
  allowIamUsers: boolean;
}

const ARN = /^arn:([a-z-]{1,16}):(sts|iam)::(\d{12}):(.+)$/; // partition checked by isPartition

interface ArnParts {
  partition: CallerIdentity["partition"];
  service: string;
  account: string;
  resource: string;
}

/** The parts of an IAM or STS ARN of a known partition, or undefined. */
function arnParts(arn: string): ArnParts | undefined {
  const [, partition = "", service = "", account = "", resource = ""] = ARN.exec(arn) ?? [];
  return isPartition(partition) ? { partition, service, account, resource } : undefined;
}

/** `assumed-role/ROLE/SESSION`'s names, when both are IAM names. */
function assumedRoleParts(resource: string): { roleName: string; sessionName: string } | undefined {
  const [kind, roleName, sessionName, ...more] = resource.split("/");
  if (kind !== "assumed-role" || more.length > 0 || roleName === undefined || sessionName === undefined)
    return undefined;
  return IAM_NAME.test(roleName) && SESSION_NAME.test(sessionName) ? { roleName, sessionName } : undefined;
}

/** `user/[PATH/]NAME`'s name: users may have a path (user/division/name), not part of the name. */
function iamUserName(resource: string): string | undefined {
  const rest = resource.slice("user/".length);
  const slash = rest.lastIndexOf("/");
  const name = rest.slice(slash + 1);
  if (slash >= 0 && !IAM_PATH.test(rest.slice(0, slash))) return undefined;
  return IAM_NAME.test(name) ? name : undefined;
}

function notAllowed(message: string, kind: string): never {
  throw new BridgeError("principal_not_allowed", message, { details: { principal: kind } });
}

function inconsistent(reason: string): never {
  throw new BridgeError("proof_rejected", `STS's answer is inconsistent: ${reason}`, {
    details: { rule: "sts-answer", reason },
  });
}

export function callerIdentityFrom(answer: StsCallerIdentity, policy: IdentityPolicy): CallerIdentity {
  const arn = arnParts(answer.arn);
  if (!arn) inconsistent("the ARN is not an IAM or STS ARN of a known partition");
  const { partition, service, account, resource } = arn;
  if (account !== answer.account) inconsistent("the ARN's account is not Account");

  if (service === "sts" && resource.startsWith("assumed-role/")) {
    const role = assumedRoleParts(resource);
    if (!role) inconsistent("malformed assumed-role ARN");
    const colon = answer.userId.indexOf(":");
    const uniqueId = answer.userId.slice(0, colon);
    if (colon < 0 || !ROLE_UNIQUE_ID.test(uniqueId) || answer.userId.slice(colon + 1) !== role.sessionName)
      inconsistent("UserId is not AROA…:<session name>");
    return {
      arn: answer.arn,
      partition,
      account,
      principalType: "assumed-role",
      principalName: role.roleName,
      uniqueId,
      sessionName: role.sessionName,
    };
  }
  if (service === "iam" && resource.startsWith("user/")) {
    if (!policy.allowIamUsers) notAllowed("IAM users may not prove an identity to this bridge", "iam-user");
    const userName = iamUserName(resource);
    if (userName === undefined || !USER_UNIQUE_ID.test(answer.userId))
      inconsistent("malformed IAM user ARN or UserId");
    return {
      arn: answer.arn,
      partition,
      account,
      principalType: "iam-user",
      principalName: userName,
      uniqueId: answer.userId,
    };
  }
  if (service === "iam" && resource === "root")
    notAllowed("the account root user may not use this bridge", "root");
  if (service === "sts" && resource.startsWith("federated-user/"))
    notAllowed("federated users may not use this bridge", "federated-user");
  notAllowed("only IAM role sessions (and, if allowed, IAM users) may use this bridge", "other");
}
