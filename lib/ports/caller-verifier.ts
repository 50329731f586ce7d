/**
 * CallerVerifier: turns a proof of IAM identity into the caller's verified identity.
 * The proof (a signed, unsent sts:GetCallerIdentity) and its checks are in lib/proof/.
 */
import type { Partition } from "../proof/sts-endpoints.js";
import type { PrincipalType } from "./registration-store.js";

export interface CallerIdentity {
  /** As STS returned it, e.g. arn:aws:sts::111122223333:assumed-role/app/my-function. */
  arn: string;
  partition: Partition;
  account: string;
  principalType: PrincipalType;
  /**
   * The principal's IAM name: the role's for an assumed role, the user's for an IAM user
   * (`principalType` says which). Registrations select on it as `selectors.roleName`, the
   * stored and wire name, kept for compatibility.
   */
  principalName: string;
  /** AROA… for a role, AIDA… for a user. */
  uniqueId: string;
  /** For an assumed role; for Lambda, observed to be the function name. */
  sessionName?: string;
}

export interface VerifyProofRequest {
  /** The proof as the client sent it (JSON value). */
  proof: unknown;
  /** The SHA-256 binding the client should have signed over what it asks for (base64url): jwtBinding() or x509Binding() from lib/proof/binding.ts. */
  expectedBinding: string;
}

export interface CallerVerifier {
  /**
   * Resolves the caller's identity, or rejects with a BridgeError: 400/401 `proof_*`
   * codes for a bad proof (`details.rule` names the rule), 403 `principal_not_allowed`,
   * 503 `sts_unavailable` / `store_unavailable`. Each proof is accepted once.
   */
  verify(request: VerifyProofRequest): Promise<CallerIdentity>;
  /**
   * Runs every local rule `verify` would (no network, no store, microseconds) and throws
   * its refusal; lets the exchange refuse an unauthenticated request before it parses
   * anything costly. `verify` of the same request object reuses that check.
   */
  checkLocally?(request: VerifyProofRequest): void;
}
