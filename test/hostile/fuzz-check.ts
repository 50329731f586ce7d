/**
 * What the fuzz suite checks in every answer: no 5xx, no crash, and an SVID only where
 * the case allows one, naming the registered SPIFFE ID, for the key of the CSR sent, as a
 * leaf (issue 14's "SVIDs issued to unregistered principals: 0").
 */
import { X509Certificate } from "node:crypto";
import type { Ask, CaseContext } from "./fuzz-cases.js";

interface Svid {
  spiffe_id?: unknown;
  token?: unknown;
  certificate_chain?: unknown;
}

/** Every SVID in an exchange answer (JWT, X.509, batch), with its kind. */
export function svidsIn(body: string): Array<{ kind: "jwt" | "x509"; svid: Svid }> {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(body) as Record<string, unknown>;
  } catch {
    return [];
  }
  const out: Array<{ kind: "jwt" | "x509"; svid: Svid }> = [];
  const add = (kind: "jwt" | "x509", list: unknown) => {
    if (Array.isArray(list)) for (const svid of list) out.push({ kind, svid: svid as Svid });
  };
  if (Array.isArray(parsed.svids))
    for (const svid of parsed.svids as Svid[]) out.push({ kind: svid?.token ? "jwt" : "x509", svid });
  if (Array.isArray(parsed.jwt))
    for (const a of parsed.jwt as Array<{ svids?: unknown }>) add("jwt", a?.svids);
  add("x509", (parsed.x509 as { svids?: unknown } | undefined)?.svids);
  return out;
}

/** Why an issued SVID is not one the ask entitled the registered role to (empty when it is). */
export function svidProblems(
  kind: "jwt" | "x509",
  svid: Svid,
  ask: Ask | undefined,
  ctx: CaseContext,
): string[] {
  const want = ctx.target.registeredId;
  const problems: string[] = [];
  if (svid.spiffe_id !== want) problems.push(`spiffe_id ${String(svid.spiffe_id)}`);
  if (kind === "jwt") {
    const payload = JSON.parse(
      Buffer.from(String(svid.token).split(".")[1] ?? "", "base64url").toString(),
    ) as {
      sub?: string;
      aud?: string | string[];
    };
    if (payload.sub !== want) problems.push(`sub ${payload.sub}`);
    const aud = new Set([payload.aud ?? []].flat());
    if (ask && !ask.audience.every((a) => aud.has(a))) problems.push(`aud ${[...aud].join(",")}`);
    return problems;
  }
  const pem = String(svid.certificate_chain).split(/(?<=-----END CERTIFICATE-----)/)[0]!;
  const leaf = new X509Certificate(pem);
  if (leaf.ca) problems.push("a CA certificate");
  const sans = (leaf.subjectAltName ?? "").split(", ");
  if (sans.length !== 1 || sans[0] !== `URI:${want}`) problems.push(`SANs ${leaf.subjectAltName}`);
  const spki = ask && ctx.csrs[ask.csr]?.spki;
  if (!spki || !leaf.publicKey.export({ type: "spki", format: "der" }).equals(spki))
    problems.push(`not the key of the CSR sent (${ask?.csr})`);
  return problems;
}
