/**
 * RegistrationStore in process memory, for `svid-bridge dev` without dynalite and for unit
 * tests. Same contract as DynamoDbRegistrationStore (test/registrations/store-contract.ts
 * runs against both): conditional create, versioned update and delete, paginated listings.
 * Entries are copied in and out, so a caller's later edits never reach the store.
 */
import { type Clock, systemClock } from "../clock.js";
import { BridgeError } from "../errors.js";
import type {
  ListRegistrationsOptions,
  NewRegistration,
  Page,
  RegistrationEntry,
  RegistrationStore,
} from "../ports/registration-store.js";
import { decodePageToken, encodePageToken, listScope, pageSize } from "../registrations/page-token.js";

export class InMemoryRegistrationStore implements RegistrationStore {
  readonly #entries = new Map<string, RegistrationEntry>();
  constructor(private readonly clock: Clock = systemClock) {}

  async create(entry: NewRegistration): Promise<RegistrationEntry> {
    if (this.#entries.has(entry.id))
      throw new BridgeError("registration_exists", `registration ${entry.id} already exists`);
    const now = new Date(this.clock.now()).toISOString();
    const stored: RegistrationEntry = {
      ...structuredClone(entry),
      createdAt: now,
      updatedAt: now,
      version: 1,
    };
    this.#entries.set(entry.id, stored);
    return structuredClone(stored);
  }

  async get(id: string): Promise<RegistrationEntry | undefined> {
    const found = this.#entries.get(id);
    return found && structuredClone(found);
  }

  async update(entry: NewRegistration, expectedVersion: number): Promise<RegistrationEntry> {
    const current = this.#current(entry.id, expectedVersion);
    const stored: RegistrationEntry = {
      ...structuredClone(entry),
      createdAt: current.createdAt,
      updatedAt: new Date(this.clock.now()).toISOString(),
      version: current.version + 1,
    };
    this.#entries.set(entry.id, stored);
    return structuredClone(stored);
  }

  async delete(id: string, expectedVersion: number): Promise<void> {
    this.#current(id, expectedVersion);
    this.#entries.delete(id);
  }

  async findByAccountAndRole(account: string, roleName: string): Promise<RegistrationEntry[]> {
    return [...this.#entries.values()]
      .filter((e) => e.selectors.account === account && e.selectors.roleName === roleName)
      .sort((a, b) => compare(a.id, b.id))
      .map((e) => structuredClone(e));
  }

  async list(options: ListRegistrationsOptions = {}): Promise<Page<RegistrationEntry>> {
    const scope = listScope(options);
    const limit = pageSize(options.limit);
    const after =
      options.nextToken === undefined ? undefined : decodePageToken(options.nextToken, scope, ["id"]).id;
    const all = [...this.#entries.values()]
      .filter(
        (e) =>
          (options.account === undefined || e.selectors.account === options.account) &&
          (options.spiffeId === undefined || e.spiffeId === options.spiffeId),
      )
      .filter((e) => after === undefined || compare(e.id, after) > 0)
      .sort((a, b) => compare(a.id, b.id));
    const items = all.slice(0, limit).map((e) => structuredClone(e));
    const last = items[items.length - 1];
    return all.length > limit && last
      ? { items, nextToken: encodePageToken(scope, { id: last.id }) }
      : { items };
  }

  #current(id: string, expectedVersion: number): RegistrationEntry {
    const current = this.#entries.get(id);
    if (!current) throw new BridgeError("registration_not_found", `registration ${id} does not exist`);
    if (current.version !== expectedVersion)
      throw new BridgeError(
        "version_conflict",
        `registration ${id} is at version ${current.version}, not ${expectedVersion}: read it again`,
        { details: { currentVersion: current.version } },
      );
    return current;
  }
}

/** Code-unit order, as DynamoDB sorts string keys (by UTF-8 bytes; the same for ASCII ids). */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
