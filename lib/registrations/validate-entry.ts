/**
 * Validation of a registration entry before it is written: by `svid-bridge register`,
 * `update` and `import`, and by anything else that writes entries. Input is `unknown`
 * (a JSON or YAML document, or flags turned into an object): every field is checked, an
 * unknown field is refused (a typo in a GitOps file must not silently drop a selector),
 * and every failure is `registration_invalid` naming the field and the rule.
 */
import { ACCOUNT_ID, IAM_NAME, UNIQUE_ID } from "../aws-names.js";
import { BridgeError } from "../errors.js";
import type {
  NewRegistration,
  PrincipalType,
  RegistrationSelectors,
  SvidKind,
} from "../ports/registration-store.js";
import { ENTRY_BODY_FIELDS, SELECTOR_FIELDS as SELECTOR_FIELD_NAMES } from "../ports/registration-store.js";
import { audienceRule } from "../spiffe/jwt-svid-limits.js";
import type { TrustDomain } from "../spiffe/spiffe-id.js";
import { MAX_X509_SVID_TTL_SECONDS } from "../spiffe/svid-ttl.js";
import { sessionGlobRule } from "./session-glob.js";
import { isTemplate, parseTemplate, renderSpiffeId } from "./spiffe-template.js";

export interface RegistrationLimits {
  /** Shortest TTL an entry may ask for, both kinds. */
  minTtlSeconds: number;
  maxJwtTtlSeconds: number;
  maxX509TtlSeconds: number;
}

/** The bridge's maxima unless its configuration says otherwise. */
export const DEFAULT_REGISTRATION_LIMITS: Readonly<RegistrationLimits> = Object.freeze({
  minTtlSeconds: 60,
  maxJwtTtlSeconds: 24 * 3600,
  maxX509TtlSeconds: MAX_X509_SVID_TTL_SECONDS,
});

export interface RegistrationPolicy {
  trustDomain: TrustDomain;
  limits?: Partial<RegistrationLimits>;
}

export const REGISTRATION_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const DNS_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const MAX_LIST = 32;
const MAX_DESCRIPTION_LENGTH = 1024;
const ENTRY_FIELDS = new Set<string>(["id", "selectors", ...ENTRY_BODY_FIELDS]);
/** Store-owned fields: accepted (an exported entry re-imports as is) and ignored. */
const STORE_FIELDS = new Set(["createdAt", "updatedAt", "version"]);
const SELECTOR_FIELDS = new Set<string>(SELECTOR_FIELD_NAMES);
const PRINCIPAL_TYPES: readonly PrincipalType[] = ["assumed-role", "iam-user"];
const KINDS: readonly SvidKind[] = ["jwt", "x509"];

