/**
 * SPIFFE ID templates: `{account}`, `{role}` and `{session}` in the path of a SPIFFE ID.
 * Placeholders never reach the trust domain, and a substituted value must be one plain
 * path segment's worth of text, so a caller-chosen session name can fill a slot but never
 * add segments, dot segments or anything the SPIFFE ID parser would have to reject.
 */
import { BridgeError } from "../errors.js";
import { SpiffeId, type TrustDomain } from "../spiffe/spiffe-id.js";

export const TEMPLATE_VARIABLES = ["account", "role", "session"] as const;
export type TemplateVariable = (typeof TEMPLATE_VARIABLES)[number];
export type TemplateValues = Partial<Record<TemplateVariable, string>>;

type Part = { text: string } | { variable: TemplateVariable };

/** Splits a template into text and placeholders; the rule broken on a malformed one. */
export function parseTemplate(template: string): { parts: Part[] } | { rule: string } {
  const parts: Part[] = [];
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf("{", i);
    const close = template.indexOf("}", i);
    if (close !== -1 && (open === -1 || close < open)) return { rule: "unbalanced '}'" };
    if (open === -1) {
      parts.push({ text: template.slice(i) });
      break;
    }
    if (open > i) parts.push({ text: template.slice(i, open) });
    const end = template.indexOf("}", open);
    if (end === -1) return { rule: "unbalanced '{'" };
    const name = template.slice(open + 1, end);
    if (!(TEMPLATE_VARIABLES as readonly string[]).includes(name))
      return { rule: `unknown placeholder {${name}} (known: {account}, {role}, {session})` };
    parts.push({ variable: name as TemplateVariable });
    i = end + 1;
  }
  return { parts };
}

/**
 * Each placeholder must be the only one in its path segment (a literal prefix or suffix
 * is fine: `r-{role}`). Two in one segment (`{role}{session}`, `{role}-{session}`) let two
 * callers render one ID: role `a` + session `bcd` and role `ab` + session `cd` both give
 * `abcd` (issue 14, fault 3). Values never contain '/', so with one placeholder per
 * segment a rendered ID names exactly one set of values.
 * @returns the rule broken, or undefined.
 */
export function sharedSegmentRule(parts: readonly Part[]): string | undefined {
  let previous: TemplateVariable | undefined;
  for (const part of parts) {
    if ("text" in part) {
      if (part.text.includes("/")) previous = undefined;
      continue;
    }
    if (previous !== undefined)
      return `{${previous}} and {${part.variable}} share a path segment, so two callers could render the same ID: give each placeholder a segment of its own`;
    previous = part.variable;
  }
  return undefined;
}

/** The rule a stored SPIFFE ID template breaks (for `list`), or undefined. */
export function templateProblem(template: string): string | undefined {
  if (!isTemplate(template)) return undefined;
  const parsed = parseTemplate(template);
  return "rule" in parsed ? parsed.rule : sharedSegmentRule(parsed.parts);
}

export function isTemplate(spiffeId: string): boolean {
  return spiffeId.includes("{") || spiffeId.includes("}");
}

/** The variables a template uses (empty for a literal ID). */
export function templateVariables(template: string): TemplateVariable[] {
  const parsed = parseTemplate(template);
  if ("rule" in parsed) return [];
  return parsed.parts.flatMap((p) => ("variable" in p ? [p.variable] : []));
}

/** A substituted value may not split, escape or empty a path segment. */
function valueRule(value: string | undefined): string | undefined {
  if (value === undefined || value === "") return "has no value for this caller";
  if (value.includes("/")) return "contains '/'";
  if (value === "." || value === "..") return "is a dot segment";
  return undefined;
}

/**
 * Renders a template (or passes a literal through) and checks the result is a SPIFFE ID
 * in `trustDomain` with a non-empty path. Anything else is `invalid_rendered_id` (403):
 * the caller matched an entry, but that entry cannot name this caller.
 */
export function renderSpiffeId(template: string, values: TemplateValues, trustDomain: TrustDomain): SpiffeId {
  const fail = (rule: string): never => {
    throw new BridgeError(
      "invalid_rendered_id",
      `the registration's SPIFFE ID cannot name this caller: ${rule}`,
      {
        details: { rule },
      },
    );
  };
  const parsed = parseTemplate(template);
  if ("rule" in parsed) return fail(parsed.rule);
  const shared = sharedSegmentRule(parsed.parts);
  if (shared) return fail(shared);
  let out = "";
  for (const part of parsed.parts) {
    if ("text" in part) {
      out += part.text;
      continue;
    }
    const value = values[part.variable];
    const rule = valueRule(value);
    if (rule) return fail(`{${part.variable}} ${rule}`);
    out += value;
  }
  const result = SpiffeId.tryParse(out);
  if (!result.ok) return fail(result.error.message);
  const id = result.id;
  if (!id.isMemberOf(trustDomain)) return fail(`${id} is not in trust domain ${trustDomain.name}`);
  if (id.isTrustDomainId) return fail("the trust domain's own ID is reserved (the path is empty)");
  return id;
}
