/**
 * POST /v1/svid/batch with the real server half: the client half's proofs, the real
 * StsCallerVerifier against the local STS, a counted replay cache, local keys and CA,
 * the exchange app on a loopback Function URL. The rules: one proof, one STS call and
 * one replay write for every ask; the proof binds every ask in it; all or nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createExchangeHandler } from "../../lambdas/exchange/app.js";
import { composeExchange } from "../../lambdas/exchange/compose.js";
import { HttpExchangeClient } from "../../layers/extension/src/exchange-client.js";
import { stsProofBuilder } from "../../layers/extension/src/proof-builder.js";
import { createWorkloadKey } from "../../layers/extension/src/workload-key.js";
import { systemClock } from "../../lib/clock.js";
import { BridgeError } from "../../lib/errors.js";
import type { IssuanceEvent } from "../../lib/exchange/exchange-service.js";
import { MAX_BATCH_JWT_ASKS } from "../../lib/exchange/requests.js";
import { startFunctionUrlServer } from "../../lib/local/function-url-server.js";
import { InMemoryKeyManager } from "../../lib/local/in-memory-key-manager.js";
import { InMemoryKeySetStore } from "../../lib/local/in-memory-key-set-store.js";
import { InMemoryRegistrationStore } from "../../lib/local/in-memory-registration-store.js";
import { InMemoryReplayCache } from "../../lib/local/in-memory-replay-cache.js";
import { LocalCaRenewer } from "../../lib/local/local-ca-renewer.js";
import { type DevPrincipal, LocalSts, makeDevRolePrincipal } from "../../lib/local/sts-server.js";
import { type BatchAsk, batchBinding, jwtBinding } from "../../lib/proof/binding.js";
import { buildProof } from "../../lib/proof/client.js";
import { StsCallerVerifier } from "../../lib/proof/sts-caller-verifier.js";
import { rotateKeys } from "../../lib/rotation/rotate-keys.js";
import type { TrustBundle } from "../../lib/spiffe/bundle.js";
import { validateJwtSvid } from "../../lib/spiffe/jwt-svid.js";
import { parseTrustBundle } from "../../lib/spiffe/parse-trust-bundle.js";
import { TrustDomain } from "../../lib/spiffe/spiffe-id.js";
import { parseCertificatesPem } from "../../lib/spiffe/x509-svid.js";
import { hasOpenssl, makeCsr, makeWorkloadKey, opensslVerify, spkiOf } from "../support/x509-fixtures.js";

const td = TrustDomain.parse("example.org");
const ISSUER = "https://oidc.example.org";
const REGION = "eu-west-1";
const ACCOUNT = "111122223333";
const role = makeDevRolePrincipal({ account: ACCOUNT, roleName: "orders-role", sessionName: "orders-fn" });
const jwtOnly = makeDevRolePrincipal({ account: ACCOUNT, roleName: "jwt-only-role", sessionName: "j-fn" });

const sts = new LocalSts({ principals: [role, jwtOnly] });
const replay = new InMemoryReplayCache();
let replayWrites = 0;
const issued: IssuanceEvent[] = [];
let url = "";
let bundle: () => Promise<TrustBundle>;
const closers: Array<() => unknown> = [];

beforeAll(async () => {
  await sts.start();
  const keys = new InMemoryKeyManager();
  const keySetStore = new InMemoryKeySetStore();
  const caRenewer = await LocalCaRenewer.create({ trustDomain: td, keys });
  await rotateKeys({ store: keySetStore, keys, clock: systemClock, config: { alg: "ES256" }, caRenewer });
  const registrations = new InMemoryRegistrationStore();
  await registrations.create({
    id: "orders",
    selectors: { account: ACCOUNT, roleName: "orders-role" },
    spiffeId: "spiffe://example.org/orders",
    kinds: ["jwt", "x509"],
    audiences: ["aud-a", "aud-b", "aud-c"],
    enabled: true,
  });
  await registrations.create({
    id: "jwt-only",
    selectors: { account: ACCOUNT, roleName: "jwt-only-role" },
    spiffeId: "spiffe://example.org/jwt-only",
    kinds: ["jwt"],
    enabled: true,
  });
  const verifier = new StsCallerVerifier({
    serverIdValue: ISSUER,
    regions: [REGION],
    replayCache: {
      remember: (key, expiresAt) => {
        replayWrites++;
        return replay.remember(key, expiresAt);
      },
    },
    endpointFor: () => sts.endpoint,
  });
  closers.push(() => verifier.close());
  const composed = composeExchange({
    trustDomain: td,
    issuer: ISSUER,
    verifier,
    registrations,
    keySetStore,
    keys,
    clock: systemClock,
    onIssued: (event) => issued.push(event),
  });
  bundle = composed.bundle;
  const server = await startFunctionUrlServer(createExchangeHandler(composed) as never);
  closers.push(() => server.close());
  url = server.url;
});
afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await sts.stop();
});

const proofFor = (principal: DevPrincipal, binding: string) =>
  buildProof({ region: REGION, credentials: async () => principal, serverId: ISSUER, binding });

async function post(body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${url}/v1/svid/batch`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function x509Ask() {
  const key = await makeWorkloadKey("ec-p256");
  return { csr: await makeCsr(key), spki: await spkiOf(key) };
}

/** The wire body for `ask`, under a proof bound to `boundTo` (default: `ask` itself). */
async function batchBody(principal: DevPrincipal, ask: BatchAsk & { csr?: string }, boundTo: BatchAsk = ask) {
  return {
    jwt: ask.jwt.map((a) => ({ audience: a.audience, ...(a.spiffeId && { spiffe_id: a.spiffeId }) })),
    ...(ask.x509 && { x509: { csr: ask.csr, ...(ask.x509.spiffeId && { spiffe_id: ask.x509.spiffeId }) } }),
    proof: await proofFor(principal, batchBinding(boundTo)),
  };
}