function registrationInvalid(field: string, rule: string): never {
  throw new BridgeError("registration_invalid", `${field}: ${rule}`, { details: { field, rule } });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function str(value: unknown, field: string): string {
  if (typeof value !== "string") registrationInvalid(field, "must be a string");
  return value;
}

function optional<T>(value: unknown, parse: (v: unknown) => T): T | undefined {
  return value === undefined || value === null ? undefined : parse(value);
}

function stringList(value: unknown, field: string, check: (s: string, f: string) => string): string[] {
  if (!Array.isArray(value)) registrationInvalid(field, "must be a list of strings");
  if (value.length > MAX_LIST) registrationInvalid(field, `at most ${MAX_LIST} items`);
  const out: string[] = [];
  value.forEach((v, i) => {
    const s = check(str(v, `${field}[${i}]`), `${field}[${i}]`);
    if (out.includes(s)) registrationInvalid(`${field}[${i}]`, `duplicate ${JSON.stringify(s)}`);
    out.push(s);
  });
  return out;
}

function ttl(value: unknown, field: string, max: number, min: number): number {
  if (typeof value !== "number" || !Number.isInteger(value))
    registrationInvalid(field, "must be a whole number of seconds");
  if (value < min) registrationInvalid(field, `must be at least ${min} seconds`);
  if (value > max) registrationInvalid(field, `must be at most ${max} seconds (the bridge's maximum)`);
  return value;
}

/** The exchange's own audience rule: an entry may allow only what a request can ask for. */
function audience(s: string, field: string): string {
  const broken = audienceRule(s);
  if (broken) registrationInvalid(field, broken);
  return s;
}

/** Host names as RFC 1123 allows them, lower-cased, with an optional leading `*.` wildcard label. */
function dnsName(input: string, field: string): string {
  const s = input.toLowerCase();
  if (s.length === 0 || s.length > 253) registrationInvalid(field, "must be 1–253 characters");
  const labels = s.split(".");
  const [first, ...rest] = labels;
  if (first === "*") {
    if (rest.length < 2) registrationInvalid(field, "a wildcard needs at least two labels after '*.'");
  } else if (!DNS_LABEL.test(first!)) {
    registrationInvalid(field, "labels must be 1–63 of a-z, 0-9 and '-', not starting or ending with '-'");
  }
  for (const label of rest)
    if (!DNS_LABEL.test(label))
      registrationInvalid(field, "labels must be 1–63 of a-z, 0-9 and '-', not starting or ending with '-'");
  if (/^\d+$/.test(labels[labels.length - 1]!))
    registrationInvalid(field, "must be a host name, not an IP address");
  return s;
}

/** Checks the SPIFFE ID (literal or template) as `register` must: the rule broken is named. */
export function checkSpiffeIdTemplate(spiffeId: string, trustDomain: TrustDomain): void {
  if (isTemplate(spiffeId)) {
    const parsed = parseTemplate(spiffeId);
    if ("rule" in parsed) registrationInvalid("spiffeId", parsed.rule);
    const afterScheme = spiffeId.startsWith("spiffe://") ? spiffeId.slice("spiffe://".length) : spiffeId;
    const authority = afterScheme.split("/", 1)[0]!;
    if (authority.includes("{")) registrationInvalid("spiffeId", "placeholders may appear only in the path");
  }
  // A sample caller whose every value is a plain segment: whatever fails now fails for everyone.
  try {
    renderSpiffeId(spiffeId, { account: "111122223333", role: "role", session: "session" }, trustDomain);
  } catch (error) {
    if (error instanceof BridgeError) {
      const rule = String(error.details?.rule ?? error.message);
      registrationInvalid("spiffeId", rule);
    }
    throw error;
  }
}

function selectors(value: unknown): RegistrationSelectors {
  if (!isRecord(value)) registrationInvalid("selectors", "must be an object");
  for (const key of Object.keys(value))
    if (!SELECTOR_FIELDS.has(key)) registrationInvalid(`selectors.${key}`, "unknown field");
  const account = str(value.account, "selectors.account");
  if (!ACCOUNT_ID.test(account))
    registrationInvalid("selectors.account", "must be a 12-digit AWS account ID");
  const principalType = (optional(value.principalType, (v) => str(v, "selectors.principalType")) ??
    "assumed-role") as PrincipalType;
  if (!PRINCIPAL_TYPES.includes(principalType))
    registrationInvalid("selectors.principalType", `must be one of ${PRINCIPAL_TYPES.join(", ")}`);
  const roleName = str(value.roleName, "selectors.roleName");
  if (!IAM_NAME.test(roleName))
    registrationInvalid("selectors.roleName", "must be 1–64 of letters, digits and '_+=,.@-'");
  const roleId = optional(value.roleId, (v) => str(v, "selectors.roleId"));
  if (roleId !== undefined) {
    if (!UNIQUE_ID.test(roleId))
      registrationInvalid("selectors.roleId", "must be an IAM unique ID (AROA… for a role)");
    const want = principalType === "iam-user" ? "AIDA" : "AROA";
    if (!roleId.startsWith(want))
      registrationInvalid("selectors.roleId", `must start with ${want} for ${principalType}`);
  }
  const sessionName = optional(value.sessionName, (v) => str(v, "selectors.sessionName"));
  if (sessionName !== undefined) {
    if (principalType === "iam-user")
      registrationInvalid("selectors.sessionName", "an IAM user has no session name");
    const rule = sessionGlobRule(sessionName);
    if (rule) registrationInvalid("selectors.sessionName", rule);
  }
  return {
    account,
    roleName,
    ...(roleId !== undefined && { roleId }),
    ...(sessionName !== undefined && { sessionName }),
    principalType,
  };
}

/**
 * Turns untrusted input into a NewRegistration, or throws `registration_invalid`.
 * `id` is required here: callers that mint ids (the CLI) fill it in first.
 */
export function validateRegistration(input: unknown, policy: RegistrationPolicy): NewRegistration {
  const limits = { ...DEFAULT_REGISTRATION_LIMITS, ...policy.limits };
  if (!isRecord(input)) registrationInvalid("entry", "must be an object");
  for (const key of Object.keys(input))
    if (!ENTRY_FIELDS.has(key) && !STORE_FIELDS.has(key)) registrationInvalid(key, "unknown field");
  const id = str(input.id, "id");
  if (!REGISTRATION_ID.test(id))
    registrationInvalid("id", "must be 1–128 of letters, digits and '._:-', starting with a letter or digit");
  const sel = selectors(input.selectors);
  const spiffeId = str(input.spiffeId, "spiffeId");
  checkSpiffeIdTemplate(spiffeId, policy.trustDomain);
  if (spiffeId.includes("{session}") && sel.principalType === "iam-user")
    registrationInvalid("spiffeId", "{session} is unavailable for an IAM user");
  const kinds = optional(input.kinds, (v) =>
    stringList(v, "kinds", (s, f) => {
      if (!KINDS.includes(s as SvidKind)) registrationInvalid(f, `must be one of ${KINDS.join(", ")}`);
      return s;
    }),
  ) as SvidKind[] | undefined;
  if (kinds !== undefined && kinds.length === 0)
    registrationInvalid("kinds", "must name at least one of jwt, x509");
  const jwtTtlSeconds = optional(input.jwtTtlSeconds, (v) =>
    ttl(v, "jwtTtlSeconds", limits.maxJwtTtlSeconds, limits.minTtlSeconds),
  );
  const x509TtlSeconds = optional(input.x509TtlSeconds, (v) =>
    ttl(v, "x509TtlSeconds", limits.maxX509TtlSeconds, limits.minTtlSeconds),
  );
  const audiences = optional(input.audiences, (v) => stringList(v, "audiences", audience));
  if (audiences !== undefined && audiences.length === 0)
    registrationInvalid("audiences", "an empty allow-list would refuse every audience: omit it to allow any");
  const dnsNames = optional(input.dnsNames, (v) => stringList(v, "dnsNames", dnsName));
  const enabled = optional(input.enabled, (v) => {
    if (typeof v !== "boolean") registrationInvalid("enabled", "must be true or false");
    return v;
  });
  const description = optional(input.description, (v) => {
    const s = str(v, "description");
    if (s.length > MAX_DESCRIPTION_LENGTH)
      registrationInvalid("description", `at most ${MAX_DESCRIPTION_LENGTH} characters`);
    return s;
  });
  return {
    id,
    selectors: sel,
    spiffeId,
    kinds: kinds ?? ["jwt", "x509"],
    ...(jwtTtlSeconds !== undefined && { jwtTtlSeconds }),
    ...(x509TtlSeconds !== undefined && { x509TtlSeconds }),
    ...(audiences !== undefined && { audiences }),
    ...(dnsNames !== undefined && dnsNames.length > 0 && { dnsNames }),
    enabled: enabled ?? true,
    ...(description !== undefined && description !== "" && { description }),
  };
}
