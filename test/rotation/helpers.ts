/** Test parts shared by the rotation and discovery tests. */

import type { KeySet } from "../../lib/keyset/key-set.js";
import type { KeySetStore } from "../../lib/keyset/key-set-store.js";
import { InMemoryKeyManager } from "../../lib/local/in-memory-key-manager.js";

/** The local key manager plus the optional deletion the KMS adapter offers, recorded. */
export class DeletingKeyManager extends InMemoryKeyManager {
  readonly deleted: string[] = [];
  async scheduleDeletion(keyId: string): Promise<void> {
    await this.getPublicKey(keyId); // throws key_not_found for a key never made here
    this.deleted.push(keyId);
  }
}

/** Wraps a store: counts reads and conflicts, and can hold the first N reads until all N arrived. */
export class ObservedStore implements KeySetStore {
  reads = 0;
  conflicts = 0;
  #waiting: (() => void)[] = [];
  #barrier: number;
  #failNextPut: boolean;

  constructor(
    readonly inner: KeySetStore,
    options: { barrier?: number; failNextPut?: boolean } = {},
  ) {
    this.#barrier = options.barrier ?? 0;
    this.#failNextPut = options.failNextPut ?? false;
  }

  async get(): Promise<KeySet> {
    this.reads++;
    const set = await this.inner.get();
    if (this.#barrier > 0) {
      // Every racer reads the same set before any of them writes: a real race, every time.
      await new Promise<void>((resolve) => {
        this.#waiting.push(resolve);
        if (this.#waiting.length >= this.#barrier) {
          this.#barrier = 0;
          for (const release of this.#waiting.splice(0)) release();
        }
      });
    }
    return set;
  }

  async put(next: Omit<KeySet, "sequence">, expectedSequence: number): Promise<KeySet> {
    try {
      if (this.#failNextPut) {
        this.#failNextPut = false;
        // Someone else wrote in between: bump the stored set, then try ours (which loses).
        const current = await this.inner.get();
        const { sequence, ...rest } = current;
        await this.inner.put(rest, sequence);
      }
      return await this.inner.put(next, expectedSequence);
    } catch (error) {
      if ((error as { code?: string }).code === "version_conflict") this.conflicts++;
      throw error;
    }
  }
}