function counters() {
  return { sts: sts.received, replay: replayWrites, issued: issued.length };
}

describe("POST /v1/svid/batch", () => {
  it("answers every ask of a refresh cycle with one STS call and one replay write", async () => {
    const x = await x509Ask();
    const before = counters();
    const ask = { jwt: [{ audience: ["aud-a"] }, { audience: ["aud-b", "aud-c"] }], x509: { csr: x.csr } };
    const { status, json } = await post(await batchBody(role, { ...ask, csr: x.csr }));
    expect(status).toBe(200);
    expect(counters()).toEqual({ sts: before.sts + 1, replay: before.replay + 1, issued: before.issued + 3 });
    const jwt = json.jwt as Array<{ audience: string[]; svids: Array<{ token: string; spiffe_id: string }> }>;
    expect(jwt.map((a) => a.audience)).toEqual([["aud-a"], ["aud-b", "aud-c"]]);
    for (const [i, answer] of jwt.entries()) {
      const v = await validateJwtSvid(answer.svids[0]!.token, {
        audience: ask.jwt[i]!.audience[0]!,
        bundles: await bundle(),
        trustDomains: [td],
        issuer: ISSUER,
      });
      expect(v.spiffeId.toString()).toBe("spiffe://example.org/orders");
    }
    const x509 = json.x509 as { svids: Array<{ certificate_chain: string }>; bundle: string };
    expect(x509.svids).toHaveLength(1);
    if (hasOpenssl())
      opensslVerify(
        parseCertificatesPem(x509.bundle),
        parseCertificatesPem(x509.svids[0]!.certificate_chain),
      );
  });

  it("answers a batch of JWT asks only, and an X.509 ask only", async () => {
    const onlyJwt = await post(await batchBody(role, { jwt: [{ audience: ["aud-a"] }] }));
    expect(onlyJwt.status).toBe(200);
    expect(onlyJwt.json.x509).toBeUndefined();
    const x = await x509Ask();
    const onlyX509 = await post(await batchBody(role, { jwt: [], x509: { csr: x.csr }, csr: x.csr }));
    expect(onlyX509.status).toBe(200);
    expect(onlyX509.json.jwt).toEqual([]);
  });

  it("carries the SPIFFE bundle document GET /v1/bundle serves, whatever was asked", async () => {
    const served = await (await fetch(`${url}/v1/bundle`)).json();
    const x = await x509Ask();
    for (const ask of [
      { jwt: [{ audience: ["aud-a"] }] },
      { jwt: [], x509: { csr: x.csr }, csr: x.csr },
    ] as Array<BatchAsk & { csr?: string }>) {
      const { status, json } = await post(await batchBody(role, ask));
      expect(status).toBe(200);
      expect(json.spiffe_bundle).toEqual(served);
      const parsed = await parseTrustBundle(td, json.spiffe_bundle);
      expect(parsed.jwtAuthorities.length).toBeGreaterThan(0);
      expect(parsed.x509Authorities.length).toBeGreaterThan(0);
    }
  });
});

