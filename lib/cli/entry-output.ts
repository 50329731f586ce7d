/** How registration entries look on a terminal. */
import type { RegistrationEntry } from "../ports/registration-store.js";
import { type Column, formatFields, formatTable } from "./output.js";

const COLUMNS: Column<RegistrationEntry>[] = [
  { header: "ID", value: (e) => e.id },
  { header: "SPIFFE ID", value: (e) => e.spiffeId },
  { header: "ACCOUNT", value: (e) => e.selectors.account },
  { header: "ROLE", value: (e) => e.selectors.roleName },
  { header: "SESSION", value: (e) => e.selectors.sessionName ?? "*" },
  { header: "KINDS", value: (e) => e.kinds.join(",") },
  { header: "ENABLED", value: (e) => (e.enabled ? "yes" : "no") },
  { header: "VERSION", value: (e) => String(e.version) },
];

export function entryTable(entries: readonly RegistrationEntry[]): string {
  return formatTable(entries, COLUMNS);
}

export function entryDetails(e: RegistrationEntry): string {
  const s = e.selectors;
  return formatFields([
    ["id", e.id],
    ["spiffe id", e.spiffeId],
    ["account", s.account],
    ["role", s.roleName],
    ["role id", s.roleId],
    ["session name", s.sessionName],
    ["principal type", s.principalType ?? "assumed-role"],
    ["kinds", e.kinds.join(", ")],
    ["jwt ttl", e.jwtTtlSeconds === undefined ? "bridge default" : `${e.jwtTtlSeconds}s`],
    ["x509 ttl", e.x509TtlSeconds === undefined ? "bridge default" : `${e.x509TtlSeconds}s`],
    ["audiences", e.audiences?.join(", ") ?? "any"],
    ["dns names", e.dnsNames?.join(", ")],
    ["enabled", e.enabled ? "yes" : "no"],
    ["description", e.description],
    ["created", e.createdAt],
    ["updated", e.updatedAt],
    ["version", String(e.version)],
  ]);
}

/** An entry without the store-owned fields: what `export` writes and `import` reads. */
export function portableEntry(
  e: RegistrationEntry,
): Omit<RegistrationEntry, "createdAt" | "updatedAt" | "version"> {
  const { createdAt: _c, updatedAt: _u, version: _v, ...rest } = e;
  return rest;
}
