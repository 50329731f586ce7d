/**
 * Reads the key set through a short in-memory cache: the discovery Lambda and the
 * exchange answer many requests per DynamoDB read. Concurrent misses share one read.
 * The TTL is seconds: a rotation publishes keys a publication period ahead, so a few
 * seconds of staleness here never hides a key that is already signing.
 */
import type { Clock } from "../clock.js";
import type { KeySet } from "./key-set.js";
import type { KeySetStore } from "./key-set-store.js";

export class KeySetCache {
  readonly #store: KeySetStore;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  #entry: { set: KeySet; expiresAt: number } | undefined;
  #pending: Promise<KeySet> | undefined;

  constructor(options: { store: KeySetStore; clock: Clock; ttlSeconds: number }) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#ttlMs = options.ttlSeconds * 1000;
  }

  async get(): Promise<KeySet> {
    const now = this.#clock.now();
    if (this.#entry && now < this.#entry.expiresAt) return this.#entry.set;
    if (!this.#pending) {
      this.#pending = this.#store
        .get()
        .then((set) => {
          this.#entry = { set, expiresAt: this.#clock.now() + this.#ttlMs };
          return set;
        })
        .finally(() => {
          this.#pending = undefined;
        });
    }
    return this.#pending;
  }

  /** Forgets the cached set (after this process wrote a new one). */
  invalidate(): void {
    this.#entry = undefined;
  }
}