describe("POST /v1/svid/batch: one proof binds every ask in it", () => {
  it("refuses the proof when any ask differs from what it was made for, before STS is asked", async () => {
    const x = await x509Ask();
    const other = await x509Ask();
    const sent = {
      jwt: [{ audience: ["aud-a"] }, { audience: ["aud-b"] }],
      x509: { csr: x.csr },
      csr: x.csr,
    };
    const madeFor: BatchAsk[] = [
      { jwt: [{ audience: ["aud-a"] }], x509: { csr: x.csr } },
      { jwt: [{ audience: ["aud-a"] }, { audience: ["aud-b"] }] },
      { jwt: [{ audience: ["aud-a"] }, { audience: ["aud-c"] }], x509: { csr: x.csr } },
      {
        jwt: [{ audience: ["aud-a"] }, { audience: ["aud-b"] }, { audience: ["aud-c"] }],
        x509: { csr: x.csr },
      },
      { jwt: [{ audience: ["aud-a", "aud-b"] }], x509: { csr: x.csr } },
      { jwt: [{ audience: ["aud-a"] }, { audience: ["aud-b"] }], x509: { csr: other.csr } },
      {
        jwt: [{ audience: ["aud-a"] }, { audience: ["aud-b"], spiffeId: "spiffe://example.org/orders" }],
        x509: { csr: x.csr },
      },
    ];
    for (const boundTo of madeFor) {
      const before = counters();
      const { status, json } = await post(await batchBody(role, sent, boundTo));
      expect(status).toBe(401);
      expect(json.error).toBe("proof_binding_mismatch");
      expect(counters()).toEqual(before);
    }
  });

  it("refuses a proof made for a single-ask endpoint", async () => {
    const body = {
      jwt: [{ audience: ["aud-a"] }],
      proof: await proofFor(role, jwtBinding({ audience: ["aud-a"] })),
    };
    const { status, json } = await post(body);
    expect([status, json.error]).toEqual([401, "proof_binding_mismatch"]);
  });

  it("spends the proof once: the same batch sent again is refused (proof_replayed)", async () => {
    const body = await batchBody(role, { jwt: [{ audience: ["aud-a"] }] });
    expect((await post(body)).status).toBe(200);
    const again = await post(body);
    expect([again.status, again.json.error]).toEqual([401, "proof_replayed"]);
  });
});

describe("POST /v1/svid/batch: all or nothing", () => {
  it("refuses the whole batch when one JWT ask names an audience the entry does not allow", async () => {
    const x = await x509Ask();
    const before = counters();
    const ask = {
      jwt: [{ audience: ["aud-a"] }, { audience: ["aud-evil"] }],
      x509: { csr: x.csr },
      csr: x.csr,
    };
    const { status, json } = await post(await batchBody(role, ask));
    expect([status, json.error]).toEqual([403, "audience_not_allowed"]);
    expect(json.message).toMatch(/^jwt\[1\]: /);
    expect(json).not.toHaveProperty("jwt");
    expect(json).not.toHaveProperty("x509");
    expect(counters().issued).toBe(before.issued);
  });

  it("refuses the whole batch when the caller may not have an X.509-SVID", async () => {
    const x = await x509Ask();
    const before = counters();
    const ask = { jwt: [{ audience: ["aud-a"] }], x509: { csr: x.csr }, csr: x.csr };
    const { status, json } = await post(await batchBody(jwtOnly, ask));
    expect([status, json.error]).toEqual([403, "svid_kind_not_allowed"]);
    expect(json.message).toMatch(/^x509: /);
    expect(counters().issued).toBe(before.issued);
  });

  it("refuses the whole batch when one ask names a SPIFFE ID the caller is not registered for", async () => {
    const ask = {
      jwt: [{ audience: ["aud-a"] }, { audience: ["aud-b"], spiffeId: "spiffe://example.org/other" }],
    };
    const before = counters();
    const { status, json } = await post(await batchBody(role, ask));
    expect([status, json.error]).toEqual([403, "no_registration"]);
    expect(counters().issued).toBe(before.issued);
  });
});

