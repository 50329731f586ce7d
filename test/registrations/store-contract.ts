/**
 * The RegistrationStore contract, run against every adapter: InMemoryRegistrationStore,
 * DynamoDbRegistrationStore on dynalite, and on AWS's DynamoDB Local. It drives the store
 * and the matching rules together, the way the exchange will.
 */
import { describe, expect, it } from "vitest";
import { errorCodeOf } from "../../lib/errors.js";
import type { CallerIdentity } from "../../lib/ports/caller-verifier.js";
import type {
  NewRegistration,
  RegistrationEntry,
  RegistrationStore,
} from "../../lib/ports/registration-store.js";
import { matchRegistrations } from "../../lib/registrations/match-registrations.js";
import { TrustDomain } from "../../lib/spiffe/spiffe-id.js";

const td = TrustDomain.parse("example.org");
const ACCOUNT = "111122223333";

export function entry(id: string, overrides: Partial<NewRegistration> = {}): NewRegistration {
  return {
    id,
    selectors: { account: ACCOUNT, roleName: "app", principalType: "assumed-role" },
    spiffeId: `spiffe://example.org/${id}`,
    kinds: ["jwt", "x509"],
    enabled: true,
    ...overrides,
  };
}

function caller(overrides: Partial<CallerIdentity> = {}): CallerIdentity {
  return {
    arn: `arn:aws:sts::${ACCOUNT}:assumed-role/app/orders-fn`,
    partition: "aws",
    account: ACCOUNT,
    principalType: "assumed-role",
    principalName: "app",
    uniqueId: "AROAEXAMPLEEXAMPLE123",
    sessionName: "orders-fn",
    ...overrides,
  };
}

async function caught(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (error) {
    return errorCodeOf(error) ?? `non-bridge: ${String(error)}`;
  }
  return undefined;
}

async function listAll(
  store: RegistrationStore,
  options: { account?: string; spiffeId?: string; limit?: number },
): Promise<{ items: RegistrationEntry[]; pages: number }> {
  const items: RegistrationEntry[] = [];
  let nextToken: string | undefined;
  let pages = 0;
  do {
    const page = await store.list({ ...options, ...(nextToken && { nextToken }) });
    items.push(...page.items);
    nextToken = page.nextToken;
    pages++;
  } while (nextToken);
  return { items, pages };
}

