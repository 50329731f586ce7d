/**
 * The fuzz suite's cases: a fast-check arbitrary draws a case (what to send, seeded and
 * reproducible), and `materialise` turns it into requests at run time (proofs must be
 * fresh, so they are signed when sent). Each case says whether the bridge may issue an
 * SVID for it: only the registered role, with a proof untouched but for benign changes,
 * asking for nothing but its own SPIFFE ID, with a sound CSR.
 */
import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { batchBinding, jwtBinding, x509Binding } from "../../lib/proof/binding.js";
import { FORM_CONTENT_TYPE, GET_CALLER_IDENTITY_BODY } from "../../lib/proof/proof-format.js";
import type { FuzzCsr } from "./fuzz-csrs.js";
import { MUTATION_NAMES, mutatedProof } from "./fuzz-proofs.js";
import {
  type FuzzTarget,
  type Principals,
  type ProofSpec,
  type RawRequest,
  signProof,
} from "./fuzz-target.js";

export type Route = "jwt" | "x509" | "batch";
type SpiffeChoice = "none" | "registered" | "other-path" | "other-domain" | "garbage";
export interface Ask {
  route: Route;
  audience: string[];
  spiffe: SpiffeChoice;
  csr: string;
}

export type Case =
  | { t: "legit"; ask: Ask }
  | { t: "proof"; ask: Ask; mutation: string; n: number }
  | { t: "principal"; ask: Ask; who: Exclude<keyof Principals, "dev"> }
  | { t: "switch"; ask: Ask; other: Ask }
  | { t: "replay"; ask: Ask; mode: "sequential" | "concurrent" | "cross-route" }
  | { t: "raw"; kind: string; n: number; text: string; route: Route };

/** One request of a case and whether an SVID may come back for it. */
export interface Planned {
  request: RawRequest;
  mayIssue: boolean;
  /** What was asked, to check an issued SVID against. */
  ask?: Ask;
}

export interface Plan {
  label: string;
  /** Sent one after another ("sequential") or all at once ("concurrent"). */
  mode: "sequential" | "concurrent";
  requests: Planned[];
  /** At most this many of the requests may get an SVID (a replayed proof buys one). */
  maxIssued: number;
  /** A legitimate, well-formed ask with a fresh proof: refusing it is a fault too. */
  mustIssue?: boolean;
}

const ROUTES: Route[] = ["jwt", "x509", "batch"];
const AUDIENCE = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("sts.example.com", "https://api.example.org", "aud") },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.constantFrom("", " ", "a b", "é", "x".repeat(1001)) },
);

export function askArb(csrNames: readonly string[]): fc.Arbitrary<Ask> {
  return fc.record({
    route: fc.constantFrom(...ROUTES),
    audience: fc.oneof(
      { weight: 8, arbitrary: fc.uniqueArray(AUDIENCE, { minLength: 1, maxLength: 3 }) },
      { weight: 1, arbitrary: fc.array(AUDIENCE, { minLength: 0, maxLength: 12 }) },
    ),
    spiffe: fc.oneof(
      { weight: 6, arbitrary: fc.constant<SpiffeChoice>("none") },
      { weight: 3, arbitrary: fc.constant<SpiffeChoice>("registered") },
      { weight: 2, arbitrary: fc.constantFrom<SpiffeChoice>("other-path", "other-domain", "garbage") },
    ),
    csr: fc.oneof(
      { weight: 4, arbitrary: fc.constant("ok-p256") },
      { weight: 3, arbitrary: fc.constantFrom(...csrNames) },
    ),
  });
}

const RAW_KINDS = [
  "json",
  "object",
  "deep",
  "huge",
  "content-type",
  "non-utf8",
  "method",
  "path",
  "scalar",
  "mutated",
] as const;

