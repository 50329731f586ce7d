/**
 * Proof mutations for the fuzz suite. A *spec* mutation changes one field of what is
 * signed and re-signs it correctly (lib/proof/sigv4.ts); a *wire* mutation changes the
 * signed proof as it travels. `benign` mutations leave a proof the bridge may accept;
 * every other one must be refused, whatever the rest of the request.
 */
import { createHash, randomBytes } from "node:crypto";
import type { DevPrincipal } from "../../lib/local/sts-server.js";
import { makeDevRolePrincipal } from "../../lib/local/sts-server.js";
import { FORM_CONTENT_TYPE, GET_CALLER_IDENTITY_BODY } from "../../lib/proof/proof-format.js";
import type { ProofSpec } from "./fuzz-target.js";

type WireProof = { method: string; headers: [string, string][]; body: string };
type Mutation = {
  benign: boolean;
  spec?: (s: ProofSpec, n: number) => void;
  wire?: (p: WireProof, n: number) => unknown;
};

const pick = <T>(list: readonly T[], n: number): T => list[n % list.length]!;
const SERVER_ID = "x-svid-bridge-server-id";
const BINDING = "x-svid-bridge-binding";
const NONCE = "x-svid-bridge-nonce";
const ago = (s: ProofSpec, seconds: number) => {
  s.date = new Date(s.date.getTime() + seconds * 1000);
};
const setHeader = (p: WireProof, name: string, f: (v: string) => string) => {
  p.headers = p.headers.map(([k, v]) => [k, k === name ? f(v) : v]);
};
const OTHER_REGIONS: [string, string][] = [
  ["us-east-1", "sts.us-east-1.amazonaws.com"],
  ["eu-west-2", "sts.eu-west-2.amazonaws.com"],
  ["ap-southeast-2", "sts.ap-southeast-2.amazonaws.com"],
  ["cn-north-1", "sts.cn-north-1.amazonaws.com.cn"],
  ["us-gov-west-1", "sts.us-gov-west-1.amazonaws.com"],
  ["eu-central-12", "sts.eu-central-12.amazonaws.com"],
];
const SIGNED_NAMES = [
  "authorization",
  "host",
  "x-amz-date",
  "x-amz-security-token",
  "content-type",
  SERVER_ID,
  BINDING,
  NONCE,
];

