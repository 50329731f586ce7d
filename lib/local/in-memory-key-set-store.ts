/**
 * KeySetStore in process memory: `svid-bridge dev`, tests. Same contract as the
 * DynamoDB adapter: compare-and-swap on the sequence, invariants checked on write,
 * and copies in and out so a caller cannot change the stored set by accident.
 */
import { BridgeError } from "../errors.js";
import { assertKeySetInvariants, EMPTY_KEY_SET, type KeySet } from "../keyset/key-set.js";
import type { KeySetStore } from "../keyset/key-set-store.js";

export class InMemoryKeySetStore implements KeySetStore {
  #set: KeySet = structuredClone(EMPTY_KEY_SET) as KeySet;

  async get(): Promise<KeySet> {
    return structuredClone(this.#set);
  }

  async put(next: Omit<KeySet, "sequence">, expectedSequence: number): Promise<KeySet> {
    if (this.#set.sequence !== expectedSequence)
      throw new BridgeError(
        "version_conflict",
        `key set is at sequence ${this.#set.sequence}, not ${expectedSequence}`,
      );
    const stored: KeySet = { ...structuredClone(next), sequence: expectedSequence + 1 };
    assertKeySetInvariants(stored);
    this.#set = stored;
    return structuredClone(stored);
  }
}
