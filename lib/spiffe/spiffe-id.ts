/**
 * SPIFFE IDs and trust domains, exactly as SPIFFE-ID.md §2 defines them, plus the
 * length limits go-spiffe leaves out (2048 bytes for an ID, 255 for a trust domain).
 * A failed parse names the rule that was broken.
 */
import { BridgeError } from "../errors.js";

const SCHEME = "spiffe://";
export const MAX_SPIFFE_ID_BYTES = 2048;
export const MAX_TRUST_DOMAIN_BYTES = 255;

const TRUST_DOMAIN_CHAR = /^[a-z0-9._-]$/;
const PATH_CHAR = /^[a-zA-Z0-9._-]$/;

function fail(input: string, rule: string): never {
  throw new BridgeError(
    "invalid_spiffe_id",
    `invalid SPIFFE ID ${JSON.stringify(truncate(input))}: ${rule}`,
    {
      details: { rule },
    },
  );
}

function failTd(input: string, rule: string): never {
  throw new BridgeError(
    "invalid_trust_domain",
    `invalid trust domain ${JSON.stringify(truncate(input))}: ${rule}`,
    {
      details: { rule },
    },
  );
}

function truncate(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** Returns the rule a trust-domain name breaks, or undefined when it is valid. */
function trustDomainRule(name: string): string | undefined {
  if (name.length === 0) return "trust domain is missing";
  if (Buffer.byteLength(name, "utf8") > MAX_TRUST_DOMAIN_BYTES)
    return `trust domain is longer than ${MAX_TRUST_DOMAIN_BYTES} bytes`;
  for (const ch of name) {
    if (TRUST_DOMAIN_CHAR.test(ch)) continue;
    if (ch === "%") return "percent-encoding is not allowed in the trust domain";
    if (ch === ":") return "trust domain must not contain a port";
    if (ch === "@") return "trust domain must not contain userinfo";
    if (ch >= "A" && ch <= "Z") return "trust domain must be lowercase";
    return `trust domain may contain only a-z, 0-9, '.', '-' and '_' (found ${JSON.stringify(ch)})`;
  }
  return undefined;
}

/** Returns the rule a path (with its leading '/', or empty) breaks, or undefined. */
function pathRule(path: string): string | undefined {
  if (path === "") return undefined;
  if (!path.startsWith("/")) return "path must start with '/'";
  const segments = path.slice(1).split("/");
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    if (seg === "") return i === segments.length - 1 ? "trailing '/' is not allowed" : "empty path segment";
    if (seg === "." || seg === "..") return "dot segments ('.' and '..') are not allowed";
    for (const ch of seg) {
      if (PATH_CHAR.test(ch)) continue;
      if (ch === "%") return "percent-encoding is not allowed in the path";
      if (ch === "?") return "query is not allowed";
      if (ch === "#") return "fragment is not allowed";
      return `path may contain only a-z, A-Z, 0-9, '.', '-' and '_' (found ${JSON.stringify(ch)})`;
    }
  }
  return undefined;
}

export class TrustDomain {
  private constructor(readonly name: string) {}

  /** Parses a bare trust-domain name (`example.org`) or a SPIFFE ID of the domain (`spiffe://example.org`). */
  static parse(input: string): TrustDomain {
    if (typeof input !== "string") failTd(String(input), "not a string");
    if (input.startsWith(SCHEME)) {
      const id = SpiffeId.parse(input);
      if (id.path !== "") failTd(input, "a trust domain ID has no path");
      return id.trustDomain;
    }
    const rule = trustDomainRule(input);
    if (rule) failTd(input, rule);
    return new TrustDomain(input);
  }

  /** @internal used by SpiffeId once the name is already checked. */
  static fromValidated(name: string): TrustDomain {
    return new TrustDomain(name);
  }

  /** `spiffe://<td>`, the ID of the trust domain itself (bundle map keys use it). */
  get id(): string {
    return `${SCHEME}${this.name}`;
  }

  equals(other: TrustDomain): boolean {
    return this.name === other.name;
  }

  toString(): string {
    return this.name;
  }
}

export class SpiffeId {
  private constructor(
    readonly trustDomain: TrustDomain,
    /** Empty, or `/seg/seg…`. */
    readonly path: string,
  ) {}

  static parse(input: string): SpiffeId {
    if (typeof input !== "string") fail(String(input), "not a string");
    if (input === "") fail(input, "empty");
    if (Buffer.byteLength(input, "utf8") > MAX_SPIFFE_ID_BYTES)
      fail(input, `longer than ${MAX_SPIFFE_ID_BYTES} bytes`);
    if (!input.startsWith(SCHEME)) {
      if (input.toLowerCase().startsWith(SCHEME)) fail(input, "scheme must be lowercase 'spiffe'");
      fail(input, "scheme must be 'spiffe://'");
    }
    const rest = input.slice(SCHEME.length);
    const slash = rest.indexOf("/");
    const authority = slash === -1 ? rest : rest.slice(0, slash);
    const path = slash === -1 ? "" : rest.slice(slash);
    // Query and fragment first: `spiffe://td?x` must say "query", not "bad character".
    for (const part of [authority, path]) {
      if (part.includes("?")) fail(input, "query is not allowed");
      if (part.includes("#")) fail(input, "fragment is not allowed");
    }
    if (authority.startsWith("[")) fail(input, "IPv6 trust domains are not allowed");
    const tdRule = trustDomainRule(authority);
    if (tdRule) fail(input, tdRule);
    const pRule = pathRule(path);
    if (pRule) fail(input, pRule);
    return new SpiffeId(TrustDomain.fromValidated(authority), path);
  }

  /** Parses without throwing: the ID, or the broken rule. */
  static tryParse(input: string): { ok: true; id: SpiffeId } | { ok: false; error: BridgeError } {
    try {
      return { ok: true, id: SpiffeId.parse(input) };
    } catch (error) {
      if (error instanceof BridgeError) return { ok: false, error };
      throw error;
    }
  }

  /** Builds an ID from a trust domain and path segments; each segment is checked. */
  static fromSegments(trustDomain: TrustDomain | string, ...segments: string[]): SpiffeId {
    const td = typeof trustDomain === "string" ? TrustDomain.parse(trustDomain) : trustDomain;
    const path = segments.length === 0 ? "" : `/${segments.join("/")}`;
    return SpiffeId.parse(`${SCHEME}${td.name}${path}`);
  }

  isMemberOf(td: TrustDomain): boolean {
    return this.trustDomain.equals(td);
  }

  /** True for `spiffe://td` itself, which names the trust domain and is reserved for CAs. */
  get isTrustDomainId(): boolean {
    return this.path === "";
  }

  equals(other: SpiffeId): boolean {
    return this.toString() === other.toString();
  }

  toString(): string {
    return `${SCHEME}${this.trustDomain.name}${this.path}`;
  }

  toJSON(): string {
    return this.toString();
  }
}
