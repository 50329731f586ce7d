import { describe, expect, it } from "vitest";
import { errorCodeOf } from "../../lib/errors.js";
import type { CallerIdentity } from "../../lib/ports/caller-verifier.js";
import type { RegistrationEntry } from "../../lib/ports/registration-store.js";
import { matchRegistrations } from "../../lib/registrations/match-registrations.js";
import { renderSpiffeId } from "../../lib/registrations/spiffe-template.js";
import { TrustDomain } from "../../lib/spiffe/spiffe-id.js";

const td = TrustDomain.parse("example.org");
const role: CallerIdentity = {
  arn: "arn:aws:sts::111122223333:assumed-role/app/orders-fn",
  partition: "aws",
  account: "111122223333",
  principalType: "assumed-role",
  principalName: "app",
  uniqueId: "AROAEXAMPLEEXAMPLE123",
  sessionName: "orders-fn",
};
const user: CallerIdentity = {
  arn: "arn:aws:iam::111122223333:user/app",
  partition: "aws",
  account: "111122223333",
  principalType: "iam-user",
  principalName: "app",
  uniqueId: "AIDAEXAMPLEEXAMPLE123",
};

function e(
  id: string,
  patch: Partial<RegistrationEntry> & { sel?: Partial<RegistrationEntry["selectors"]> } = {},
) {
  const { sel, ...rest } = patch;
  return {
    id,
    selectors: { account: "111122223333", roleName: "app", ...sel },
    spiffeId: `spiffe://example.org/${id}`,
    kinds: ["jwt"],
    enabled: true,
    createdAt: "2025-01-01T00:00:00.000Z",
    updatedAt: "2025-01-01T00:00:00.000Z",
    version: 1,
    ...rest,
  } satisfies RegistrationEntry;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return errorCodeOf(error);
  }
  return undefined;
}

const ids = (caller: CallerIdentity, entries: RegistrationEntry[]) =>
  matchRegistrations(caller, entries, td).map((m) => m.entry.id);

describe("matchRegistrations", () => {
  it("requires every selector: account, role name, principal type, session glob", () => {
    const entries = [
      e("ok"),
      e("other-account", { sel: { account: "444455556666" } }),
      e("other-role", { sel: { roleName: "App" } }),
      e("users-only", { sel: { principalType: "iam-user" } }),
      e("other-session", { sel: { sessionName: "billing-*" } }),
      e("this-session", { sel: { sessionName: "orders-*" } }),
    ];
    expect(ids(role, entries)).toEqual(["ok", "this-session"]);
  });

  it("never matches an IAM user to an entry that does not ask for one", () => {
    expect(ids(user, [e("role-entry")])).toEqual([]);
    expect(ids(user, [e("user-entry", { sel: { principalType: "iam-user" } })])).toEqual(["user-entry"]);
  });

  it("never matches a session glob when the caller has no session", () => {
    expect(ids(user, [e("s", { sel: { principalType: "iam-user", sessionName: "*" } })])).toEqual([]);
  });

  it("never matches a disabled entry", () => {
    expect(ids(role, [e("off", { enabled: false })])).toEqual([]);
  });

  it("answers role_id_mismatch only when a pin is all that stands in the way", () => {
    const pinned = e("pinned", { sel: { roleId: "AROADIFFERENTDIFFERENT1" } });
    expect(codeOf(() => matchRegistrations(role, [pinned], td))).toBe("role_id_mismatch");
    expect(ids(role, [pinned, e("unpinned")])).toEqual(["unpinned"]);
    expect(ids(role, [e("right-pin", { sel: { roleId: role.uniqueId } })])).toEqual(["right-pin"]);
  });

  it("answers invalid_rendered_id when a template cannot name this caller", () => {
    const tmpl = e("t", { spiffeId: "spiffe://example.org/fn/{session}" });
    expect(codeOf(() => matchRegistrations({ ...role, sessionName: "a@b" }, [tmpl], td))).toBe(
      "invalid_rendered_id",
    );
    expect(codeOf(() => matchRegistrations({ ...role, sessionName: ".." }, [tmpl], td))).toBe(
      "invalid_rendered_id",
    );
    // An IAM user has no session: the slot cannot be filled.
    const userTmpl = e("u", {
      spiffeId: "spiffe://example.org/fn/{session}",
      sel: { principalType: "iam-user" },
    });
    expect(codeOf(() => matchRegistrations(user, [userTmpl], td))).toBe("invalid_rendered_id");
  });

  it("answers invalid_rendered_id for a stored ID outside the trust domain or without a path", () => {
    expect(codeOf(() => matchRegistrations(role, [e("x", { spiffeId: "spiffe://other.org/x" })], td))).toBe(
      "invalid_rendered_id",
    );
    expect(codeOf(() => matchRegistrations(role, [e("x", { spiffeId: "spiffe://example.org" })], td))).toBe(
      "invalid_rendered_id",
    );
  });

  it("returns every matching entry with its rendered ID, in order", () => {
    const out = matchRegistrations(
      role,
      [e("a", { spiffeId: "spiffe://example.org/aws/{account}/{role}/{session}" }), e("b")],
      td,
    ).map((m) => m.spiffeId.toString());
    expect(out).toEqual(["spiffe://example.org/aws/111122223333/app/orders-fn", "spiffe://example.org/b"]);
  });
});

