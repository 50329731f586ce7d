import { type Clock, epochSeconds, systemClock } from "../clock.js";
import type { ReplayCache } from "../ports/replay-cache.js";

const FIRST_SWEEP_AT = 10_000;

/**
 * ReplayCache in process memory (dev, tests). Expired keys are swept as it grows, each
 * time it has doubled since the last sweep: amortised O(1) per call. (Sweeping on every
 * call past a fixed size made each call scan the whole map once more than 10,000 proofs
 * were alive, which the exchange benchmark measured as handler cost.)
 */
export class InMemoryReplayCache implements ReplayCache {
  readonly #seen = new Map<string, number>();
  #sweepAt = FIRST_SWEEP_AT;
  constructor(private readonly clock: Clock = systemClock) {}

  /** Keys held, expired or not (for tests). */
  get size(): number {
    return this.#seen.size;
  }

  async remember(key: string, expiresAt: number): Promise<boolean> {
    const now = epochSeconds(this.clock);
    const existing = this.#seen.get(key);
    if (existing !== undefined && existing > now) return false;
    if (this.#seen.size >= this.#sweepAt) {
      for (const [k, exp] of this.#seen) if (exp <= now) this.#seen.delete(k);
      this.#sweepAt = Math.max(FIRST_SWEEP_AT, this.#seen.size * 2);
    }
    this.#seen.set(key, expiresAt);
    return true;
  }
}
