import { describe, expect, it } from "vitest";
import { ManualClock } from "../../lib/clock.js";
import { BridgeError } from "../../lib/errors.js";
import { InMemoryRegistrationStore } from "../../lib/local/in-memory-registration-store.js";
import type { RegistrationEntry } from "../../lib/ports/registration-store.js";
import { CachingRegistrationStore } from "../../lib/registrations/caching-registration-store.js";
import { entry, registrationStoreContract } from "./store-contract.js";

/** Counts the hot-path lookups that reach the inner store. */
class CountingStore extends InMemoryRegistrationStore {
  lookups = 0;
  failNext = false;
  override async findByAccountAndRole(account: string, roleName: string): Promise<RegistrationEntry[]> {
    this.lookups++;
    if (this.failNext) {
      this.failNext = false;
      throw new BridgeError("store_unavailable", "down");
    }
    return super.findByAccountAndRole(account, roleName);
  }
}

describe("CachingRegistrationStore", () => {
  registrationStoreContract(async () => new CachingRegistrationStore(new InMemoryRegistrationStore()));

  it("answers repeat lookups from memory until the TTL passes", async () => {
    const clock = new ManualClock(0);
    const inner = new CountingStore();
    await inner.create(entry("a"));
    const cache = new CachingRegistrationStore(inner, { ttlMs: 5000, clock });
    await cache.findByAccountAndRole("111122223333", "app");
    await cache.findByAccountAndRole("111122223333", "app");
    expect(inner.lookups).toBe(1);
    clock.advance(5000);
    await cache.findByAccountAndRole("111122223333", "app");
    expect(inner.lookups).toBe(2);
  });

  it("hands out entries no caller can change for the next one", async () => {
    const inner = new CountingStore();
    await inner.create(entry("a"));
    const cache = new CachingRegistrationStore(inner);
    const [first] = await cache.findByAccountAndRole("111122223333", "app");
    const spiffeId = first!.spiffeId;
    expect(() => {
      (first as { spiffeId: string }).spiffeId = "spiffe://example.org/hijacked";
    }).toThrow(TypeError);
    expect(() => {
      (first!.selectors as { roleName: string }).roleName = "admin";
    }).toThrow(TypeError);
    expect(() => (first!.kinds as string[]).push("x509")).toThrow(TypeError);
    const [again] = await cache.findByAccountAndRole("111122223333", "app");
    expect(again!.spiffeId).toBe(spiffeId);
    expect(again!.selectors.roleName).toBe("app");
    expect(inner.lookups).toBe(1);
  });

  it("caches empty answers, so an unregistered caller's retries cost no Query", async () => {
    const inner = new CountingStore();
    const cache = new CachingRegistrationStore(inner, { clock: new ManualClock(0) });
    for (let i = 0; i < 3; i++)
      expect(await cache.findByAccountAndRole("111122223333", "nobody")).toEqual([]);
    expect(inner.lookups).toBe(1);
  });

  it("shares one lookup among concurrent misses and never caches a failure", async () => {
    const inner = new CountingStore();
    const cache = new CachingRegistrationStore(inner, { clock: new ManualClock(0) });
    await Promise.all([1, 2, 3].map(() => cache.findByAccountAndRole("111122223333", "app")));
    expect(inner.lookups).toBe(1);
    cache.clear();
    inner.failNext = true;
    await expect(cache.findByAccountAndRole("111122223333", "app")).rejects.toThrow("down");
    await cache.findByAccountAndRole("111122223333", "app");
    expect(inner.lookups).toBe(3);
  });

  it("holds at most maxEntries keys, dropping the least recently used", async () => {
    const inner = new CountingStore();
    const cache = new CachingRegistrationStore(inner, { maxEntries: 2, clock: new ManualClock(0) });
    await cache.findByAccountAndRole("111122223333", "r1");
    await cache.findByAccountAndRole("111122223333", "r2");
    await cache.findByAccountAndRole("111122223333", "r1");
    await cache.findByAccountAndRole("111122223333", "r3");
    expect(cache.size).toBe(2);
    const before = inner.lookups;
    await cache.findByAccountAndRole("111122223333", "r1");
    expect(inner.lookups).toBe(before);
    await cache.findByAccountAndRole("111122223333", "r2");
    expect(inner.lookups).toBe(before + 1);
  });

  it("drops the keys its own writes touch, old and new account+role", async () => {
    const inner = new CountingStore();
    const cache = new CachingRegistrationStore(inner, { clock: new ManualClock(0) });
    expect(await cache.findByAccountAndRole("111122223333", "app")).toEqual([]);
    const created = await cache.create(entry("x"));
    expect((await cache.findByAccountAndRole("111122223333", "app")).map((e) => e.id)).toEqual(["x"]);
    await cache.update(
      { ...entry("x"), selectors: { account: "111122223333", roleName: "moved" } },
      created.version,
    );
    expect(await cache.findByAccountAndRole("111122223333", "app")).toEqual([]);
    expect((await cache.findByAccountAndRole("111122223333", "moved")).map((e) => e.id)).toEqual(["x"]);
  });
});
