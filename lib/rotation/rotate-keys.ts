/**
 * The rotation: run on a schedule (and by `svid-bridge rotate --now`), idempotent, safe
 * to run twice at once. Each run reads the key set, decides what is due, makes any new
 * key, and writes the set back with ONE conditional write; a lost race throws the new
 * key away and starts over from what the winner wrote.
 *
 * A JWT key's life:
 *   prepared  published, not signing; from createdAt until activateAfter
 *             (≥ publicationLeadSeconds later, so every cache has seen it)
 *   active    the one key the exchange signs with; rotationPeriodSeconds long
 *   retired   published, not signing, until publishUntil = retiredAt + retention
 *             (every token it signed has expired, plus skew)
 *   dropped   removed from the set; then KeyManager.scheduleDeletion, if offered
 * An empty set (first deploy) gets a key that is active at once: nothing can have
 * cached an empty JWKS that matters, and the bridge must work right after deploy.
 */
import { type Clock, epochSeconds } from "../clock.js";
import { BridgeError, errorCodeOf } from "../errors.js";
import { activeKey, type JwtSigningKey, type KeySet, preparedKeys } from "../keyset/key-set.js";
import type { KeySetStore } from "../keyset/key-set-store.js";
import type { KeyManager, PublicKeyInfo } from "../ports/key-manager.js";
import { type CaRenewer, caNeedsRenewal } from "./ca-renewer.js";
import { type RotationConfig, resolveRotationConfig, retentionSeconds } from "./rotation-config.js";

export type RotationAction =
  | { type: "created"; kid: string; activateAfter: number }
  | { type: "activated"; kid: string }
  | { type: "retired"; kid: string; publishUntil: number }
  | { type: "dropped"; kid: string }
  | { type: "ca_renewed"; notAfter: number };

export interface RotationResult {
  /** The key set's sequence after the run (unchanged when nothing was due). */
  sequence: number;
  changed: boolean;
  actions: RotationAction[];
  /** kid of the active key after the run. */
  activeKid: string | undefined;
  /** Keys dropped from the set whose deletion the KeyManager refused (left for an operator). */
  deletionFailures: { keyId: string; reason: string }[];
}

export interface RotateKeysOptions {
  store: KeySetStore;
  keys: KeyManager;
  clock: Clock;
  config?: Partial<RotationConfig>;
  /** Renews the intermediate CA; absent when the bridge has no intermediate (direct mode, JWT only). */
  caRenewer?: CaRenewer;
  /** Prepare the next key now, whatever the schedule says (`svid-bridge rotate --now`). */
  force?: boolean;
  /** Attempts on a lost race before giving up with `version_conflict`. Default 5. */
  maxAttempts?: number;
}

type NewKeyMode = "activate-now" | "prepare" | undefined;

/** A key made for this run; `force` activates it one publication lead from now, not on schedule. */
export interface NewKey {
  info: PublicKeyInfo;
  mode: Exclude<NewKeyMode, undefined>;
  force?: boolean;
}

/** What the set needs: a key active at once (empty set), a prepared successor, or nothing. */
export function newKeyNeeded(
  set: KeySet,
  nowSeconds: number,
  config: RotationConfig,
  force = false,
): NewKeyMode {
  const active = activeKey(set);
  const prepared = preparedKeys(set);
  if (!active && prepared.length === 0) return "activate-now";
  if (!active || prepared.length > 0) return undefined;
  const due = (active.activatedAt ?? 0) + config.rotationPeriodSeconds - config.publicationLeadSeconds;
  return force || nowSeconds >= due ? "prepare" : undefined;
}

/**
 * Pure: the set after this run's transitions, given the key made for it (if any).
 * Returns the next set (without sequence), the actions, and the keys dropped.
 */
