/**
 * Issue 14, fault 8: junk proofs cost the bridge real calls. A cap on concurrent STS
 * calls sheds with 429 sts_busy + Retry-After; credentials STS refused as unknown or
 * expired are refused locally for a while, without a replay write or an STS call.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../lib/clock.js";
import { BridgeError } from "../../lib/errors.js";
import { errorToResponse } from "../../lib/http/responses.js";
import { InMemoryReplayCache } from "../../lib/local/in-memory-replay-cache.js";
import { getCallerIdentityXml, LocalSts, makeDevRolePrincipal } from "../../lib/local/sts-server.js";
import { jwtBinding } from "../../lib/proof/binding.js";
import { buildProof } from "../../lib/proof/client.js";
import { StsCallerVerifier } from "../../lib/proof/sts-caller-verifier.js";
import { ROLE } from "./fixtures.js";

const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);
const SERVER_ID = "https://oidc.example.org";
const BINDING = jwtBinding({ audience: ["a"] });
const clock = new ManualClock(T0);
const sts = new LocalSts({ principals: [ROLE], clock });
const verifiers: StsCallerVerifier[] = [];
const verifier = (
  endpoint: () => string,
  extra: Partial<ConstructorParameters<typeof StsCallerVerifier>[0]> = {},
) => {
  const v = new StsCallerVerifier({
    serverIdValue: SERVER_ID,
    regions: ["eu-west-1"],
    replayCache: new InMemoryReplayCache(clock),
    clock,
    endpointFor: endpoint,
    ...extra,
  });
  verifiers.push(v);
  return v;
};
const proofBy = (credentials: typeof ROLE) =>
  buildProof({ region: "eu-west-1", credentials, serverId: SERVER_ID, binding: BINDING, clock });
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => "ok",
    (e: unknown) => (e instanceof BridgeError ? e.code : "crash"),
  );

/** An STS stand-in that holds every request until released, then answers for ROLE. */
function heldSts() {
  const held: ServerResponse[] = [];
  let received = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    received++;
    req.resume();
    req.on("end", () => held.push(res));
  });
  return {
    start: () => new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r())),
    url: () => `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received: () => received,
    held: () => held.length,
    release() {
      for (const res of held.splice(0)) {
        res.writeHead(200, { "content-type": "text/xml" });
        res.end(getCallerIdentityXml(ROLE, "req"));
      }
    },
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const held = heldSts();
beforeAll(async () => {
  await sts.start();
  await held.start();
});
afterAll(async () => {
  for (const v of verifiers) v.close();
  await sts.stop();
  held.release();
  await held.stop();
});

describe("fault 8: junk proofs", () => {
  it("fault 8: above the cap on concurrent STS calls, requests are shed with 429 sts_busy and Retry-After", async () => {
    const v = verifier(held.url, { maxConcurrentStsCalls: 2 });
    const proofs = await Promise.all(Array.from({ length: 5 }, () => proofBy(ROLE)));
    const pending = proofs.map((proof) => outcome(v.verify({ proof, expectedBinding: BINDING })));
    await expect.poll(() => held.held(), { timeout: 5000 }).toBe(2);
    held.release();
    const results = await Promise.all(pending);
    expect(results.filter((r) => r === "ok")).toHaveLength(2);
    expect(results.filter((r) => r === "sts_busy")).toHaveLength(3);
    expect(held.received()).toBe(2); // the shed ones cost no STS call
    // The slots are free again: the next request reaches STS.
    const next = outcome(v.verify({ proof: await proofBy(ROLE), expectedBinding: BINDING }));
    await expect.poll(() => held.held(), { timeout: 5000 }).toBe(1);
    held.release();
    expect(await next).toBe("ok");
    const response = errorToResponse(
      new BridgeError("sts_busy", "busy", { details: { retryAfterSeconds: 1 } }),
    );
    expect(response.statusCode).toBe(429);
    expect(response.headers["retry-after"]).toBe("1");
  });

  it("fault 8: credentials STS refused as unknown are refused locally for a minute (no replay write, no STS call)", async () => {
    const unknown = makeDevRolePrincipal({ account: "111122223333", roleName: "x", sessionName: "junk" });
    const replay = new InMemoryReplayCache(clock);
    const v = verifier(() => sts.endpoint, { replayCache: replay });
    const before = sts.received;
    const first = await v.verify({ proof: await proofBy(unknown), expectedBinding: BINDING }).catch((e) => e);
    expect(first).toMatchObject({ code: "proof_rejected", details: { stsCode: "InvalidClientTokenId" } });
    expect(sts.received).toBe(before + 1);
    for (let i = 0; i < 20; i++) {
      const again = await v
        .verify({ proof: await proofBy(unknown), expectedBinding: BINDING })
        .catch((e) => e);
      expect(again).toMatchObject({ code: "proof_rejected", details: { rule: "sts-refused-recently" } });
    }
    expect(sts.received).toBe(before + 1); // 20 junk proofs, one STS call
    // The victim's own credentials are another key: a refusal for junk never blocks them.
    await expect(v.verify({ proof: await proofBy(ROLE), expectedBinding: BINDING })).resolves.toBeDefined();
    clock.advance(61_000);
    const later = await v.verify({ proof: await proofBy(unknown), expectedBinding: BINDING }).catch((e) => e);
    expect(later).toMatchObject({ details: { stsCode: "InvalidClientTokenId" } });
    expect(sts.received).toBe(before + 3);
  });

  it("fault 8: a bad signature with a real access key ID is never cached against that key", async () => {
    const v = verifier(() => sts.endpoint);
    const forged = { ...ROLE, secretAccessKey: "not-the-secret" };
    const refused = await v
      .verify({ proof: await proofBy(forged), expectedBinding: BINDING })
      .catch((e) => e);
    expect(refused).toMatchObject({ code: "proof_rejected", details: { stsCode: "SignatureDoesNotMatch" } });
    await expect(v.verify({ proof: await proofBy(ROLE), expectedBinding: BINDING })).resolves.toBeDefined();
  });
});
