import { describe, expect, it } from "vitest";
import { ManualClock } from "../../lib/clock.js";
import { intermediateFromRecord } from "../../lib/keyset/x509-authority.js";
import { InMemoryKeySetStore } from "../../lib/local/in-memory-key-set-store.js";
import { LocalCaRenewer } from "../../lib/local/local-ca-renewer.js";
import { caNeedsRenewal } from "../../lib/rotation/ca-renewer.js";
import { rotateKeys } from "../../lib/rotation/rotate-keys.js";
import { TrustBundle } from "../../lib/spiffe/bundle.js";
import { SpiffeId, TrustDomain } from "../../lib/spiffe/spiffe-id.js";
import { parseCertificatesPem, validateX509Svid } from "../../lib/spiffe/x509-svid.js";
import { makeWorkloadKey, spkiOf } from "../support/x509-fixtures.js";
import { DeletingKeyManager } from "./helpers.js";

const td = TrustDomain.parse("bridge.example.com");
const DAY = 24 * 3600;
const T0 = Date.UTC(2026, 0, 1);

describe("intermediate CA renewal", () => {
  it("caNeedsRenewal: missing record, or half the life gone", () => {
    const record = {
      certificatePem: "",
      chainPem: "",
      keyId: "k",
      trustAnchorsPem: "",
      notBefore: 1000,
      notAfter: 3000,
    };
    expect(caNeedsRenewal(undefined, 0)).toBe(true);
    expect(caNeedsRenewal(record, 1999)).toBe(false);
    expect(caNeedsRenewal(record, 2000)).toBe(true);
  });

  it("creates the intermediate on the first run, renews it at half-life, keeps the root, deletes the old key", async () => {
    const clock = new ManualClock(T0);
    const keys = new DeletingKeyManager();
    const store = new InMemoryKeySetStore();
    const caRenewer = await LocalCaRenewer.create({
      trustDomain: td,
      keys,
      clock,
      intermediateTtlSeconds: 8 * DAY,
    });
    const rotate = () => rotateKeys({ store, keys, clock, caRenewer, config: { alg: "ES256" } });

    expect((await rotate()).actions.map((a) => a.type)).toContain("ca_renewed");
    const first = (await store.get()).x509!;
    expect(first.notAfter - first.notBefore).toBeGreaterThanOrEqual(8 * DAY);

    clock.set(T0 + 3 * DAY * 1000);
    expect((await rotate()).actions.map((a) => a.type)).not.toContain("ca_renewed");

    clock.set((first.notBefore + (first.notAfter - first.notBefore) / 2 + 1) * 1000);
    expect((await rotate()).actions.map((a) => a.type)).toContain("ca_renewed");
    const second = (await store.get()).x509!;
    expect(second.keyId).not.toBe(first.keyId);
    expect(second.trustAnchorsPem).toBe(first.trustAnchorsPem);
    expect(second.notAfter).toBeGreaterThan(first.notAfter);
    expect(keys.deleted).toContain(first.keyId);

    // The exchange's view: a leaf from the renewed intermediate validates against the anchors.
    const ca = await intermediateFromRecord(second, keys, clock);
    const workloadKey = await makeWorkloadKey("ec-p256");
    const issued = await ca.issue({
      spiffeId: SpiffeId.parse("spiffe://bridge.example.com/app"),
      subjectPublicKey: await spkiOf(workloadKey),
      ttlSeconds: 3600,
    });
    const bundle = new TrustBundle({
      trustDomain: td,
      x509Authorities: parseCertificatesPem(second.trustAnchorsPem),
    });
    expect(validateX509Svid(issued.chain, bundle, { clock }).spiffeId.toString()).toBe(
      "spiffe://bridge.example.com/app",
    );
    // No leaf outlives its issuer.
    expect(issued.chain[0]!.notAfter.getTime()).toBeLessThanOrEqual(issued.chain[1]!.notAfter.getTime());
  });
});
