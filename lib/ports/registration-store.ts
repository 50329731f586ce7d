/**
 * RegistrationStore: the bridge's policy, which IAM callers get which SPIFFE IDs.
 * The rules (validation, templates, matching) are in lib/registrations/; the adapters are
 * DynamoDbRegistrationStore (lib/aws/) and InMemoryRegistrationStore (lib/local/).
 */
export type SvidKind = "jwt" | "x509";
export type PrincipalType = "assumed-role" | "iam-user";

export interface RegistrationSelectors {
  /** 12-digit AWS account ID. Required: no entry spans accounts. */
  account: string;
  /** Exact role name (for principalType "iam-user": the user name). */
  roleName: string;
  /** Pins the role's unique ID (AROA…): a re-created role of the same name does not match. */
  roleId?: string;
  /** Glob (`*`, `?`) over the session name (for Lambda, observed to be the function name). */
  sessionName?: string;
  /** Absent means "assumed-role": an IAM user never matches an entry that does not ask for one. */
  principalType?: PrincipalType;
}

export interface RegistrationEntry {
  id: string;
  selectors: RegistrationSelectors;
  /** Literal SPIFFE ID or a template over {account}, {role}, {session} (in the path only). */
  spiffeId: string;
  kinds: SvidKind[];
  jwtTtlSeconds?: number;
  x509TtlSeconds?: number;
  /** JWT-SVID audience allow-list; absent = any audience. */
  audiences?: string[];
  dnsNames?: string[];
  enabled: boolean;
  description?: string;
  /** ISO 8601, set by the store. */
  createdAt: string;
  updatedAt: string;
  /** 1 on create, +1 on every update: the optimistic lock. */
  version: number;
}

/** The selector fields, in the order the store writes them. */
export const SELECTOR_FIELDS = [
  "account",
  "roleName",
  "roleId",
  "sessionName",
  "principalType",
] as const satisfies readonly (keyof RegistrationSelectors)[];

/** An entry's fields besides `id`, `selectors` and what the store owns (times, version). */
export const ENTRY_BODY_FIELDS = [
  "spiffeId",
  "kinds",
  "jwtTtlSeconds",
  "x509TtlSeconds",
  "audiences",
  "dnsNames",
  "enabled",
  "description",
] as const satisfies readonly (keyof RegistrationEntry)[];

/** What a writer supplies: the store owns the times and the version. */
export type NewRegistration = Omit<RegistrationEntry, "createdAt" | "updatedAt" | "version">;

export interface Page<T> {
  items: T[];
  /** Opaque; pass back to get the next page. Absent on the last page. */
  nextToken?: string;
}

export interface ListOptions {
  /** Page size, 1–1000 (default 100). */
  limit?: number;
  nextToken?: string;
}

export interface ListRegistrationsOptions extends ListOptions {
  /** Only this account's entries (at most one of account, spiffeId). */
  account?: string;
  /** Only entries whose stored SPIFFE ID (literal or template text) is exactly this. */
  spiffeId?: string;
}

export interface RegistrationStore {
  /** Fails with `registration_exists` (409) if the id is taken. */
  create(entry: NewRegistration): Promise<RegistrationEntry>;
  get(id: string): Promise<RegistrationEntry | undefined>;
  /**
   * Replaces the entry's fields if its stored version is still `expectedVersion`; else
   * `version_conflict` (409), or `registration_not_found` (404) if it is gone.
   */
  update(entry: NewRegistration, expectedVersion: number): Promise<RegistrationEntry>;
  /** Same conditions as update. */
  delete(id: string, expectedVersion: number): Promise<void>;
  /** Every entry (enabled or not) whose account and role name are these: the exchange's hot path. */
  findByAccountAndRole(account: string, roleName: string): Promise<RegistrationEntry[]>;
  list(options?: ListRegistrationsOptions): Promise<Page<RegistrationEntry>>;
}
