/**
 * STS's answers, read strictly. CVE-2020-16250 was a lenient XML read that found a
 * forged GetCallerIdentityResult inside another action's echo; so: no DOCTYPE, no
 * entities beyond XML's five, one root, exactly one result with exactly one Arn,
 * UserId and Account, and the ARN's account must be Account.
 */
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { ACCOUNT_ID } from "../aws-names.js";
import { BridgeError } from "../errors.js";

export interface StsCallerIdentity {
  arn: string;
  userId: string;
  account: string;
}

export interface StsErrorAnswer {
  code?: string;
  message?: string;
}

const parser = new XMLParser({
  ignoreAttributes: true,
  // Everything stays a string: an account ID like 012345678901 must keep its leading zero.
  parseTagValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  // Every element becomes a list, so "exactly one" is a length check, not a guess.
  isArray: () => true,
  processEntities: true,
  htmlEntities: false,
});

type Node = Record<string, unknown>;

function rejected(reason: string): never {
  throw new BridgeError(
    "proof_rejected",
    `STS's answer is not a single GetCallerIdentityResult (${reason})`,
    {
      details: { rule: "sts-answer", reason },
    },
  );
}

function parseStrict(xml: string): Node {
  // No DOCTYPE, ENTITY, CDATA or comment: STS sends none, and each is a way to smuggle text.
  if (xml.includes("<!")) rejected("markup declarations are not accepted");
  let doc: Node;
  try {
    // The validator itself throws on some truncated input ("<A/"): both throws and a
    // false verdict are the same refusal, never an unhandled error.
    if (XMLValidator.validate(xml) !== true) rejected("not well-formed XML");
    doc = parser.parse(xml) as Node;
  } catch (error) {
    if (error instanceof BridgeError) throw error;
    rejected("not well-formed XML");
  }
  const roots = Object.keys(doc);
  if (roots.length !== 1) rejected("more than one root element");
  return doc;
}

/** The one child element `name` of `node`, which must be a list of exactly one. */
function only(node: Node, name: string): unknown {
  const list = node[name];
  if (!Array.isArray(list) || list.length !== 1) rejected(`expected exactly one ${name}`);
  return list[0];
}

function text(node: Node, name: string): string {
  const value = only(node, name);
  if (typeof value !== "string" || value.length === 0 || value.length > 2048)
    rejected(`${name} must be text`);
  return value;
}

function element(node: unknown, name: string): Node {
  if (typeof node !== "object" || node === null || Array.isArray(node))
    rejected(`${name} must be an element`);
  return node as Node;
}

/** Reads a 200 answer. Refuses (401 proof_rejected) anything but one well-formed result. */
export function parseGetCallerIdentityResponse(xml: string): StsCallerIdentity {
  const doc = parseStrict(xml);
  const response = element(only(doc, "GetCallerIdentityResponse"), "GetCallerIdentityResponse");
  const result = element(only(response, "GetCallerIdentityResult"), "GetCallerIdentityResult");
  for (const key of Object.keys(result))
    if (!["Arn", "UserId", "Account"].includes(key)) rejected(`unexpected element ${key} in the result`);
  const arn = text(result, "Arn");
  const userId = text(result, "UserId");
  const account = text(result, "Account");
  if (!ACCOUNT_ID.test(account)) rejected("Account is not a 12-digit account ID");
  if (arn.split(":")[4] !== account) rejected("the ARN's account is not Account");
  return { arn, userId, account };
}

/** Best-effort read of an ErrorResponse (for logs and the refusal's details); never throws. */
export function parseStsError(xml: string): StsErrorAnswer {
  try {
    if (xml.includes("<!") || XMLValidator.validate(xml) !== true) return {};
    const doc = parser.parse(xml) as Node;
    const error = (doc.ErrorResponse as Node[] | undefined)?.[0]?.Error as Node[] | undefined;
    const first = error?.[0];
    const code = (first?.Code as unknown[] | undefined)?.[0];
    const message = (first?.Message as unknown[] | undefined)?.[0];
    return {
      ...(typeof code === "string" && { code }),
      ...(typeof message === "string" && { message }),
    };
  } catch {
    return {};
  }
}