describe("POST /v1/svid/batch refuses a malformed batch before the proof is spent", () => {
  const cases: Array<[string, (proof: unknown) => unknown, string]> = [
    ["no ask at all", (proof) => ({ jwt: [], proof }), "invalid_request"],
    [
      "a repeated JWT ask",
      (proof) => ({ jwt: [{ audience: ["a", "b"] }, { audience: ["b", "a"] }], proof }),
      "invalid_request",
    ],
    ["jwt not a list", (proof) => ({ jwt: { audience: ["a"] }, proof }), "invalid_request"],
    [
      "an unknown field in an ask",
      (proof) => ({ jwt: [{ audience: ["a"], ttl: 9 }], proof }),
      "unknown_field",
    ],
    [
      "an unknown top-level field",
      (proof) => ({ jwt: [{ audience: ["a"] }], extra: 1, proof }),
      "unknown_field",
    ],
    ["an X.509 ask without a CSR", (proof) => ({ x509: {}, proof }), "invalid_request"],
    [
      "too many JWT asks",
      (proof) => ({
        jwt: Array.from({ length: MAX_BATCH_JWT_ASKS + 1 }, (_, i) => ({ audience: [`a${i}`] })),
        proof,
      }),
      "invalid_request",
    ],
    ["no proof", () => ({ jwt: [{ audience: ["a"] }] }), "proof_malformed"],
  ];
  for (const [what, body, code] of cases)
    it(`${what} (${code})`, async () => {
      const proof = await proofFor(role, batchBinding({ jwt: [{ audience: ["aud-a"] }] }));
      const before = counters();
      const { status, json } = await post(body(proof));
      expect(status).toBeGreaterThanOrEqual(400);
      expect(status).toBeLessThan(500);
      expect(json.error).toBe(code);
      expect(counters()).toEqual(before);
      // The proof was not burned: it still buys what it was made for.
      expect((await post({ jwt: [{ audience: ["aud-a"] }], proof })).status).toBe(200);
    });
});

describe("POST /v1/svid/batch: a CSR that does not parse", () => {
  it("is refused (csr_malformed) after the proof's local rules and before the proof is spent", async () => {
    const csr = "bm90IGEgY3Ny";
    const proof = await proofFor(role, batchBinding({ jwt: [], x509: { csr } }));
    const before = counters();
    const { status, json } = await post({ x509: { csr }, proof });
    expect([status, json.error]).toEqual([400, "csr_malformed"]);
    expect(counters()).toEqual(before);
  });

  it("under a proof bound to another ask is refused by the proof rules first (proof_binding_mismatch)", async () => {
    const proof = await proofFor(role, batchBinding({ jwt: [{ audience: ["aud-a"] }] }));
    const { status, json } = await post({ x509: { csr: "bm90IGEgY3Ny" }, proof });
    expect([status, json.error]).toEqual([401, "proof_binding_mismatch"]);
  });
});

describe("the extension's exchange client: batch", () => {
  const client = () =>
    new HttpExchangeClient({
      baseUrl: url,
      proofs: stsProofBuilder({ credentials: async () => role, region: REGION, serverId: ISSUER }),
    });

  it("fetches every ask under one proof and hands back the SVIDs in the order asked", async () => {
    const key = await createWorkloadKey();
    const before = counters();
    const out = await client().batch({
      jwt: [{ audience: ["aud-b"] }, { audience: ["aud-a"], spiffeId: "spiffe://example.org/orders" }],
      x509: { csrPem: key.csrPem, spki: key.spki },
    });
    expect(counters().sts).toBe(before.sts + 1);
    const audOf = (token: string) =>
      JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()).aud as string[];
    expect(out.jwt.map((s) => audOf(s.token))).toEqual([["aud-b"], ["aud-a"]]);
    expect(out.jwt.every((s) => s.spiffeId.toString() === "spiffe://example.org/orders")).toBe(true);
    expect(out.x509?.certificateChainPem).toContain("-----BEGIN CERTIFICATE");
    expect(out.x509?.bundlePem).toContain("-----BEGIN CERTIFICATE");
  });

  it("rejects the whole call with exchange_rejected when one ask is refused", async () => {
    const error = await client()
      .batch({ jwt: [{ audience: ["aud-a"] }, { audience: ["aud-evil"] }] })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(BridgeError);
    expect((error as BridgeError).code).toBe("exchange_rejected");
    expect((error as BridgeError).details?.upstream).toBe("audience_not_allowed");
  });
});
