/**
 * Which registration entries name this caller. Every selector of an entry must hold (AND);
 * several entries may match (like SPIRE, a workload may hold several identities). The
 * exchange asks the store for the caller's account + role, then filters here.
 */
import { BridgeError } from "../errors.js";
import type { CallerIdentity } from "../ports/caller-verifier.js";
import type { RegistrationEntry } from "../ports/registration-store.js";
import type { SpiffeId, TrustDomain } from "../spiffe/spiffe-id.js";
import { matchSessionGlob } from "./session-glob.js";
import { renderSpiffeId } from "./spiffe-template.js";

export interface RegistrationMatch {
  entry: RegistrationEntry;
  /** The entry's SPIFFE ID, rendered for this caller. */
  spiffeId: SpiffeId;
}

/** True when every selector except the role-ID pin holds. Disabled entries never match. */
function selectorsHold(entry: RegistrationEntry, caller: CallerIdentity): boolean {
  const s = entry.selectors;
  if (!entry.enabled) return false;
  if (s.account !== caller.account || s.roleName !== caller.principalName) return false;
  if ((s.principalType ?? "assumed-role") !== caller.principalType) return false;
  if (s.sessionName !== undefined) {
    if (caller.sessionName === undefined || !matchSessionGlob(s.sessionName, caller.sessionName))
      return false;
  }
  return true;
}

/**
 * The entries that match `caller`, each with its rendered SPIFFE ID, in the order given.
 * Returns [] when nothing matches (the exchange answers `no_registration`), except:
 * - `role_id_mismatch` (403) when nothing matches but an entry would have, had its pinned
 *   role unique ID been the caller's (the role was deleted and created again);
 * - `invalid_rendered_id` (403) when nothing else matches and an entry's template renders,
 *   for this caller, to something that is not a SPIFFE ID in `trustDomain` with a path.
 * An entry that fails either way is left out even when other entries match.
 */
export function matchRegistrations(
  caller: CallerIdentity,
  entries: readonly RegistrationEntry[],
  trustDomain: TrustDomain,
): RegistrationMatch[] {
  const matches: RegistrationMatch[] = [];
  let pinMismatch = false;
  let renderError: BridgeError | undefined;
  const values = { account: caller.account, role: caller.principalName, session: caller.sessionName };
  for (const entry of entries) {
    if (!selectorsHold(entry, caller)) continue;
    if (entry.selectors.roleId !== undefined && entry.selectors.roleId !== caller.uniqueId) {
      pinMismatch = true;
      continue;
    }
    try {
      matches.push({ entry, spiffeId: renderSpiffeId(entry.spiffeId, values, trustDomain) });
    } catch (error) {
      if (!(error instanceof BridgeError)) throw error;
      renderError ??= error;
    }
  }
  if (matches.length > 0) return matches;
  if (pinMismatch)
    throw new BridgeError(
      "role_id_mismatch",
      "the caller's role has a different unique ID than the registration pins (was the role re-created?)",
    );
  if (renderError) throw renderError;
  return [];
}