export function caseArb(csrNames: readonly string[]): fc.Arbitrary<Case> {
  const ask = askArb(csrNames);
  const n = fc.nat({ max: 1 << 16 });
  return fc.oneof(
    { weight: 10, arbitrary: fc.record({ t: fc.constant("legit" as const), ask }) },
    {
      weight: 40,
      arbitrary: fc.record({
        t: fc.constant("proof" as const),
        ask,
        mutation: fc.constantFrom(...MUTATION_NAMES),
        n,
      }),
    },
    {
      weight: 6,
      arbitrary: fc.record({
        t: fc.constant("principal" as const),
        ask,
        who: fc.constantFrom("intruder", "otherAccount", "lookalike", "iamUser", "expired") as fc.Arbitrary<
          Exclude<keyof Principals, "dev">
        >,
      }),
    },
    { weight: 5, arbitrary: fc.record({ t: fc.constant("switch" as const), ask, other: ask }) },
    {
      weight: 5,
      arbitrary: fc.record({
        t: fc.constant("replay" as const),
        ask,
        mode: fc.constantFrom("sequential", "concurrent", "cross-route") as fc.Arbitrary<
          "sequential" | "concurrent" | "cross-route"
        >,
      }),
    },
    {
      weight: 34,
      arbitrary: fc.record({
        t: fc.constant("raw" as const),
        kind: fc.constantFrom(...RAW_KINDS),
        n,
        text: fc.oneof(fc.json({ maxDepth: 4 }), fc.string({ maxLength: 64, unit: "binary" })),
        route: fc.constantFrom(...ROUTES),
      }),
    },
  );
}

export interface CaseContext {
  target: FuzzTarget;
  csrs: Record<string, FuzzCsr>;
  region: string;
}

function spiffeIdOf(choice: SpiffeChoice, ctx: CaseContext): string | undefined {
  switch (choice) {
    case "none":
      return undefined;
    case "registered":
      return ctx.target.registeredId;
    case "other-path":
      return `${ctx.target.registeredId}/admin`;
    case "other-domain":
      return "spiffe://evil.example/aws/111122223333/svid-bridge-dev";
    case "garbage":
      return "spiffe://example.org/../admin";
  }
}

/** The request body for `ask` (without the proof) and the binding a proof for it carries. */
export function askBody(ask: Ask, ctx: CaseContext): { fields: Record<string, unknown>; binding: string } {
  const spiffeId = spiffeIdOf(ask.spiffe, ctx);
  const csr = ctx.csrs[ask.csr]!.text;
  const sid = spiffeId === undefined ? {} : { spiffeId };
  const wire = spiffeId === undefined ? {} : { spiffe_id: spiffeId };
  if (ask.route === "jwt")
    return {
      fields: { audience: ask.audience, ...wire },
      binding: jwtBinding({ audience: ask.audience, ...sid }),
    };
  if (ask.route === "x509") return { fields: { csr, ...wire }, binding: x509Binding({ csr, ...sid }) };
  return {
    fields: { jwt: [{ audience: ask.audience, ...wire }], x509: { csr, ...wire } },
    binding: batchBinding({ jwt: [{ audience: ask.audience, ...sid }], x509: { csr, ...sid } }),
  };
}

export function baseSpec(ctx: CaseContext, who: keyof Principals, binding: string): ProofSpec {
  return {
    principal: ctx.target.principals[who],
    region: ctx.region,
    host: `sts.${ctx.region}.amazonaws.com`,
    date: new Date(),
    method: "POST",
    body: GET_CALLER_IDENTITY_BODY,
    headers: {
      "content-type": FORM_CONTENT_TYPE,
      "x-svid-bridge-server-id": ctx.target.stack.serverId,
      "x-svid-bridge-binding": binding,
      "x-svid-bridge-nonce": randomBytes(16).toString("base64url"),
    },
  };
}

export function jsonRequest(route: Route, body: unknown): RawRequest {
  return {
    method: "POST",
    path: `/v1/svid/${route}`,
    headers: { "content-type": "application/json" },
    body: Buffer.from(typeof body === "string" ? body : JSON.stringify(body)),
  };
}

/** Whether an ask is one the registered role may be answered for. */
export function askMayIssue(ask: Ask, ctx: CaseContext): boolean {
  const spiffeOk = ask.spiffe === "none" || ask.spiffe === "registered";
  return spiffeOk && (ask.route === "jwt" || ctx.csrs[ask.csr]!.mayIssue);
}

