/**
 * KeySetStore: where the key set lives (DynamoDB in AWS, memory in dev and tests).
 * Writes are compare-and-swap on the whole set: `put(next, expected)` succeeds only if
 * the stored sequence is still `expected`, and writes `next` with sequence expected + 1.
 * Two rotations that read the same set cannot both write: the second gets
 * `version_conflict`, reads again and finds the work done.
 */
import type { KeySet } from "./key-set.js";

export interface KeySetStore {
  /** The stored set, or an empty set with sequence 0 when none was ever written. */
  get(): Promise<KeySet>;
  /**
   * Writes `next` if the stored sequence is `expectedSequence`. Returns the set as stored
   * (sequence = expectedSequence + 1). Throws BridgeError `version_conflict` otherwise.
   */
  put(next: Omit<KeySet, "sequence">, expectedSequence: number): Promise<KeySet>;
}