describe("renderSpiffeId", () => {
  it("fills a slot inside a segment but never adds a segment", () => {
    expect(renderSpiffeId("spiffe://example.org/fn-{session}", { session: "x" }, td).toString()).toBe(
      "spiffe://example.org/fn-x",
    );
    expect(codeOf(() => renderSpiffeId("spiffe://example.org/{session}", { session: "a/b" }, td))).toBe(
      "invalid_rendered_id",
    );
  });
});

describe("matching on random input (property)", () => {
  it("never throws anything but role_id_mismatch or invalid_rendered_id, and every result is in the trust domain", async () => {
    const fc = (await import("fast-check")).default;
    const name = fc.oneof(
      fc.string({ maxLength: 70 }),
      fc.constantFrom("app", "orders-fn", "a@b", "..", "a/b", ""),
    );
    const entryArb = fc.record({
      spiffeId: fc.oneof(
        fc.string(),
        fc
          .constantFrom("{account}", "{role}", "{session}", "x", "/", "{", "}")
          .chain((a) =>
            fc
              .constantFrom("spiffe://example.org/", "spiffe://other.org/", "spiffe://example.org")
              .map((p) => p + a),
          ),
      ),
      sessionName: fc.option(fc.string({ maxLength: 70 }), { nil: undefined }),
      roleId: fc.option(fc.constantFrom("AROAEXAMPLEEXAMPLE123", "AROAOTHER"), { nil: undefined }),
      enabled: fc.boolean(),
    });
    fc.assert(
      fc.property(
        fc.array(entryArb, { maxLength: 4 }),
        name,
        fc.option(name, { nil: undefined }),
        (raw, roleName, sessionName) => {
          const entries = raw.map((r, i) =>
            e(`e${i}`, {
              spiffeId: r.spiffeId,
              enabled: r.enabled,
              sel: {
                roleName,
                ...(r.sessionName !== undefined && { sessionName: r.sessionName }),
                ...(r.roleId !== undefined && { roleId: r.roleId }),
              },
            }),
          );
          const caller = {
            ...role,
            roleName,
            ...(sessionName === undefined ? { sessionName: undefined } : { sessionName }),
          };
          try {
            for (const m of matchRegistrations(caller, entries, td)) {
              expect(m.spiffeId.isMemberOf(td)).toBe(true);
              expect(m.spiffeId.isTrustDomainId).toBe(false);
            }
          } catch (error) {
            expect(["role_id_mismatch", "invalid_rendered_id"]).toContain(errorCodeOf(error));
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
