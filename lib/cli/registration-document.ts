/**
 * The GitOps file format of `export` and `import`, JSON or YAML:
 *
 *   apiVersion: svid-bridge/v1
 *   kind: RegistrationList
 *   entries:
 *     - id: orders
 *       spiffeId: spiffe://example.org/orders
 *       selectors: { account: "111122223333", roleName: orders-role }
 *
 * Entries are as `show --json` prints them minus createdAt/updatedAt/version (accepted and
 * ignored on import, so a `list --json` document's items also import). A bare list of
 * entries is accepted too. YAML is parsed with the `yaml` package (YAML 1.2, JSON is a
 * subset), duplicate keys refused.
 */
import { parse, stringify } from "yaml";
import { BridgeError } from "../errors.js";
import type { RegistrationEntry } from "../ports/registration-store.js";
import { portableEntry } from "./entry-output.js";

export const DOCUMENT_API_VERSION = "svid-bridge/v1";
export type DocumentFormat = "json" | "yaml";

export function formatDocument(entries: readonly RegistrationEntry[], format: DocumentFormat): string {
  const doc = {
    apiVersion: DOCUMENT_API_VERSION,
    kind: "RegistrationList",
    entries: entries.map(portableEntry),
  };
  return format === "json" ? `${JSON.stringify(doc, null, 2)}\n` : stringify(doc);
}

/** The raw entries of a document, unvalidated (validateRegistration checks each). */
export function parseDocument(text: string, source: string): unknown[] {
  let doc: unknown;
  try {
    doc = parse(text, { uniqueKeys: true, prettyErrors: true, maxAliasCount: 0 });
  } catch (error) {
    const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new BridgeError("invalid_request", `${source} is not valid JSON or YAML: ${message}`);
  }
  if (Array.isArray(doc)) return doc;
  if (typeof doc === "object" && doc !== null) {
    const d = doc as Record<string, unknown>;
    if (d.apiVersion !== undefined && d.apiVersion !== DOCUMENT_API_VERSION)
      throw new BridgeError("invalid_request", `${source}: apiVersion must be ${DOCUMENT_API_VERSION}`);
    const entries = d.entries ?? d.items;
    if (Array.isArray(entries)) return entries;
  }
  throw new BridgeError(
    "invalid_request",
    `${source}: expected {apiVersion, kind, entries: [...]} or a list of entries`,
  );
}
