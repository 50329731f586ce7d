/**
 * Issue 14's faults at the exchange over HTTP (the dev stack: real SigV4 at LocalSts,
 * dynalite, the real composition): each test is named after its fault.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { x509Binding } from "../../lib/proof/binding.js";
import { makeCsr, makeWorkloadKey } from "../support/x509-fixtures.js";
import { type DevBridge, startDevBridge } from "./dev-bridge.js";
import { rsaExponentCsr, rsaExponentOneCsr } from "./weak-keys.js";

let bridge: DevBridge;
beforeAll(async () => {
  bridge = await startDevBridge();
}, 60_000);
afterAll(() => bridge?.stack.stop());

async function askX509(csr: string, spiffeId?: string) {
  const proof = await bridge.proofFor(x509Binding({ csr, ...(spiffeId && { spiffeId }) }));
  return bridge.post("/v1/svid/x509", { csr, ...(spiffeId && { spiffe_id: spiffeId }), proof });
}

describe("issue 14 at the exchange", () => {
  it("a sound CSR with a valid proof gets an X.509-SVID (the baseline the refusals are measured against)", async () => {
    const answer = await askX509(await makeCsr(await makeWorkloadKey("ec-p256")));
    expect(answer.status).toBe(200);
  });

  it("fault 2: an RSA key with public exponent 1, validly self-signed and with a valid proof, is not certified", async () => {
    const answer = await askX509(rsaExponentOneCsr());
    expect(answer.status).toBe(400);
    expect(answer.body.error).toBe("unsupported_key");
    expect(answer.body.svids).toBeUndefined();
  });

  it("fault 2: RSA e = 3 is not certified either", async () => {
    const answer = await askX509(await rsaExponentCsr(3));
    expect(answer.body.error).toBe("unsupported_key");
  });

  it("fault 5: a captured X.509 request switched to another spiffe_id is refused (proof_binding_mismatch)", async () => {
    const csr = await makeCsr(await makeWorkloadKey("ec-p256"));
    const spiffeId = "spiffe://example.org/dev";
    const proof = await bridge.proofFor(x509Binding({ csr, spiffeId }));
    const switched = await bridge.post("/v1/svid/x509", {
      csr,
      spiffe_id: "spiffe://example.org/other",
      proof,
    });
    expect(switched.status).toBe(401);
    expect(switched.body.error).toBe("proof_binding_mismatch");
    const dropped = await bridge.post("/v1/svid/x509", { csr, proof });
    expect(dropped.body.error).toBe("proof_binding_mismatch");
  });
});
