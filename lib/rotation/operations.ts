/**
 * What the CLI's `svid-bridge keys` and `svid-bridge rotate --now` call (the commands
 * live with the CLI framework; these functions are their whole logic).
 */
import { type Clock, epochSeconds } from "../clock.js";
import type { JwtKeyState, KeySet } from "../keyset/key-set.js";
import type { KeySetStore } from "../keyset/key-set-store.js";
import type { KeyManager } from "../ports/key-manager.js";
import type { CaRenewer } from "./ca-renewer.js";
import { type RotationResult, rotateKeys } from "./rotate-keys.js";
import type { RotationConfig } from "./rotation-config.js";

export interface KeyListing {
  sequence: number;
  keys: {
    kid: string;
    keyId: string;
    alg: string;
    state: JwtKeyState;
    createdAt: string;
    activateAfter: string;
    activatedAt?: string;
    retiredAt?: string;
    publishUntil?: string;
  }[];
  x509?: { keyId: string; notBefore: string; notAfter: string };
}

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

/** The key set for operators: every key with its state and times (ISO 8601), oldest first. */
export async function listKeys(store: Pick<KeySetStore, "get">): Promise<KeyListing> {
  const set: KeySet = await store.get();
  return {
    sequence: set.sequence,
    keys: [...set.jwtKeys]
      .sort((a, b) => a.createdAt - b.createdAt)
      .map((k) => ({
        kid: k.kid,
        keyId: k.keyId,
        alg: k.alg,
        state: k.state,
        createdAt: iso(k.createdAt),
        activateAfter: iso(k.activateAfter),
        ...(k.activatedAt !== undefined && { activatedAt: iso(k.activatedAt) }),
        ...(k.retiredAt !== undefined && { retiredAt: iso(k.retiredAt) }),
        ...(k.publishUntil !== undefined && { publishUntil: iso(k.publishUntil) }),
      })),
    ...(set.x509 && {
      x509: { keyId: set.x509.keyId, notBefore: iso(set.x509.notBefore), notAfter: iso(set.x509.notAfter) },
    }),
  };
}

export interface RotateNowOptions {
  store: KeySetStore;
  keys: KeyManager;
  clock: Clock;
  config?: Partial<RotationConfig>;
  caRenewer?: CaRenewer;
}

/**
 * Starts a rotation now: prepares the next key at once (unless one is already prepared),
 * to become active one publication lead later. It never activates a key that has not
 * been published for that long: SPIFFE requires keys to be published before first use,
 * and caches (AWS IAM's among them) would refuse tokens signed by a key they have not seen.
 * Also performs whatever else is due (activation, drops, CA renewal).
 */
export async function rotateNow(options: RotateNowOptions): Promise<RotationResult & { now: number }> {
  const result = await rotateKeys({ ...options, force: true });
  return { ...result, now: epochSeconds(options.clock) };
}