/** Every mutation by name. */
export const MUTATIONS: Record<string, Mutation> = {
  none: { benign: true },
  "nonce-absent": { benign: true, spec: (s) => delete s.headers[NONCE] },
  "header-case": {
    benign: true,
    wire: (p, n) => {
      const i = n % p.headers.length;
      p.headers[i] = [p.headers[i]![0].toUpperCase(), p.headers[i]![1]];
    },
  },
  "content-sha256": {
    benign: true,
    spec: (s) => {
      s.headers["x-amz-content-sha256"] = createHash("sha256").update(s.body).digest("hex");
    },
  },
  "content-type-bare": {
    benign: true,
    spec: (s) => (s.headers["content-type"] = "application/x-www-form-urlencoded"),
  },
  "date-past-60": { benign: true, spec: (s) => ago(s, -60) },
  "date-ahead-20": { benign: true, spec: (s) => ago(s, 20) },
  "order-reversed": { benign: true, wire: (p) => void p.headers.reverse() },
  method: { benign: false, spec: (s, n) => (s.method = pick(["GET", "PUT", "post", "DELETE", ""], n)) },
  body: {
    benign: false,
    spec: (s, n) =>
      (s.body = pick(
        [
          "Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::1:role/x&RoleSessionName=x",
          "Action=GetCallerIdentity&Version=2011-06-15&Extra=1",
          "Action=GetCallerIdentity&Version=2012-01-01",
          `${GET_CALLER_IDENTITY_BODY}\n`,
          "",
        ],
        n,
      )),
  },
  "host-evil": {
    benign: false,
    spec: (s, n) =>
      (s.host = pick(
        [
          "evil.example.com",
          "sts.eu-west-1.amazonaws.com.evil.example",
          "127.0.0.1:1",
          "sts.eu-west-1.amazonaws.com:443",
        ],
        n,
      )),
  },
  "host-global": {
    benign: false,
    spec: (s) => {
      s.host = "sts.amazonaws.com";
      s.region = "us-east-1";
    },
  },
  "host-other-region": { benign: false, spec: (s, n) => (s.host = pick(OTHER_REGIONS, n)[1]) },
  "region-other": { benign: false, spec: (s, n) => ([s.region, s.host] = pick(OTHER_REGIONS, n)) },
  "region-scope-only": { benign: false, spec: (s, n) => (s.region = pick(OTHER_REGIONS, n)[0]) },
  "content-type-json": {
    benign: false,
    spec: (s, n) =>
      (s.headers["content-type"] = pick(["application/json", "text/plain", `${FORM_CONTENT_TYPE}; x=1`], n)),
  },
  "server-id-other": {
    benign: false,
    spec: (s, n) =>
      (s.headers[SERVER_ID] = pick(
        ["https://other.example", "", `${s.headers[SERVER_ID]}/`, s.headers[SERVER_ID]!.toUpperCase()],
        n,
      )),
  },
  "server-id-absent": { benign: false, spec: (s) => delete s.headers[SERVER_ID] },
  "binding-other": {
    benign: false,
    spec: (s, n) =>
      (s.headers[BINDING] = pick(
        [randomBytes(32).toString("base64url"), "", "A".repeat(43), s.headers[BINDING]!.slice(1)],
        n,
      )),
  },
  "binding-absent": { benign: false, spec: (s) => delete s.headers[BINDING] },
  "nonce-bad": {
    benign: false,
    spec: (s, n) =>
      (s.headers[NONCE] = pick(["short", "has space in it 123456", "é".repeat(20), "a".repeat(65)], n)),
  },
  "date-old": { benign: false, spec: (s, n) => ago(s, -pick([180, 900, 86_400, 365 * 86_400], n)) },
  "date-future": { benign: false, spec: (s, n) => ago(s, pick([90, 900, 86_400], n)) },
  "extra-header": {
    benign: false,
    spec: (s, n) => {
      const [k, v] = pick(
        [
          ["x-amz-target", "AWSSecurityTokenServiceV20110615.AssumeRole"],
          ["x-forwarded-for", "10.0.0.1"],
          ["x-amz-user-agent", "aws-sdk"],
          ["x-svid-bridge-other", "1"],
          ["transfer-encoding", "chunked"],
          ["x-amz-security-token-2", "x"],
        ],
        n,
      );
      s.headers[k] = v;
    },
  },
  "secret-wrong": { benign: false, spec: (s) => (s.secret = randomBytes(30).toString("base64")) },
  "token-wrong": { benign: false, spec: (s) => (s.sessionToken = randomBytes(96).toString("base64")) },
  "token-empty": { benign: false, spec: (s) => (s.sessionToken = "") },
  "access-key-unknown": { benign: false, spec: (s) => (s.principal = unknownPrincipal()) },
  "sig-flip": { benign: false, wire: (p, n) => setHeader(p, "authorization", (v) => flipHex(v, n)) },
  drop: {
    benign: false,
    wire: (p, n) => {
      p.headers = p.headers.filter(([k]) => k !== pick(SIGNED_NAMES, n));
    },
  },
  duplicate: {
    benign: false,
    wire: (p, n) => {
      const name = pick(SIGNED_NAMES, n);
      const found = p.headers.find(([k]) => k === name);
      if (found) p.headers.push([pick([name, name.toUpperCase()], n >> 3), found[1]]);
      else p.headers.push(["authorization", "AWS4-HMAC-SHA256 x"]);
    },
  },
  "add-unsigned": {
    benign: false,
    wire: (p) =>
      void p.headers.push(["x-amz-content-sha256", createHash("sha256").update(p.body).digest("hex")]),
  },
  sigv4a: {
    benign: false,
    wire: (p) =>
      setHeader(p, "authorization", (v) => v.replace("AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256")),
  },
  "auth-garbage": {
    benign: false,
    wire: (p, n) =>
      setHeader(p, "authorization", (v) =>
        pick(
          [
            "",
            "Bearer x",
            v.replace("/sts/", "/s3/"),
            v.replace(/Signature=[0-9a-f]+/, "Signature=ZZ"),
            `${v}, Signature=${"0".repeat(64)}`,
            v.replace(/Credential=[A-Z0-9]+/, "Credential=../../x"),
          ],
          n,
        ),
      ),
  },
  "signed-headers-drop": {
    benign: false,
    wire: (p, n) =>
      setHeader(p, "authorization", (v) =>
        v.replace(new RegExp(`;?${pick([SERVER_ID, BINDING, "host", "x-amz-date"], n)}`), ""),
      ),
  },
  "signed-headers-dup": {
    benign: false,
    wire: (p) => setHeader(p, "authorization", (v) => v.replace("SignedHeaders=", "SignedHeaders=host;")),
  },
  "name-bad": {
    benign: false,
    wire: (p, n) =>
      void p.headers.push([pick(["host ", "ho:st", "x_amz_date", "", "x".repeat(65), "é"], n), "v"]),
  },
  "value-bad": {
    benign: false,
    wire: (p, n) => setHeader(p, NONCE, () => pick(["a\r\nx-amz-target: evil", "é", "\u0000", "\t"], n)),
  },
  "value-huge": { benign: false, wire: (p) => setHeader(p, NONCE, () => "a".repeat(9000)) },
  "too-many-headers": {
    benign: false,
    wire: (p) => {
      for (let i = 0; i < 20; i++) p.headers.push([`x-pad-${i}`, "1"]);
    },
  },
  "shape-url": {
    benign: false,
    wire: (p, n) => ({
      ...p,
      [pick(["url", "path", "Host", "hostname", "query", "PORT"], n)]: "https://evil.example/",
    }),
  },
  "shape-unknown": { benign: false, wire: (p) => ({ ...p, extra: 1 }) },
  "shape-not-object": {
    benign: false,
    wire: (p, n) => pick([JSON.stringify(p), [p], 1, true, "", [], {}], n),
  },
  "shape-headers-object": { benign: false, wire: (p) => ({ ...p, headers: Object.fromEntries(p.headers) }) },
  "shape-pair": {
    benign: false,
    wire: (p, n) => ({
      ...p,
      headers: [...p.headers, pick([["a"], ["a", "b", "c"], ["a", 1], null, "a: b"], n)],
    }),
  },
  "shape-types": {
    benign: false,
    wire: (p, n) => ({ ...p, ...pick([{ method: 1 }, { body: null }, { headers: "x" }], n) }),
  },
};

function flipHex(value: string, n: number): string {
  const at = value.length - 1 - (n % 64);
  const c = value[at]!;
  return value.slice(0, at) + (c === "0" ? "1" : "0") + value.slice(at + 1);
}

let unknown: DevPrincipal | undefined;
function unknownPrincipal(): DevPrincipal {
  unknown ??= makeDevRolePrincipal({
    account: "111122223333",
    roleName: "svid-bridge-dev",
    sessionName: "dev",
  });
  return unknown;
}

export const MUTATION_NAMES = Object.keys(MUTATIONS);

/** Applies mutation `name` (parameter `n`) to a spec, signs it with `sign`, then mutates the wire form. */
export function mutatedProof(
  name: string,
  n: number,
  spec: ProofSpec,
  sign: (spec: ProofSpec) => WireProof,
): { proof: unknown; benign: boolean } {
  const mutation = MUTATIONS[name]!;
  mutation.spec?.(spec, n);
  const signed = sign(spec);
  const replaced = mutation.wire?.(signed, n);
  return { proof: replaced === undefined ? signed : replaced, benign: mutation.benign };
}
