/**
 * The flags that describe an entry, shared by `register` (every field) and `update`
 * (only the fields given change; `--clear-*` removes an optional one).
 */
import { type Command, InvalidArgumentError } from "commander";
import type { NewRegistration } from "../ports/registration-store.js";

export interface EntryFlags {
  id?: string;
  spiffeId?: string;
  account?: string;
  role?: string;
  roleId?: string;
  clearRoleId?: boolean;
  resolveRoleId?: boolean;
  sessionName?: string;
  clearSessionName?: boolean;
  principalType?: string;
  kind?: string[];
  jwtTtl?: number;
  x509Ttl?: number;
  clearJwtTtl?: boolean;
  clearX509Ttl?: boolean;
  audience?: string[];
  clearAudiences?: boolean;
  dnsName?: string[];
  clearDnsNames?: boolean;
  enable?: boolean;
  disable?: boolean;
  disabled?: boolean;
  description?: string;
}

/** Commander parser for counts, versions and seconds: digits only, no "1e3", no "-1". */
export function wholeNumber(value: string): number {
  if (!/^\d{1,15}$/.test(value)) throw new InvalidArgumentError("expected a whole number");
  return Number(value);
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function collectCsv(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(",").map((s) => s.trim())];
}

export function addEntryFlags(command: Command, mode: "register" | "update"): Command {
  if (mode === "register") command.option("--id <id>", "entry id (default: a random UUID)");
  command
    .option("--spiffe-id <id>", "SPIFFE ID, or a template over {account}, {role}, {session}")
    .option("--account <account-id>", "selector: 12-digit AWS account ID")
    .option("--role <role-name>", "selector: IAM role name, exact (user name with --principal-type iam-user)")
    .option("--role-id <AROA…>", "selector: pin the role's unique ID (a re-created role will not match)")
    .option("--resolve-role-id", "pin the role's unique ID, read with iam:GetRole using your AWS credentials")
    .option("--session-name <glob>", "selector: session-name glob, '*' and '?' (Lambda: the function name)")
    .option("--principal-type <type>", "selector: assumed-role (default) or iam-user")
    .option("--kind <kinds>", "SVID kinds allowed, jwt and/or x509, comma-separated or repeated", collectCsv)
    .option("--jwt-ttl <seconds>", "JWT-SVID lifetime", wholeNumber)
    .option("--x509-ttl <seconds>", "X.509-SVID lifetime", wholeNumber)
    .option("--audience <aud>", "allow this JWT-SVID audience (repeat for more; none = any)", collect)
    .option("--dns-name <name>", "DNS SAN for X.509-SVIDs (repeat for more)", collect)
    .option("--description <text>", "free text");
  if (mode === "register") {
    command.option("--disabled", "create the entry disabled");
    // What every entry needs: marked "(required)" in --help (see conventions.ts).
    for (const long of ["--spiffe-id", "--account", "--role"])
      command.options.find((o) => o.long === long)?.makeOptionMandatory();
  } else
    command
      .option("--enable", "enable the entry")
      .option("--disable", "disable the entry: it stops matching at once (within the exchange's cache TTL)")
      .option("--clear-role-id", "remove the role unique ID pin")
      .option("--clear-session-name", "remove the session-name selector")
      .option("--clear-jwt-ttl", "use the bridge's default JWT-SVID lifetime")
      .option("--clear-x509-ttl", "use the bridge's default X.509-SVID lifetime")
      .option("--clear-audiences", "allow any audience")
      .option("--clear-dns-names", "no DNS SANs");
  return command;
}

/**
 * Applies the flags to `base` (an existing entry for update, empty for register) and
 * returns the raw object for validateRegistration: no checks here, one validator decides.
 */
export function applyEntryFlags(base: Partial<NewRegistration>, f: EntryFlags): Record<string, unknown> {
  const out: Record<string, unknown> = { ...structuredClone(base) };
  const selectors: Record<string, unknown> = { ...base.selectors };
  const set = (target: Record<string, unknown>, key: string, value: unknown, clear?: boolean) => {
    if (clear) delete target[key];
    if (value !== undefined) target[key] = value;
  };
  set(out, "id", f.id);
  set(out, "spiffeId", f.spiffeId);
  set(selectors, "account", f.account);
  set(selectors, "roleName", f.role);
  set(selectors, "roleId", f.roleId, f.clearRoleId);
  set(selectors, "sessionName", f.sessionName, f.clearSessionName);
  set(selectors, "principalType", f.principalType);
  out.selectors = selectors;
  set(out, "kinds", f.kind);
  set(out, "jwtTtlSeconds", f.jwtTtl, f.clearJwtTtl);
  set(out, "x509TtlSeconds", f.x509Ttl, f.clearX509Ttl);
  set(out, "audiences", f.audience, f.clearAudiences);
  set(out, "dnsNames", f.dnsName, f.clearDnsNames);
  set(out, "description", f.description);
  if (f.disabled || f.disable) out.enabled = false;
  if (f.enable) out.enabled = true;
  return out;
}
