import type { WrappedKeyRecord, WrappedKeyStore } from "../ports/wrapped-key-store.js";

/** WrappedKeyStore in process memory: tests and `svid-bridge dev`. */
export class InMemoryWrappedKeyStore implements WrappedKeyStore {
  readonly #records = new Map<string, WrappedKeyRecord>();

  async put(record: WrappedKeyRecord): Promise<void> {
    if (this.#records.has(record.keyId)) throw new Error(`wrapped key ${record.keyId} already exists`);
    this.#records.set(record.keyId, { ...record });
  }

  async get(keyId: string): Promise<WrappedKeyRecord | undefined> {
    const record = this.#records.get(keyId);
    return record && { ...record };
  }
}
