/**
 * The extension's proofs against the real server half: the fake exchange checks each one
 * with lib/proof's StsCallerVerifier and a LocalSts that knows the function's credentials.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HttpExchangeClient } from "../../layers/extension/src/exchange-client.js";
import { type ProofBuilder, stsProofBuilder } from "../../layers/extension/src/proof-builder.js";
import { createWorkloadKey } from "../../layers/extension/src/workload-key.js";
import { BridgeError } from "../../lib/errors.js";
import { type FakeExchange, startFakeExchange } from "../support/fake-exchange.js";

describe("the extension's proofs at the exchange", () => {
  let exchange: FakeExchange;
  let proofs: ProofBuilder;

  beforeAll(async () => {
    exchange = await startFakeExchange();
    proofs = stsProofBuilder({
      credentials: async () => exchange.principal,
      region: "us-east-1",
      serverId: exchange.serverId,
    });
  });
  afterAll(() => exchange.stop());

  const client = (p: ProofBuilder) => new HttpExchangeClient({ baseUrl: exchange.url, proofs: p });

  async function refusal(work: Promise<unknown>): Promise<{ code: string; upstream: unknown }> {
    const error = await work.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BridgeError);
    const e = error as BridgeError;
    return { code: e.code, upstream: e.details?.upstream };
  }

  it("are accepted as the function's role, for a JWT-SVID and an X.509-SVID", async () => {
    const before = exchange.callers.length;
    await client(proofs).fetchJwtSvid(["aud-a"]);
    const key = await createWorkloadKey();
    await client(proofs).fetchX509Svid(key.csrPem, key.spki);
    expect(exchange.callers.slice(before).map((c) => c.arn)).toEqual([
      exchange.principal.arn,
      exchange.principal.arn,
    ]);
  });

  it("are accepted for a batch: one proof bound to every ask, one STS call", async () => {
    const key = await createWorkloadKey();
    const stsCalls = exchange.sts.received;
    const asked = { jwt: exchange.count("/v1/svid/jwt"), x509: exchange.count("/v1/svid/x509") };
    const out = await client(proofs).batch({
      jwt: [{ audience: ["aud-a"] }, { audience: ["aud-b", "aud-c"] }],
      x509: { csrPem: key.csrPem, spki: key.spki },
    });
    expect(out.jwt).toHaveLength(2);
    expect(out.x509?.certificateChainPem).toContain("-----BEGIN CERTIFICATE");
    expect(exchange.sts.received).toBe(stsCalls + 1);
    // The fake exchange counts each ask of a batch under its kind.
    expect(exchange.count("/v1/svid/jwt")).toBe(asked.jwt + 2);
    expect(exchange.count("/v1/svid/x509")).toBe(asked.x509 + 1);
  });

  it("a batch proof bound to other asks is refused (proof_binding_mismatch)", async () => {
    const otherAsks: ProofBuilder = {
      ...proofs,
      proofForBatch: (ask) => proofs.proofForBatch({ ...ask, jwt: [{ audience: ["aud-other"] }] }),
    };
    expect(await refusal(client(otherAsks).batch({ jwt: [{ audience: ["aud-a"] }] }))).toEqual({
      code: "exchange_rejected",
      upstream: "proof_binding_mismatch",
    });
  });

  it("are fresh on every call: two proofs for the same ask differ, and both are accepted", async () => {
    const ask = { kind: "jwt" as const, audience: ["aud-a"] };
    const [a, b] = await Promise.all([proofs.proofFor(ask), proofs.proofFor(ask)]);
    expect(a).not.toEqual(b);
    await Promise.all([client(proofs).fetchJwtSvid(["aud-a"]), client(proofs).fetchJwtSvid(["aud-a"])]);
  });

  it("a proof sent twice is refused the second time (proof_replayed), not retried as 503", async () => {
    let first: Awaited<ReturnType<ProofBuilder["proofFor"]>> | undefined;
    const reusing: ProofBuilder = {
      ...proofs,
      proofFor: async (ask) => {
        first ??= await proofs.proofFor(ask);
        return first;
      },
    };
    await client(reusing).fetchJwtSvid(["aud-a"]);
    expect(await refusal(client(reusing).fetchJwtSvid(["aud-a"]))).toEqual({
      code: "exchange_rejected",
      upstream: "proof_replayed",
    });
  });

  it("a proof for another bridge is refused (proof_server_id_mismatch)", async () => {
    const elsewhere = stsProofBuilder({
      credentials: async () => exchange.principal,
      region: "us-east-1",
      serverId: "other-bridge.example.org",
    });
    const stsCalls = exchange.sts.received;
    expect(await refusal(client(elsewhere).fetchJwtSvid(["aud-a"]))).toEqual({
      code: "exchange_rejected",
      upstream: "proof_server_id_mismatch",
    });
    expect(exchange.refusals.at(-1)).toBe("proof_server_id_mismatch");
    // Refused before STS was asked.
    expect(exchange.sts.received).toBe(stsCalls);
  });

  it("a proof bound to another audience is refused (proof_binding_mismatch)", async () => {
    const otherAudience: ProofBuilder = {
      ...proofs,
      proofFor: (ask) => proofs.proofFor(ask.kind === "jwt" ? { ...ask, audience: ["aud-other"] } : ask),
    };
    expect(await refusal(client(otherAudience).fetchJwtSvid(["aud-a"]))).toEqual({
      code: "exchange_rejected",
      upstream: "proof_binding_mismatch",
    });
  });

  it("a proof bound to another CSR than the one sent is refused (proof_binding_mismatch)", async () => {
    const other = await createWorkloadKey();
    const otherKey: ProofBuilder = {
      ...proofs,
      proofFor: (ask) => proofs.proofFor(ask.kind === "x509" ? { kind: "x509", csr: other.csrPem } : ask),
    };
    const key = await createWorkloadKey();
    expect(await refusal(client(otherKey).fetchX509Svid(key.csrPem, key.spki))).toEqual({
      code: "exchange_rejected",
      upstream: "proof_binding_mismatch",
    });
  });

  it("a proof signed with another secret is refused by STS (proof_rejected)", async () => {
    const forged = stsProofBuilder({
      credentials: async () => ({ ...exchange.principal, secretAccessKey: "not-the-secret" }),
      region: "us-east-1",
      serverId: exchange.serverId,
    });
    expect(await refusal(client(forged).fetchJwtSvid(["aud-a"]))).toEqual({
      code: "exchange_rejected",
      upstream: "proof_rejected",
    });
  });
});
