/**
 * The shapes of AWS names the bridge reads, each written once (issue 17): the proof path
 * checks STS's answer with them, and the registration validator checks entries with the
 * same rules, so an entry can only name what a caller can be.
 *
 * IAM's character set for role, user and session names is `[\w+=,.@-]` (IAM API
 * reference: RoleName, UserName, RoleSessionName); role and user names are 1–64
 * characters, session names 2–64. Unique IDs are a four-letter prefix (AROA for a role,
 * AIDA for a user) and 12 or more upper-case letters and digits. Every pattern is a
 * literal (so test/hostile/redos.test.ts checks it), anchored, with no nested quantifier.
 */

/** The longest IAM role, user or session name. */
export const MAX_IAM_NAME_LENGTH = 64;
/** An IAM role or user name (no path): 1–64 IAM name characters. */
export const IAM_NAME = /^[A-Za-z0-9_+=,.@-]{1,64}$/;
/** An STS role session name: 2–64 IAM name characters. */
export const SESSION_NAME = /^[A-Za-z0-9_+=,.@-]{2,64}$/;
/** A session-name glob: IAM name characters and the wildcards `*` and `?`. */
export const SESSION_GLOB_CHARS = /^[A-Za-z0-9_+=,.@*?-]+$/;
/** An IAM user's path between `user/` and the name: printable ASCII, at most 510 characters. */
export const IAM_PATH = /^[\x21-\x7e]{1,510}$/;

/** A 12-digit AWS account ID. */
export const ACCOUNT_ID = /^\d{12}$/;

/** A role's unique ID (`AROA…`). */
export const ROLE_UNIQUE_ID = /^AROA[A-Z0-9]{12,124}$/;
/** An IAM user's unique ID (`AIDA…`). */
export const USER_UNIQUE_ID = /^AIDA[A-Z0-9]{12,124}$/;
/** Either unique ID: what a registration's `roleId` pin may hold. */
export const UNIQUE_ID = /^(?:AROA|AIDA)[A-Z0-9]{12,124}$/;
