/**
 * From a verified caller to its registrations: one lookup by account + role name (a
 * single Query, or the in-process cache), then the matching rules of lib/registrations.
 */
import type { CallerIdentity } from "../ports/caller-verifier.js";
import type { RegistrationStore } from "../ports/registration-store.js";
import { matchRegistrations } from "../registrations/match-registrations.js";
import type { TrustDomain } from "../spiffe/spiffe-id.js";
import type { RegistrationResolver } from "./exchange-service.js";

export function registrationResolver(
  store: Pick<RegistrationStore, "findByAccountAndRole">,
  trustDomain: TrustDomain,
): RegistrationResolver {
  return async (caller: CallerIdentity) => {
    const entries = await store.findByAccountAndRole(caller.account, caller.roleName);
    return matchRegistrations(caller, entries, trustDomain);
  };
}
