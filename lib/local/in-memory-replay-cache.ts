import { type Clock, epochSeconds, systemClock } from "../clock.js";
import type { ReplayCache } from "../ports/replay-cache.js";

/** ReplayCache in process memory (dev, tests). Bounded: expired keys are swept as it grows. */
export class InMemoryReplayCache implements ReplayCache {
  readonly #seen = new Map<string, number>();
  constructor(private readonly clock: Clock = systemClock) {}

  async remember(key: string, expiresAt: number): Promise<boolean> {
    const now = epochSeconds(this.clock);
    const existing = this.#seen.get(key);
    if (existing !== undefined && existing > now) return false;
    if (this.#seen.size > 10_000) for (const [k, exp] of this.#seen) if (exp <= now) this.#seen.delete(k);
    this.#seen.set(key, expiresAt);
    return true;
  }
}
