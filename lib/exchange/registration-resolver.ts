/**
 * From a verified caller to its registrations: one lookup by account + role name (a
 * single Query, or the in-process cache), then the matching rules of lib/registrations.
 *
 * The match of a caller against a list of entries is pure, so it is kept beside the list
 * it was made from: the caching store hands out the same deep-frozen list until its TTL, and
 * a warm sandbox answers a returning caller without matching and rendering again. A new
 * list (an edit, an expiry) starts afresh; refusals are never kept.
 */
import type { CallerIdentity } from "../ports/caller-verifier.js";
import type { RegistrationEntry, RegistrationStore } from "../ports/registration-store.js";
import { matchRegistrations, type RegistrationMatch } from "../registrations/match-registrations.js";
import type { TrustDomain } from "../spiffe/spiffe-id.js";
import type { RegistrationResolver } from "./exchange-service.js";

const MAX_CALLERS_PER_LIST = 256;

/** Every field of the identity the matching rules may read. */
function callerKey(c: CallerIdentity): string {
  return [
    c.arn,
    c.partition,
    c.account,
    c.principalType,
    c.principalName,
    c.uniqueId,
    c.sessionName ?? "",
  ].join("\n");
}

export function registrationResolver(
  store: Pick<RegistrationStore, "findByAccountAndRole">,
  trustDomain: TrustDomain,
): RegistrationResolver {
  const matched = new WeakMap<readonly RegistrationEntry[], Map<string, RegistrationMatch[]>>();
  return async (caller: CallerIdentity) => {
    const entries = await store.findByAccountAndRole(caller.account, caller.principalName);
    // Only a frozen list (the caching store's) is sure to read the same next time.
    if (!Object.isFrozen(entries)) return matchRegistrations(caller, entries, trustDomain);
    let byCaller = matched.get(entries);
    if (!byCaller) {
      byCaller = new Map();
      matched.set(entries, byCaller);
    }
    const key = callerKey(caller);
    let matches = byCaller.get(key);
    if (!matches) {
      matches = Object.freeze(matchRegistrations(caller, entries, trustDomain)) as RegistrationMatch[];
      if (byCaller.size >= MAX_CALLERS_PER_LIST) byCaller.clear();
      byCaller.set(key, matches);
    }
    return matches;
  };
}
