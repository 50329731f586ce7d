/**
 * A short in-process cache in front of a RegistrationStore, for the exchange: a warm
 * Lambda sandbox answers repeat callers without a DynamoDB Query. Only the hot path
 * (findByAccountAndRole) is cached; every other call passes through.
 *
 * - Entries live `ttlMs` (default 5 s) by the Clock, then are fetched again: an edit or a
 *   disable made elsewhere reaches every sandbox within that time (plus GSI lag).
 * - Empty answers are cached too, so an unregistered caller retrying cannot turn each
 *   attempt into a Query.
 * - At most `maxEntries` (default 1000) account+role keys; the least recently used goes.
 * - Concurrent misses for one key share one Query.
 * - Writes through this decorator drop the keys they touch at once; writes made by other
 *   processes are seen after the TTL.
 * - Cached entries are deep-frozen once and handed out as they are: no caller can change
 *   what the next caller reads, and a hit costs no copy (a structuredClone per entry was
 *   the larger part of a hit).
 */
import { type Clock, systemClock } from "../clock.js";
import type {
  ListRegistrationsOptions,
  NewRegistration,
  Page,
  RegistrationEntry,
  RegistrationStore,
} from "../ports/registration-store.js";

export interface CachingRegistrationStoreOptions {
  ttlMs?: number;
  maxEntries?: number;
  clock?: Clock;
}

interface Slot {
  expiresAt: number;
  value: Promise<RegistrationEntry[]>;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

export class CachingRegistrationStore implements RegistrationStore {
  readonly #inner: RegistrationStore;
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #clock: Clock;
  readonly #slots = new Map<string, Slot>();

  constructor(inner: RegistrationStore, options: CachingRegistrationStoreOptions = {}) {
    this.#inner = inner;
    this.#ttlMs = options.ttlMs ?? 5_000;
    this.#max = Math.max(1, options.maxEntries ?? 1000);
    this.#clock = options.clock ?? systemClock;
  }

  /** How many account+role keys are held (for tests and metrics). */
  get size(): number {
    return this.#slots.size;
  }

  async findByAccountAndRole(account: string, roleName: string): Promise<RegistrationEntry[]> {
    const key = `${account}#${roleName}`;
    const now = this.#clock.now();
    const hit = this.#slots.get(key);
    if (hit && hit.expiresAt > now) {
      // Re-insert: Map order is the LRU order.
      this.#slots.delete(key);
      this.#slots.set(key, hit);
      return hit.value;
    }
    const value = this.#inner.findByAccountAndRole(account, roleName).then(deepFreeze);
    const slot: Slot = { expiresAt: now + this.#ttlMs, value };
    this.#slots.delete(key);
    this.#slots.set(key, slot);
    while (this.#slots.size > this.#max) this.#slots.delete(this.#slots.keys().next().value as string);
    try {
      return await value;
    } catch (error) {
      // Never cache a failure: the next caller asks the store again.
      if (this.#slots.get(key) === slot) this.#slots.delete(key);
      throw error;
    }
  }

  /** Drops every cached answer (e.g. after a bulk import in the same process). */
  clear(): void {
    this.#slots.clear();
  }

  #forget(entry: { selectors: { account: string; roleName: string } } | undefined): void {
    if (entry) this.#slots.delete(`${entry.selectors.account}#${entry.selectors.roleName}`);
  }

  async create(entry: NewRegistration): Promise<RegistrationEntry> {
    const created = await this.#inner.create(entry);
    this.#forget(created);
    return created;
  }

  get(id: string): Promise<RegistrationEntry | undefined> {
    return this.#inner.get(id);
  }

  async update(entry: NewRegistration, expectedVersion: number): Promise<RegistrationEntry> {
    const before = await this.#inner.get(entry.id);
    const updated = await this.#inner.update(entry, expectedVersion);
    this.#forget(before);
    this.#forget(updated);
    return updated;
  }

  async delete(id: string, expectedVersion: number): Promise<void> {
    const before = await this.#inner.get(id);
    await this.#inner.delete(id, expectedVersion);
    this.#forget(before);
  }

  list(options?: ListRegistrationsOptions): Promise<Page<RegistrationEntry>> {
    return this.#inner.list(options);
  }
}
