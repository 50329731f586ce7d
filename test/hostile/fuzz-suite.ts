/**
 * Fuzz of the exchange over HTTP (the dev stack), seeded and reproducible (issue 14):
 * random and mutated JSON, huge and deeply nested bodies, wrong media types, non-UTF-8
 * bytes; proofs with one field mutated and correctly signed by an independent SigV4
 * signer; replays; other regions; weak-key CSRs and PEM near-misses with valid proofs.
 * The dev principal has no registration here, so any SVID issued is an unauthorised one.
 * FUZZ_SEED and FUZZ_REQUESTS (the soak run) change the seed and the count.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jwtBinding, x509Binding } from "../../lib/proof/binding.js";
import { GET_CALLER_IDENTITY_BODY } from "../../lib/proof/proof-format.js";
import { makeCsr, makeWorkloadKey } from "../support/x509-fixtures.js";
import { type DevBridge, fault1Payload, startDevBridge } from "./dev-bridge.js";
import { signRaw } from "./sigv4.js";
import { note } from "./tally.js";
import { weakKeyCsrs } from "./weak-keys.js";

const SEED = Number(process.env.FUZZ_SEED ?? 14);
const TOTAL = Number(process.env.FUZZ_REQUESTS ?? 10_000);
const REGION = "eu-west-1";
const PATHS = ["/v1/svid/jwt", "/v1/svid/x509", "/v1/bundle", "/v1/nope", "/"];

interface Ask {
  what: string;
  path: string;
  type: string | undefined;
  body: string | Uint8Array;
}

const json = (what: string, path: string, value: unknown): Ask => ({
  what,
  path,
  type: "application/json",
  body: JSON.stringify(value),
});

let bridge: DevBridge;

/** A proof by the dev principal, correctly signed, with one field changed before signing. */
async function mutatedSignedProof(binding: string, mutation: number, at: number) {
  const p = bridge.stack.principal;
  const credentials = {
    accessKeyId: p.accessKeyId,
    secretAccessKey: p.secretAccessKey,
    sessionToken: p.sessionToken!,
  };
  const base = {
    "content-type": "application/x-www-form-urlencoded; charset=utf-8",
    "x-svid-bridge-server-id": bridge.stack.serverId,
    "x-svid-bridge-binding": binding,
  };
  const cases: Array<Partial<Parameters<typeof signRaw>[0]> & { what: string }> = [
    { what: "other region", region: "us-east-1", host: "sts.us-east-1.amazonaws.com" },
    { what: "region eu-central-12", region: "eu-central-12", host: "sts.eu-central-12.amazonaws.com" },
    { what: "China region", region: "cn-north-1", host: "sts.cn-north-1.amazonaws.com.cn" },
    { what: "host not the region's", host: "sts.us-west-2.amazonaws.com" },
    { what: "host elsewhere", host: "169.254.169.254" },
    { what: "other server ID", headers: { ...base, "x-svid-bridge-server-id": "https://other.example" } },
    {
      what: "other binding",
      headers: { ...base, "x-svid-bridge-binding": jwtBinding({ audience: ["zz"] }) },
    },
    {
      what: "X-Amz-Target",
      headers: { ...base, "x-amz-target": "AWSSecurityTokenServiceV20110615.AssumeRole" },
    },
    { what: "other action", body: "Action=AssumeRole&Version=2011-06-15" },
    { what: "old", at: new Date(at - 10 * 60_000) },
    { what: "ahead", at: new Date(at + 10 * 60_000) },
    {
      what: "no content type",
      headers: {
        "x-svid-bridge-server-id": base["x-svid-bridge-server-id"],
        "x-svid-bridge-binding": binding,
      },
    },
    { what: "wrong secret", credentials: { ...credentials, secretAccessKey: "wrong" } },
    { what: "unknown key", credentials: { ...credentials, accessKeyId: "ASIAUNKNOWNKEY000000" } },
    { what: "as signed" },
  ];
  const c = cases[mutation % cases.length]!;
  const region = c.region ?? REGION;
  const proof = await signRaw({
    region,
    host: c.host ?? `sts.${REGION}.amazonaws.com`,
    headers: c.headers ?? base,
    body: c.body ?? GET_CALLER_IDENTITY_BODY,
    credentials: c.credentials ?? credentials,
    at: c.at ?? new Date(at),
  });
  return { what: c.what, proof };
}