export function registrationStoreContract(fresh: () => Promise<RegistrationStore>): void {
  describe("writes", () => {
    it("creates, reads, updates and deletes an entry, the version counting every write", async () => {
      const store = await fresh();
      const created = await store.create(
        entry("orders", { description: "orders service", audiences: ["a"] }),
      );
      expect(created.version).toBe(1);
      expect(created.createdAt).toBe(created.updatedAt);
      expect(await store.get("orders")).toEqual(created);

      const { createdAt: _c, updatedAt: _u, version: _v, ...fields } = created;
      const updated = await store.update({ ...fields, description: "changed", audiences: undefined }, 1);
      expect(updated).toMatchObject({ version: 2, description: "changed", createdAt: created.createdAt });
      expect(updated.audiences).toBeUndefined();
      expect(await store.get("orders")).toEqual(updated);

      await store.delete("orders", 2);
      expect(await store.get("orders")).toBeUndefined();
    });

    it("refuses a second entry with the same id: registration_exists", async () => {
      const store = await fresh();
      await store.create(entry("dup"));
      expect(await caught(store.create(entry("dup", { description: "other" })))).toBe("registration_exists");
      expect((await store.get("dup"))?.description).toBeUndefined();
    });

    it("refuses an update or delete carrying a stale version: version_conflict", async () => {
      const store = await fresh();
      await store.create(entry("e1"));
      await store.update(entry("e1", { description: "v2" }), 1);
      expect(await caught(store.update(entry("e1", { description: "stale" }), 1))).toBe("version_conflict");
      expect(await caught(store.delete("e1", 1))).toBe("version_conflict");
      expect((await store.get("e1"))?.description).toBe("v2");
    });

    it("says registration_not_found when updating or deleting what is not there", async () => {
      const store = await fresh();
      expect(await caught(store.update(entry("ghost"), 1))).toBe("registration_not_found");
      expect(await caught(store.delete("ghost", 1))).toBe("registration_not_found");
    });

    it("lets exactly one of two concurrent updaters win; the loser re-reads and nothing is lost", async () => {
      const store = await fresh();
      await store.create(entry("shared"));
      const read = (await store.get("shared"))!;
      const { createdAt: _c, updatedAt: _u, version, ...base } = read;
      const results = await Promise.allSettled([
        store.update({ ...base, description: "from A" }, version),
        store.update({ ...base, audiences: ["from-b"] }, version),
      ]);
      const won = results.filter((r) => r.status === "fulfilled");
      const lost = results.filter((r) => r.status === "rejected");
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(errorCodeOf((lost[0] as PromiseRejectedResult).reason)).toBe("version_conflict");
      const aWon = results[0]!.status === "fulfilled";

      // The loser does what a client must: read again, re-apply its change, write.
      const again = (await store.get("shared"))!;
      expect(again.version).toBe(2);
      const { createdAt: _c2, updatedAt: _u2, version: v2, ...fields } = again;
      const retried = await store.update(
        aWon ? { ...fields, audiences: ["from-b"] } : { ...fields, description: "from A" },
        v2,
      );
      expect(retried).toMatchObject({ version: 3, description: "from A", audiences: ["from-b"] });
    });
  });

  describe("listing", () => {
    it("pages past one page by account, by SPIFFE ID and over everything, without repeats", async () => {
      const store = await fresh();
      const ids: string[] = [];
      for (let i = 0; i < 23; i++) {
        const id = `page-${String(i).padStart(2, "0")}`;
        ids.push(id);
        await store.create(entry(id, { spiffeId: "spiffe://example.org/shared" }));
      }
      await store.create(entry("other-account", { selectors: { account: "444455556666", roleName: "app" } }));

      const byAccount = await listAll(store, { account: ACCOUNT, limit: 5 });
      expect(byAccount.pages).toBeGreaterThan(4);
      expect(byAccount.items.map((e) => e.id).sort()).toEqual(ids);

      const bySpiffe = await listAll(store, { spiffeId: "spiffe://example.org/shared", limit: 10 });
      expect(bySpiffe.pages).toBeGreaterThan(2);
      expect(bySpiffe.items.map((e) => e.id).sort()).toEqual(ids);

      const everything = await listAll(store, { limit: 7 });
      expect(everything.pages).toBeGreaterThan(3);
      expect(everything.items.map((e) => e.id).sort()).toEqual([...ids, "other-account"].sort());

      const single = await store.list({ account: "444455556666" });
      expect(single.items.map((e) => e.id)).toEqual(["other-account"]);
      expect(single.nextToken).toBeUndefined();
    });

    it("refuses a garbage page token, and a token from another listing: invalid_request", async () => {
      const store = await fresh();
      for (let i = 0; i < 3; i++) await store.create(entry(`t${i}`));
      const first = await store.list({ account: ACCOUNT, limit: 1 });
      expect(first.nextToken).toBeDefined();
      expect(await caught(store.list({ limit: 1, nextToken: first.nextToken! }))).toBe("invalid_request");
      expect(await caught(store.list({ nextToken: "not-a-token!" }))).toBe("invalid_request");
      expect(await caught(store.list({ limit: 0 }))).toBe("invalid_request");
    });
  });

  describe("lookup and matching", () => {
    it("finds the caller's account+role entries, disabled included, and nobody else's", async () => {
      const store = await fresh();
      await store.create(entry("mine"));
      await store.create(entry("mine-off", { enabled: false }));
      await store.create(entry("other-role", { selectors: { account: ACCOUNT, roleName: "app2" } }));
      await store.create(entry("other-acct", { selectors: { account: "444455556666", roleName: "app" } }));
      const found = await store.findByAccountAndRole(ACCOUNT, "app");
      expect(found.map((e) => e.id).sort()).toEqual(["mine", "mine-off"]);
      expect(await store.findByAccountAndRole(ACCOUNT, "nobody")).toEqual([]);
    });

    it("matches session globs, renders templates, and never matches a disabled entry", async () => {
      const store = await fresh();
      const sel = (sessionName?: string) => ({
        account: ACCOUNT,
        roleName: "app",
        principalType: "assumed-role" as const,
        ...(sessionName && { sessionName }),
      });
      await store.create(
        entry("orders-glob", { selectors: sel("orders-*"), spiffeId: "spiffe://example.org/fn/{session}" }),
      );
      await store.create(entry("billing-glob", { selectors: sel("billing-*") }));
      await store.create(
        entry("any-session", { selectors: sel(), spiffeId: "spiffe://example.org/aws/{account}/{role}" }),
      );
      await store.create(entry("disabled", { selectors: sel("orders-?n"), enabled: false }));

      const found = await store.findByAccountAndRole(ACCOUNT, "app");
      const got = matchRegistrations(caller(), found, td).map((m) => [m.entry.id, m.spiffeId.toString()]);
      expect(got.sort()).toEqual([
        ["any-session", `spiffe://example.org/aws/${ACCOUNT}/app`],
        ["orders-glob", "spiffe://example.org/fn/orders-fn"],
      ]);
      const billing = matchRegistrations(caller({ sessionName: "billing-x" }), found, td).map(
        (m) => m.entry.id,
      );
      expect(billing.sort()).toEqual(["any-session", "billing-glob"]);
    });

    it("refuses a caller whose role was re-created under a pinned entry: role_id_mismatch", async () => {
      const store = await fresh();
      await store.create(
        entry("pinned", {
          selectors: { account: ACCOUNT, roleName: "app", roleId: "AROAEXAMPLEEXAMPLE123" },
        }),
      );
      const found = await store.findByAccountAndRole(ACCOUNT, "app");
      expect(matchRegistrations(caller(), found, td)).toHaveLength(1);
      let code: string | undefined;
      try {
        matchRegistrations(caller({ uniqueId: "AROAOTHEROTHEROTHER99" }), found, td);
      } catch (error) {
        code = errorCodeOf(error);
      }
      expect(code).toBe("role_id_mismatch");
    });

    it("refuses a caller whose rendered ID breaks the SPIFFE rules: invalid_rendered_id", async () => {
      const store = await fresh();
      await store.create(entry("tmpl", { spiffeId: "spiffe://example.org/fn/{session}" }));
      const found = await store.findByAccountAndRole(ACCOUNT, "app");
      // '@' is allowed in an IAM session name, not in a SPIFFE ID path.
      let code: string | undefined;
      try {
        matchRegistrations(caller({ sessionName: "user@example.com" }), found, td);
      } catch (error) {
        code = errorCodeOf(error);
      }
      expect(code).toBe("invalid_rendered_id");
      expect(matchRegistrations(caller({ sessionName: "fine" }), found, td)[0]?.spiffeId.toString()).toBe(
        "spiffe://example.org/fn/fine",
      );
    });
  });
}
