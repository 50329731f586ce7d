/**
 * The caller's identity, derived from STS's answer. Only two kinds of principal can
 * hold a registration: an assumed-role session (every Lambda function) and, when the
 * bridge allows it, an IAM user. Root and federated users are refused outright.
 */
import { BridgeError } from "../errors.js";
import type { CallerIdentity } from "../ports/caller-verifier.js";
import { isPartition } from "./sts-endpoints.js";
import type { StsCallerIdentity } from "./sts-response.js";

export interface IdentityPolicy {
  allowIamUsers: boolean;
}

// IAM names: [\w+=,.@-]; role and user names ≤ 64, session names 2–64.
const NAME = "[\\w+=,.@-]{1,64}";
const ARN = /^arn:([a-z-]{1,16}):(sts|iam)::(\d{12}):(.+)$/; // partition checked by isPartition
const ASSUMED_ROLE = new RegExp(`^assumed-role/(${NAME})/([\\w+=,.@-]{2,64})$`);
// Users may have a path (user/division/name); the path is not part of the name.
const IAM_USER = new RegExp(`^user/(?:[\\x21-\\x7e]{1,510}/)?(${NAME})$`);
const ROLE_ID = /^AROA[A-Z0-9]{12,124}$/;
const USER_ID = /^AIDA[A-Z0-9]{12,124}$/;

function notAllowed(message: string, kind: string): never {
  throw new BridgeError("principal_not_allowed", message, { details: { principal: kind } });
}

function inconsistent(reason: string): never {
  throw new BridgeError("proof_rejected", `STS's answer is inconsistent: ${reason}`, {
    details: { rule: "sts-answer", reason },
  });
}

export function callerIdentityFrom(answer: StsCallerIdentity, policy: IdentityPolicy): CallerIdentity {
  const m = ARN.exec(answer.arn);
  if (!m || !isPartition(m[1]!)) inconsistent("the ARN is not an IAM or STS ARN of a known partition");
  const [, partition, service, account, resource] = m as unknown as [
    string,
    CallerIdentity["partition"],
    string,
    string,
    string,
  ];
  if (account !== answer.account) inconsistent("the ARN's account is not Account");

  if (service === "sts" && resource.startsWith("assumed-role/")) {
    const r = ASSUMED_ROLE.exec(resource);
    if (!r) inconsistent("malformed assumed-role ARN");
    const [, roleName, sessionName] = r as unknown as [string, string, string];
    const colon = answer.userId.indexOf(":");
    const uniqueId = answer.userId.slice(0, colon);
    if (colon < 0 || !ROLE_ID.test(uniqueId) || answer.userId.slice(colon + 1) !== sessionName)
      inconsistent("UserId is not AROA…:<session name>");
    return {
      arn: answer.arn,
      partition,
      account,
      principalType: "assumed-role",
      roleName,
      uniqueId,
      sessionName,
    };
  }
  if (service === "iam" && resource.startsWith("user/")) {
    if (!policy.allowIamUsers) notAllowed("IAM users may not prove an identity to this bridge", "iam-user");
    const u = IAM_USER.exec(resource);
    if (!u || !USER_ID.test(answer.userId)) inconsistent("malformed IAM user ARN or UserId");
    return {
      arn: answer.arn,
      partition,
      account,
      principalType: "iam-user",
      roleName: u[1]!,
      uniqueId: answer.userId,
    };
  }
  if (service === "iam" && resource === "root")
    notAllowed("the account root user may not use this bridge", "root");
  if (service === "sts" && resource.startsWith("federated-user/"))
    notAllowed("federated users may not use this bridge", "federated-user");
  notAllowed("only IAM role sessions (and, if allowed, IAM users) may use this bridge", "other");
}
