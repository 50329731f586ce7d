import { describe, expect, it } from "vitest";
import { ManualClock } from "../../lib/clock.js";
import { InMemoryReplayCache } from "../../lib/local/in-memory-replay-cache.js";

describe("InMemoryReplayCache", () => {
  it("accepts a key once until it expires, then once again", async () => {
    const clock = new ManualClock(1_000_000);
    const cache = new InMemoryReplayCache(clock);
    expect(await cache.remember("a", 1_060)).toBe(true);
    expect(await cache.remember("a", 1_060)).toBe(false);
    clock.advance(60_000);
    expect(await cache.remember("a", 1_120)).toBe(true);
  });

  it("sweeps expired keys once it has doubled, and never forgets a live one", async () => {
    const clock = new ManualClock(0);
    const cache = new InMemoryReplayCache(clock);
    for (let i = 0; i < 10_000; i++) expect(await cache.remember(`old-${i}`, 10)).toBe(true);
    expect(await cache.remember("live", 1_000)).toBe(true);
    clock.advance(20_000); // every old-* key has expired; "live" has not
    for (let i = 0; i < 10_000; i++) expect(await cache.remember(`new-${i}`, 1_000)).toBe(true);
    // The sweep at 20,000 keys dropped the 10,000 expired ones.
    expect(cache.size).toBe(10_001);
    expect(await cache.remember("live", 1_000)).toBe(false);
    expect(await cache.remember("new-1", 1_000)).toBe(false);
    expect(await cache.remember("old-1", 1_000)).toBe(true);
  });
});