/** One field of a JSON value replaced, removed, or a new one added. */
interface Pick {
  nextInt(min: number, max: number): number;
}

function mutate(value: Record<string, unknown>, rnd: Pick, junk: unknown): Record<string, unknown> {
  const keys = Object.keys(value);
  const copy: Record<string, unknown> = { ...value };
  const key = keys[rnd.nextInt(0, keys.length - 1)]!;
  switch (rnd.nextInt(0, 4)) {
    case 0:
      delete copy[key];
      break;
    case 1:
      copy[key] = junk;
      break;
    case 2:
      copy[`x${rnd.nextInt(0, 9)}`] = junk;
      break;
    case 3:
      copy[key] = [copy[key]];
      break;
    default:
      if (typeof copy.proof === "object" && copy.proof !== null) {
        const proof = { ...(copy.proof as Record<string, unknown>) };
        const headers = [...(proof.headers as [string, string][])];
        const i = rnd.nextInt(0, headers.length - 1);
        headers[i] = [headers[i]![0], `${headers[i]![1]}x`];
        copy.proof = { ...proof, headers };
      } else copy[key] = null;
  }
  return copy;
}

async function buildAsks(): Promise<Ask[]> {
  const out: Ask[] = [];
  const junk = fc.sample(fc.jsonValue({ maxDepth: 3 }), { seed: SEED, numRuns: Math.ceil(TOTAL * 0.46) });
  // Random JSON to every route.
  for (const [i, v] of junk.entries()) out.push(json("random JSON", PATHS[i % PATHS.length]!, v));
  // Valid-looking requests, one field mutated (the proofs are real; most are refused before STS).
  const csr = await makeCsr(await makeWorkloadKey("ec-p256"));
  const bases: Record<string, unknown>[] = [];
  for (let i = 0; i < 20; i++) {
    bases.push({ audience: ["a"], proof: await bridge.proofFor(jwtBinding({ audience: ["a"] })) });
    bases.push({ csr, proof: await bridge.proofFor(x509Binding({ csr })) });
  }
  const mutations = fc.sample(fc.tuple(fc.nat(), fc.jsonValue({ maxDepth: 2 })), {
    seed: SEED + 1,
    numRuns: Math.ceil(TOTAL * 0.25),
  });
  const rnd = fc.sample(fc.nat(), { seed: SEED + 2, numRuns: mutations.length });
  mutations.forEach(([pick, value], i) => {
    const base = bases[pick % bases.length]!;
    const copy = mutateSeeded(base, rnd[i]!, value);
    out.push(json("mutated request", "csr" in base ? "/v1/svid/x509" : "/v1/svid/jwt", copy));
  });
  out.push(...rawBodies(Math.ceil(TOTAL * 0.13)));
  out.push(...hugeBodies());
  const at = Date.now();
  const signedCount = Math.ceil(TOTAL * 0.15);
  for (let i = 0; i < signedCount; i++) {
    const x509 = i % 2 === 1;
    const binding = x509 ? x509Binding({ csr }) : jwtBinding({ audience: ["a"] });
    const { what, proof } = await mutatedSignedProof(binding, i, at);
    out.push(
      json(
        `signed proof: ${what}`,
        x509 ? "/v1/svid/x509" : "/v1/svid/jwt",
        x509 ? { csr, proof } : { audience: ["a"], proof },
      ),
    );
  }
  for (const [name, weak] of await weakKeyCsrs())
    for (let i = 0; i < 20; i++)
      out.push(
        json(`CSR ${name}`, "/v1/svid/x509", {
          csr: weak,
          proof: await bridge.proofFor(x509Binding({ csr: weak })),
        }),
      );
  const manySans = await makeCsr(await makeWorkloadKey("ec-p256"), {
    sans: Array.from({ length: 200 }, (_, i) => `spiffe://example.org/x${i}`),
  });
  for (const near of [...pemNearMisses(csr), manySans])
    out.push(
      json("CSR near-miss", "/v1/svid/x509", {
        csr: near,
        proof: await bridge.proofFor(x509Binding({ csr: near })),
      }),
    );
  return out;
}

