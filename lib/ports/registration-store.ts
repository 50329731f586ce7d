/**
 * RegistrationStore: the bridge's policy, which IAM callers get which SPIFFE IDs.
 * The entry model and the DynamoDB adapter are built in lib/registrations/; this port
 * is what the exchange depends on.
 */
export type SvidKind = "jwt" | "x509";
export type PrincipalType = "assumed-role" | "iam-user";

export interface RegistrationSelectors {
  account: string;
  roleName: string;
  /** Pins the role's unique ID (AROA…): a re-created role of the same name does not match. */
  roleId?: string;
  /** Glob over the session name (for Lambda, the function name). */
  sessionName?: string;
  principalType?: PrincipalType;
}

export interface RegistrationEntry {
  id: string;
  selectors: RegistrationSelectors;
  /** Literal SPIFFE ID or a template over {account}, {role}, {session}. */
  spiffeId: string;
  kinds: SvidKind[];
  jwtTtlSeconds?: number;
  x509TtlSeconds?: number;
  audiences?: string[];
  dnsNames?: string[];
  enabled: boolean;
  description?: string;
  createdAt: string;
  updatedAt: string;
  version: number;
}

export interface Page<T> {
  items: T[];
  nextToken?: string;
}

export interface ListOptions {
  limit?: number;
  nextToken?: string;
}

export interface RegistrationStore {
  create(entry: Omit<RegistrationEntry, "createdAt" | "updatedAt" | "version">): Promise<RegistrationEntry>;
  get(id: string): Promise<RegistrationEntry | undefined>;
  /** Replaces the entry if its stored version is still `expectedVersion`; else `version_conflict`. */
  update(entry: RegistrationEntry, expectedVersion: number): Promise<RegistrationEntry>;
  delete(id: string, expectedVersion: number): Promise<void>;
  /** Every entry whose account and role name are these: one Query, the exchange's hot path. */
  findByAccountAndRole(account: string, roleName: string): Promise<RegistrationEntry[]>;
  list(options?: ListOptions & { account?: string; spiffeId?: string }): Promise<Page<RegistrationEntry>>;
}