/** The exchange's audience rule (lib/exchange/requests.ts), restated: 1–10 unique printable ASCII strings of 1–1000. */
function audienceValid(audience: readonly string[]): boolean {
  return (
    audience.length >= 1 &&
    audience.length <= 10 &&
    new Set(audience).size === audience.length &&
    audience.every((a) => a.length >= 1 && a.length <= 1000 && /^[\x21-\x7e]+$/.test(a))
  );
}

function signed(ask: Ask, ctx: CaseContext, who: keyof Principals = "dev"): RawRequest {
  const { fields, binding } = askBody(ask, ctx);
  return jsonRequest(ask.route, { ...fields, proof: signProof(baseSpec(ctx, who, binding)) });
}

export function materialise(c: Case, ctx: CaseContext): Plan {
  switch (c.t) {
    case "legit": {
      const plan = one(`legit ${c.ask.route}`, signed(c.ask, ctx), askMayIssue(c.ask, ctx), c.ask);
      return { ...plan, mustIssue: askMayIssue(c.ask, ctx) && audienceValid(c.ask.audience) };
    }
    case "proof": {
      const { fields, binding } = askBody(c.ask, ctx);
      const { proof, benign } = mutatedProof(c.mutation, c.n, baseSpec(ctx, "dev", binding), signProof);
      const request = jsonRequest(c.ask.route, { ...fields, proof });
      return one(
        `proof ${c.mutation}/${c.n % 8} ${c.ask.route}`,
        request,
        benign && askMayIssue(c.ask, ctx),
        c.ask,
      );
    }
    case "principal":
      return one(`principal ${c.who} ${c.ask.route}`, signed(c.ask, ctx, c.who), false, c.ask);
    case "switch": {
      const a = askBody(c.ask, ctx);
      const b = askBody(c.other, ctx);
      const proof = signProof(baseSpec(ctx, "dev", a.binding));
      // The same ask under another name is the same ask: only a different one must be refused.
      const same = a.binding === b.binding && c.ask.route === c.other.route;
      return one(
        `switch ${c.ask.route}->${c.other.route}`,
        jsonRequest(c.other.route, { ...b.fields, proof }),
        same && askMayIssue(c.other, ctx),
        c.other,
      );
    }
    case "replay":
      return replayPlan(c.ask, c.mode, ctx);
    case "raw":
      return {
        label: `raw ${c.kind}`,
        mode: "sequential",
        requests: [{ request: rawRequest(c, ctx), mayIssue: false }],
        maxIssued: 0,
      };
  }
}

function one(label: string, request: RawRequest, mayIssue: boolean, ask?: Ask): Plan {
  return {
    label,
    mode: "sequential",
    requests: [{ request, mayIssue, ...(ask && { ask }) }],
    maxIssued: mayIssue ? 1 : 0,
  };
}

function replayPlan(ask: Ask, mode: "sequential" | "concurrent" | "cross-route", ctx: CaseContext): Plan {
  const request = signed(ask, ctx);
  const may = askMayIssue(ask, ctx);
  if (mode === "cross-route") {
    const other: Route = ask.route === "jwt" ? "x509" : "jwt";
    const moved = { ...request, path: `/v1/svid/${other}` };
    return {
      label: "replay cross-route",
      mode: "sequential",
      requests: [{ request: moved, mayIssue: false }],
      maxIssued: 0,
    };
  }
  const copies = mode === "concurrent" ? 4 : 2;
  return {
    label: `replay ${mode} ${ask.route}`,
    mode: mode === "concurrent" ? "concurrent" : "sequential",
    requests: Array.from({ length: copies }, () => ({ request, mayIssue: may, ask })),
    maxIssued: may ? 1 : 0,
  };
}

const CONTENT_TYPES = [
  "text/plain",
  "application/x-www-form-urlencoded",
  "",
  "application/json-patch+json",
  "multipart/form-data; boundary=x",
  "application/jsonx",
  "json",
];
const METHODS = ["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"];
const PATHS = [
  "/v1/svid/jwt/",
  "/V1/SVID/JWT",
  "/v1/svid/../svid/jwt",
  "/v1/svid/jwt%00",
  "/v1/svid",
  "/v1/svid/x509?x=1",
  "/v1/svid/jwks",
  `/v1/${"a".repeat(3000)}`,
];

