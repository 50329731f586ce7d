import { describe, expect, it } from "vitest";
import { ManualClock } from "../../lib/clock.js";
import { errorCodeOf } from "../../lib/errors.js";
import { activeKey, type KeySet } from "../../lib/keyset/key-set.js";
import { InMemoryKeySetStore } from "../../lib/local/in-memory-key-set-store.js";
import { getActiveSigner, getActiveSigningKey } from "../../lib/rotation/active-key.js";
import { listKeys, rotateNow } from "../../lib/rotation/operations.js";
import { rotateKeys } from "../../lib/rotation/rotate-keys.js";
import {
  DEFAULT_ROTATION_CONFIG,
  resolveRotationConfig,
  retentionSeconds,
} from "../../lib/rotation/rotation-config.js";
import { DeletingKeyManager, ObservedStore } from "./helpers.js";

const T0 = Date.UTC(2026, 0, 1);
const HOUR = 3600;
const config = { alg: "ES256" as const }; // defaults otherwise; ES256 keys are quick to make

function setup() {
  const clock = new ManualClock(T0);
  const keys = new DeletingKeyManager();
  const store = new InMemoryKeySetStore();
  const rotate = () => rotateKeys({ store, keys, clock, config });
  return { clock, keys, store, rotate };
}

const states = (set: KeySet) => set.jwtKeys.map((k) => k.state).sort();