function mutateSeeded(base: Record<string, unknown>, seed: number, junk: unknown): Record<string, unknown> {
  let state = seed + 1;
  const next = (max: number) => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state % (max + 1);
  };
  return mutate(base, { nextInt: (_min, max) => next(max) }, junk);
}

function rawBodies(count: number): Ask[] {
  const bytes = fc.sample(fc.uint8Array({ maxLength: 300 }), { seed: SEED + 3, numRuns: count });
  const types = [
    undefined,
    "text/plain",
    "application/x-www-form-urlencoded",
    "application/json; charset=latin1",
    "application/JSON",
    "application/json",
  ];
  return bytes.map((b, i) => {
    const body =
      i % 3 === 0
        ? Uint8Array.from([...Buffer.from('{"audience":["'), 0xff, 0xfe, ...Buffer.from('"]}')])
        : b;
    return { what: "raw bytes", path: PATHS[i % 2]!, type: types[i % types.length], body };
  });
}

function hugeBodies(): Ask[] {
  const out: Ask[] = [];
  for (const depth of [100, 1000, 10_000, 30_000]) {
    out.push({
      what: `nested [ ${depth}`,
      path: "/v1/svid/jwt",
      type: "application/json",
      body: `${"[".repeat(depth)}${"]".repeat(depth)}`,
    });
    out.push({
      what: `nested { ${depth}`,
      path: "/v1/svid/jwt",
      type: "application/json",
      body: `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`,
    });
  }
  for (const size of [60_000, 70_000, 1_000_000])
    out.push(json(`big ${size}`, "/v1/svid/x509", { csr: "A".repeat(size), proof: {} }));
  out.push(
    json("many audiences", "/v1/svid/jwt", {
      audience: Array.from({ length: 5000 }, (_, i) => `a${i}`),
      proof: {},
    }),
  );
  return out;
}

function pemNearMisses(csr: string): string[] {
  const lines = csr.trim().split("\n");
  return [
    fault1Payload(30),
    fault1Payload(40),
    fault1Payload(2000),
    csr.replace(
      "-----BEGIN CERTIFICATE REQUEST-----\n",
      "-----BEGIN CERTIFICATE REQUEST-----\nProc-Type: 4,ENCRYPTED\n",
    ),
    csr.replace("CERTIFICATE REQUEST", "CERTIFICATE"),
    csr.replace("-----END CERTIFICATE REQUEST-----", ""),
    `${csr}${csr}`,
    lines.slice(0, -2).concat(lines.slice(-1)).join("\n"),
    csr.replace(/[A-Z]/, "!"),
    `junk\n${csr}`,
    csr.replaceAll("\n", "\r\n"),
    csr.replaceAll("\n", ""),
  ];
}

async function send(ask: Ask): Promise<void> {
  const started = performance.now();
  try {
    const res = await fetch(`${bridge.stack.url}${ask.path}`, {
      method: "POST",
      headers: ask.type === undefined ? {} : { "content-type": ask.type },
      body: ask.body,
    });
    const text = await res.text();
    let parsed: { svids?: unknown } | undefined;
    try {
      parsed = JSON.parse(text) as { svids?: unknown };
    } catch {
      parsed = undefined;
    }
    const issued = res.status < 300 && parsed?.svids !== undefined;
    note(
      ask.what,
      parsed === undefined && res.status !== 405 ? "crash" : res.status,
      performance.now() - started,
      issued,
    );
  } catch {
    note(ask.what, "crash", performance.now() - started);
  }
}

describe("hostile: fuzz of the exchange over HTTP", () => {
  beforeAll(async () => {
    bridge = await startDevBridge(REGION, { seed: false });
  }, 60_000);
  afterAll(() => bridge?.stack.stop());

  it(`${TOTAL}+ seeded requests: no 5xx, no crash, no SVID for an unregistered caller`, async () => {
    const all = await buildAsks();
    expect(all.length).toBeGreaterThanOrEqual(TOTAL);
    let next = 0;
    const worker = async () => {
      while (next < all.length) await send(all[next++]!);
    };
    await Promise.all(Array.from({ length: 8 }, worker));
  }, 120_000);
});