function rawRequest(c: Extract<Case, { t: "raw" }>, ctx: CaseContext): RawRequest {
  const base = jsonRequest(c.route, c.text);
  const depth = 1 + (c.n % 30_000);
  switch (c.kind) {
    case "json":
      return base;
    case "object":
      return jsonRequest(
        c.route,
        `{"audience":${c.text},"csr":${c.text},"proof":${c.text},"jwt":${c.text}}`
          .replace(/:,|:}/g, ":null,")
          .replace(/,}$/, "}"),
      );
    case "deep": {
      const open = c.n % 2 ? "[" : '{"a":';
      const close = c.n % 2 ? "]" : "}";
      const field = pickOf(["proof", "audience", "csr", "jwt", "x509", "spiffe_id"], c.n);
      return jsonRequest(c.route, `{"${field}":${open.repeat(depth)}1${close.repeat(depth)}}`);
    }
    case "huge":
      return jsonRequest(c.route, `{"csr":"${"A".repeat(64 * 1024 + (c.n % 4) * 256 * 1024)}","proof":{}}`);
    case "content-type": {
      const legit = signed({ route: c.route, audience: ["aud"], spiffe: "none", csr: "ok-p256" }, ctx);
      const type = pickOf(CONTENT_TYPES, c.n);
      return { ...legit, headers: type ? { "content-type": type } : {} };
    }
    case "non-utf8": {
      const bad = pickOf(
        [[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0x80]],
        c.n,
      );
      const legit = signed({ route: "jwt", audience: ["aud"], spiffe: "none", csr: "ok-p256" }, ctx);
      const text = legit.body.toString("utf8");
      const at = text.indexOf('"aud"') + 2;
      return {
        ...legit,
        body: Buffer.concat([Buffer.from(text.slice(0, at)), Buffer.from(bad), Buffer.from(text.slice(at))]),
      };
    }
    case "method":
      return { ...base, method: pickOf(METHODS, c.n) };
    case "path":
      return { ...base, path: pickOf(PATHS, c.n) };
    case "scalar":
      return jsonRequest(
        c.route,
        pickOf(["", "null", "[]", '"x"', "1e999", "{", "{}", '{"proof":{}}', "\ufeff{}", "[{}]"], c.n),
      );
    default:
      return mutatedJson(c, ctx);
  }
}

const pickOf = <T>(list: readonly T[], n: number): T => list[n % list.length]!;

/** A legitimate signed request whose JSON is then changed: a field dropped, added, retyped or repeated. */
function mutatedJson(c: Extract<Case, { t: "raw" }>, ctx: CaseContext): RawRequest {
  const ask: Ask = { route: c.route, audience: ["aud"], spiffe: "none", csr: "ok-p256" };
  const { fields, binding } = askBody(ask, ctx);
  const body: Record<string, unknown> = { ...fields, proof: signProof(baseSpec(ctx, "dev", binding)) };
  const keys = Object.keys(body);
  const key = pickOf(keys, c.n);
  switch (c.n % 6) {
    case 0:
      delete body[key];
      break;
    case 1:
      body[`${key}_`] = body[key];
      break;
    case 2:
      body[key] = other(body[key], JSON.parse(safeJson(c.text)));
      break;
    case 3:
      body[key] = [body[key]];
      break;
    case 4:
      return jsonRequest(
        c.route,
        JSON.stringify(body).replace(
          /}$/,
          `,"${key}":${JSON.stringify(other(body[key], JSON.parse(safeJson(c.text))))}}`,
        ),
      );
    default:
      body.audience = ["aud", "another"];
      body.spiffe_id = "spiffe://example.org/aws/111122223333/svid-bridge-dev";
  }
  return jsonRequest(c.route, body);
}

/** `value`, unless it is what the field already holds (the request would be unchanged). */
function other(held: unknown, value: unknown): unknown {
  return JSON.stringify(held) === JSON.stringify(value) ? { changed: value ?? null } : value;
}

function safeJson(text: string): string {
  try {
    JSON.parse(text);
    return text;
  } catch {
    return JSON.stringify(text);
  }
}