describe("rotateKeys", () => {
  it("activates a key at once on an empty set, so the bridge works right after deploy", async () => {
    const { store, rotate, keys } = setup();
    await expect(getActiveSigningKey(store)).rejects.toMatchObject({ code: "not_ready", status: 503 });
    const result = await rotate();
    expect(result.changed).toBe(true);
    expect(result.sequence).toBe(1);
    const set = await store.get();
    expect(states(set)).toEqual(["active"]);
    const active = activeKey(set)!;
    expect(active.activatedAt).toBe(T0 / 1000);
    expect(result.activeKid).toBe(active.kid);
    const signer = await getActiveSigner(store, keys);
    expect(signer.kid).toBe(active.kid);
    expect(active.kid).toBe((await keys.getPublicKey(active.keyId)).thumbprint);
  });

  it("is idempotent: a second run with nothing due changes nothing", async () => {
    const { store, rotate, clock } = setup();
    await rotate();
    clock.advance(HOUR * 1000);
    const again = await rotate();
    expect(again).toMatchObject({ changed: false, sequence: 1, actions: [] });
    expect((await store.get()).sequence).toBe(1);
  });

  it("prepares the successor one publication lead before it activates, then retires and drops the old key", async () => {
    const { store, rotate, clock, keys } = setup();
    await rotate();
    const first = activeKey(await store.get())!;
    const lead = DEFAULT_ROTATION_CONFIG.publicationLeadSeconds;
    const period = DEFAULT_ROTATION_CONFIG.rotationPeriodSeconds;

    clock.set(T0 + (period - lead - 1) * 1000);
    expect((await rotate()).changed).toBe(false);

    clock.set(T0 + (period - lead) * 1000);
    const prepared = await rotate();
    expect(prepared.actions.map((a) => a.type)).toEqual(["created"]);
    let set = await store.get();
    expect(states(set)).toEqual(["active", "prepared"]);
    const next = set.jwtKeys.find((k) => k.state === "prepared")!;
    expect(next.activateAfter).toBe(T0 / 1000 + period);
    expect(next.activateAfter - next.createdAt).toBeGreaterThanOrEqual(lead);

    clock.set((next.activateAfter - 1) * 1000);
    expect((await rotate()).changed).toBe(false);

    clock.set(next.activateAfter * 1000);
    const swapped = await rotate();
    expect(swapped.actions.map((a) => a.type)).toEqual(["retired", "activated"]);
    set = await store.get();
    expect(activeKey(set)!.kid).toBe(next.kid);
    const retired = set.jwtKeys.find((k) => k.kid === first.kid)!;
    expect(retired.state).toBe("retired");
    expect(retired.publishUntil! - retired.retiredAt!).toBe(retentionSeconds(resolveRotationConfig(config)));
    expect(retired.publishUntil! - retired.retiredAt!).toBeGreaterThanOrEqual(
      DEFAULT_ROTATION_CONFIG.maxJwtTtlSeconds + DEFAULT_ROTATION_CONFIG.clockSkewSeconds,
    );

    clock.set((retired.publishUntil! - 1) * 1000);
    expect((await rotate()).changed).toBe(false);
    expect(keys.deleted).toEqual([]);

    clock.set(retired.publishUntil! * 1000);
    const dropped = await rotate();
    expect(dropped.actions).toEqual([{ type: "dropped", kid: first.kid }]);
    expect((await store.get()).jwtKeys.map((k) => k.kid)).toEqual([next.kid]);
    expect(keys.deleted).toEqual([first.keyId]);
  });

  it("over days of hourly runs keeps exactly one active key, publishes each key a lead before it signs and keeps it after", async () => {
    const { store, rotate, clock } = setup();
    const cfg = resolveRotationConfig(config);
    const firstSeen = new Map<string, number>();
    const lastSeen = new Map<string, number>();
    const signedUntil = new Map<string, number>();
    let previousSequence = 0;
    let firstKid: string | undefined;
    for (let hour = 0; hour <= 24 * 6; hour++) {
      clock.set(T0 + hour * HOUR * 1000 + 17_000);
      await rotate();
      const set = await store.get();
      const now = Math.floor(clock.now() / 1000);
      firstKid ??= activeKey(set)?.kid;
      expect(set.jwtKeys.filter((k) => k.state === "active")).toHaveLength(1);
      expect(set.sequence).toBeGreaterThanOrEqual(previousSequence);
      previousSequence = set.sequence;
      for (const k of set.jwtKeys) {
        if (!firstSeen.has(k.kid)) firstSeen.set(k.kid, now);
        lastSeen.set(k.kid, now);
        if (k.state === "active") signedUntil.set(k.kid, now);
      }
      const active = activeKey(set)!;
      if (hour > 0 && active.kid !== firstKid)
        expect(active.activatedAt! - firstSeen.get(active.kid)!).toBeGreaterThanOrEqual(
          cfg.publicationLeadSeconds,
        );
    }
    expect(signedUntil.size).toBeGreaterThanOrEqual(6);
    // Every key that stopped signing stayed published for the longest token lifetime after.
    for (const [kid, until] of signedUntil) {
      if (lastSeen.get(kid) === Math.floor(clock.now() / 1000)) continue; // still published
      expect(lastSeen.get(kid)! - until).toBeGreaterThanOrEqual(cfg.maxJwtTtlSeconds + cfg.clockSkewSeconds);
    }
  });

  it("rotateNow prepares a successor at once, to activate one lead later, never sooner", async () => {
    const { store, clock, keys } = setup();
    await rotateKeys({ store, keys, clock, config });
    clock.advance(60_000);
    const result = await rotateNow({ store, keys, clock, config });
    expect(result.actions.map((a) => a.type)).toEqual(["created"]);
    const prepared = (await store.get()).jwtKeys.find((k) => k.state === "prepared")!;
    expect(prepared.activateAfter).toBe(result.now + DEFAULT_ROTATION_CONFIG.publicationLeadSeconds);
    // A second --now does not stack another key.
    expect((await rotateNow({ store, keys, clock, config })).changed).toBe(false);
    const listing = await listKeys(store);
    expect(listing.keys.map((k) => k.state)).toEqual(["active", "prepared"]);
    expect(listing.keys[1]!.activateAfter).toBe(new Date(prepared.activateAfter * 1000).toISOString());
  });

  it("activates a published prepared key at once when the set has no active key", async () => {
    const { store, clock, keys } = setup();
    const info = await keys.createKey("ES256");
    const now = T0 / 1000;
    await store.put(
      {
        jwtKeys: [
          {
            kid: info.thumbprint,
            keyId: info.keyId,
            alg: "ES256",
            jwk: info.jwk,
            state: "prepared",
            createdAt: now,
            activateAfter: now + 3600,
          },
        ],
        updatedAt: now,
      },
      0,
    );
    const result = await rotateKeys({ store, keys, clock, config });
    expect(result.actions).toEqual([{ type: "activated", kid: info.thumbprint }]);
    expect(states(await store.get())).toEqual(["active"]);
  });

  it("on a lost race gives back the key it made and finds the winner's work", async () => {
    const clock = new ManualClock(T0);
    const keys = new DeletingKeyManager();
    const store = new ObservedStore(new InMemoryKeySetStore(), { failNextPut: true });
    const result = await rotateKeys({ store, keys, clock, config });
    expect(store.conflicts).toBe(1);
    expect(keys.deleted).toHaveLength(1);
    const set = await store.get();
    expect(set.jwtKeys.map((k) => k.keyId)).not.toContain(keys.deleted[0]);
    expect(result.activeKid).toBe(activeKey(set)!.kid);
  });

  it("gives up with version_conflict after maxAttempts lost races", async () => {
    const clock = new ManualClock(T0);
    const keys = new DeletingKeyManager();
    const inner = new InMemoryKeySetStore();
    const alwaysLoses = {
      get: () => inner.get(),
      put: async () => {
        const { BridgeError } = await import("../../lib/errors.js");
        throw new BridgeError("version_conflict", "lost");
      },
    };
    const error = await rotateKeys({ store: alwaysLoses, keys, clock, config, maxAttempts: 3 }).catch(
      (e) => e,
    );
    expect(errorCodeOf(error)).toBe("version_conflict");
    expect(keys.deleted).toHaveLength(3);
  });

  it("refuses a publication lead not shorter than the rotation period", () => {
    expect(() => resolveRotationConfig({ publicationLeadSeconds: 86_400 })).toThrow(
      expect.objectContaining({ code: "config_invalid" }),
    );
    expect(() => resolveRotationConfig({ maxJwtTtlSeconds: -1 })).toThrow(
      expect.objectContaining({ code: "config_invalid" }),
    );
  });

  it("refuses to sign with a key manager key whose thumbprint is not the published kid", async () => {
    const { store, rotate, keys } = setup();
    await rotate();
    const other = new DeletingKeyManager();
    const stranger = await other.createKey("ES256");
    const set = await store.get();
    // Same handle, different key behind it: e.g. a key manager pointed at the wrong account.
    const lying = {
      ...other,
      createKey: other.createKey.bind(other),
      sign: other.sign.bind(other),
      getPublicKey: async () => ({ ...stranger, keyId: activeKey(set)!.keyId }),
    };
    await expect(getActiveSigner(store, lying)).rejects.toMatchObject({ code: "key_unavailable" });
    await expect(getActiveSigner(store, keys)).resolves.toBeDefined();
  });
});