export function advanceKeySet(
  set: KeySet,
  nowSeconds: number,
  config: RotationConfig,
  created?: NewKey,
): { next: Omit<KeySet, "sequence">; actions: RotationAction[]; dropped: JwtSigningKey[] } {
  const actions: RotationAction[] = [];
  let keys = set.jwtKeys.map((k) => ({ ...k }));

  if (created) {
    const current = keys.find((k) => k.state === "active");
    const activateAfter =
      created.mode === "activate-now"
        ? nowSeconds
        : created.force
          ? nowSeconds + config.publicationLeadSeconds
          : Math.max(
              nowSeconds + config.publicationLeadSeconds,
              (current?.activatedAt ?? nowSeconds) + config.rotationPeriodSeconds,
            );
    keys.push({
      kid: created.info.thumbprint,
      keyId: created.info.keyId,
      alg: created.info.alg,
      jwk: created.info.jwk,
      state: created.mode === "activate-now" ? "active" : "prepared",
      createdAt: nowSeconds,
      activateAfter,
      ...(created.mode === "activate-now" && { activatedAt: nowSeconds }),
    });
    actions.push({ type: "created", kid: created.info.thumbprint, activateAfter });
    if (created.mode === "activate-now") actions.push({ type: "activated", kid: created.info.thumbprint });
  }

  const byAge = (a: JwtSigningKey, b: JwtSigningKey) => a.createdAt - b.createdAt;
  const active = keys.find((k) => k.state === "active");
  const prepared = keys.filter((k) => k.state === "prepared").sort(byAge);
  // With no active key (it was removed by hand, or a run died half-way in an older
  // version), the oldest prepared key signs at once: it has been published since its
  // creation, and a bridge that cannot sign is down.
  const successor = active ? prepared.find((k) => k.activateAfter <= nowSeconds) : prepared[0];
  if (successor) {
    if (active) {
      active.state = "retired";
      active.retiredAt = nowSeconds;
      active.publishUntil = nowSeconds + retentionSeconds(config);
      actions.push({ type: "retired", kid: active.kid, publishUntil: active.publishUntil });
    }
    successor.state = "active";
    successor.activatedAt = nowSeconds;
    actions.push({ type: "activated", kid: successor.kid });
  }

  const dropped = keys.filter((k) => k.state === "retired" && (k.publishUntil ?? 0) <= nowSeconds);
  if (dropped.length > 0) {
    keys = keys.filter((k) => !dropped.includes(k));
    for (const k of dropped) actions.push({ type: "dropped", kid: k.kid });
  }

  return {
    next: { jwtKeys: keys, ...(set.x509 && { x509: set.x509 }), updatedAt: nowSeconds },
    actions,
    dropped,
  };
}

export async function rotateKeys(options: RotateKeysOptions): Promise<RotationResult> {
  const config = resolveRotationConfig(options.config);
  const maxAttempts = options.maxAttempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    const set = await options.store.get();
    const now = epochSeconds(options.clock);
    const mode = newKeyNeeded(set, now, config, options.force);
    const made: string[] = []; // KeyManager handles made in this attempt: deleted if the write loses.
    try {
      let created: NewKey | undefined;
      if (mode) {
        const info = await options.keys.createKey(config.alg, {
          description: `svid-bridge JWT-SVID signing key (${mode === "activate-now" ? "initial" : "rotation"})`,
        });
        made.push(info.keyId);
        created = { info, mode, force: options.force === true };
      }
      const { next, actions, dropped } = advanceKeySet(set, now, config, created);
      const retiredCaKey = set.x509?.keyId;
      let caRenewed = false;
      if (options.caRenewer && caNeedsRenewal(set.x509, now)) {
        const record = await options.caRenewer.renew(set.x509);
        made.push(record.keyId);
        next.x509 = record;
        caRenewed = true;
        actions.push({ type: "ca_renewed", notAfter: record.notAfter });
      }
      if (actions.length === 0) {
        return {
          sequence: set.sequence,
          changed: false,
          actions,
          activeKid: activeKey(set)?.kid,
          deletionFailures: [],
        };
      }
      const stored = await options.store.put(next, set.sequence);
      made.length = 0; // written: these keys are the set's now.
      // Deletion only after the write: a key leaves the KeyManager only once no stored
      // set names it. The CA's previous key is safe to schedule too: KMS waits ≥ 7 days,
      // far longer than an exchange sandbox keeps a cached CA.
      const deletionFailures = await scheduleDeletions(options.keys, [
        ...dropped.map((k) => k.keyId),
        ...(caRenewed && retiredCaKey ? [retiredCaKey] : []),
      ]);
      return {
        sequence: stored.sequence,
        changed: true,
        actions,
        activeKid: activeKey(stored)?.kid,
        deletionFailures,
      };
    } catch (error) {
      // Lost the race (or failed half-way): nothing we made is in the set; give it back.
      await scheduleDeletions(options.keys, made);
      if (errorCodeOf(error) !== "version_conflict") throw error;
      if (attempt >= maxAttempts)
        throw new BridgeError("version_conflict", `key set rotation lost ${attempt} races in a row`, {
          cause: error,
        });
    }
  }
}

async function scheduleDeletions(keys: KeyManager, keyIds: readonly string[]) {
  const failures: { keyId: string; reason: string }[] = [];
  if (!keys.scheduleDeletion) return failures;
  for (const keyId of keyIds) {
    try {
      await keys.scheduleDeletion(keyId);
    } catch (error) {
      failures.push({ keyId, reason: error instanceof Error ? error.message : String(error) });
    }
  }
  return failures;
}
