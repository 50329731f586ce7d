/**
 * Issue 14, fault 1, at the exchange over HTTP (the dev stack): the PEM payload that held
 * the process for seconds is refused at once, and every proof rule runs before any CSR
 * is parsed, so an unauthenticated request costs microseconds whatever its CSR.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { x509Binding } from "../../lib/proof/binding.js";
import { type DevBridge, fault1Payload, startDevBridge } from "./dev-bridge.js";

let bridge: DevBridge;
beforeAll(async () => {
  bridge = await startDevBridge();
}, 60_000);
afterAll(() => bridge?.stack.stop());

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const value = await f();
  return [value, performance.now() - started];
}

describe("fault 1: cheap checks first", () => {
  it.each([30, 40])(
    "fault 1: PEM with header-like lines (%i lines, no credentials) is refused fast with a 4xx",
    async (lines) => {
      const [answer, ms] = await timed(() =>
        bridge.post("/v1/svid/x509", { csr: fault1Payload(lines), proof: {} }),
      );
      expect(answer.status).toBe(400);
      expect(answer.body.error).toBe("proof_malformed"); // the proof is looked at first
      expect(ms).toBeLessThan(1000); // the fault: ~6 s at 30 lines, doubling per line
    },
  );

  it.each([30, 40])(
    "fault 1: the same PEM with a valid proof bound to it reaches the strict reader: csr_malformed, fast",
    async (lines) => {
      const csr = fault1Payload(lines);
      const proof = await bridge.proofFor(x509Binding({ csr }));
      const [answer, ms] = await timed(() => bridge.post("/v1/svid/x509", { csr, proof }));
      expect(answer.status).toBe(400);
      expect(answer.body.error).toBe("csr_malformed");
      expect(String(answer.body.message)).toContain("PEM headers");
      expect(ms).toBeLessThan(1000);
    },
  );

  it("fault 1: an unauthenticated X.509 request with a huge-but-capped CSR never reaches the CSR parser", async () => {
    // 15 KiB of header lines (under the 16 KiB CSR cap): were it parsed, it would be csr_malformed.
    const csr = fault1Payload(2500);
    for (const proof of [{}, { method: "POST", body: "x", headers: [] }, "junk"]) {
      const answer = await bridge.post("/v1/svid/x509", { csr, proof });
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(answer.status).toBeLessThan(500);
      expect(answer.body.error).toMatch(/^proof_/);
    }
    // A well-formed proof for another server ID, or bound to another CSR, is refused by its rule too.
    const otherServer = await bridge.proofFor(x509Binding({ csr }), { serverId: "https://other.example" });
    expect((await bridge.post("/v1/svid/x509", { csr, proof: otherServer })).body.error).toBe(
      "proof_server_id_mismatch",
    );
    const otherCsr = await bridge.proofFor(x509Binding({ csr: "MIIB" }));
    expect((await bridge.post("/v1/svid/x509", { csr, proof: otherCsr })).body.error).toBe(
      "proof_binding_mismatch",
    );
  });
});
