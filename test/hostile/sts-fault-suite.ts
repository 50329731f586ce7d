/**
 * STS faults through the stand-ins (issue 14): LocalSts answering 500, throttling,
 * garbage XML or an empty body, and an STS that never answers. Each maps to its
 * documented status through the HTTP error mapping (503 + Retry-After where a retry
 * helps, never a 500), and the verifier gives up within its timeout.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BridgeError } from "../../lib/errors.js";
import { errorToResponse } from "../../lib/http/responses.js";
import { InMemoryReplayCache } from "../../lib/local/in-memory-replay-cache.js";
import { LocalSts, type LocalStsAnswer, makeDevRolePrincipal } from "../../lib/local/sts-server.js";
import { jwtBinding } from "../../lib/proof/binding.js";
import { buildProof } from "../../lib/proof/client.js";
import { StsCallerVerifier } from "../../lib/proof/sts-caller-verifier.js";
import { note } from "./tally.js";

const ROLE = makeDevRolePrincipal({ account: "111122223333", roleName: "r", sessionName: "fn" });
const sts = new LocalSts({ principals: [ROLE] });
const silent = createServer(() => {}); // accepts, never answers
const BINDING = jwtBinding({ audience: ["a"] });
const xml = (code: string) =>
  `<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>m</Message></Error><RequestId>r</RequestId></ErrorResponse>`;
const verifiers: StsCallerVerifier[] = [];

async function outcome(endpoint: string, timeoutMs = 3000) {
  const v = new StsCallerVerifier({
    serverIdValue: "https://oidc.example.org",
    regions: ["eu-west-1"],
    replayCache: new InMemoryReplayCache(),
    endpointFor: () => endpoint,
    timeoutMs,
    retries: 1,
  });
  verifiers.push(v);
  const proof = await buildProof({
    region: "eu-west-1",
    credentials: ROLE,
    serverId: "https://oidc.example.org",
    binding: BINDING,
  });
  const started = performance.now();
  try {
    await v.verify({ proof, expectedBinding: BINDING });
    return { status: 200, code: "ok", retryAfter: undefined, ms: performance.now() - started };
  } catch (error) {
    const response = errorToResponse(error);
    return {
      status: response.statusCode,
      code: error instanceof BridgeError ? error.code : "crash",
      retryAfter: response.headers["retry-after"],
      ms: performance.now() - started,
    };
  }
}

describe("hostile: STS faults", () => {
  beforeAll(async () => {
    await sts.start();
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", () => r()));
  });
  afterAll(async () => {
    for (const v of verifiers) v.close();
    sts.answerOverride = undefined;
    await sts.stop();
    silent.closeAllConnections();
    await new Promise((r) => silent.close(r));
  });

  it.each<[string, LocalStsAnswer, number, string, boolean]>([
    ["STS 500", { status: 500, body: xml("InternalFailure") }, 503, "sts_unavailable", true],
    ["STS 503", { status: 503, body: xml("ServiceUnavailable") }, 503, "sts_unavailable", true],
    ["STS throttling", { status: 400, body: xml("Throttling") }, 503, "sts_unavailable", true],
    ["STS garbage XML", { status: 200, body: "<<<not xml" }, 401, "proof_rejected", false],
    ["STS empty 200", { status: 200, body: "" }, 401, "proof_rejected", false],
    [
      "STS HTML error page",
      { status: 502, body: "<html>bad gateway</html>", contentType: "text/html" },
      503,
      "sts_unavailable",
      true,
    ],
  ])("%s maps to its documented status", async (what, answer, status, code, retry) => {
    sts.answerOverride = () => answer;
    const got = await outcome(sts.endpoint);
    sts.answerOverride = undefined;
    note(what, got.status, got.ms, false, got.status === status);
    expect({ status: got.status, code: got.code }).toEqual({ status, code });
    expect(got.retryAfter !== undefined).toBe(retry);
  });

  it("an STS that never answers: 503 sts_unavailable with Retry-After, within the timeout budget", async () => {
    const got = await outcome(`http://127.0.0.1:${(silent.address() as AddressInfo).port}`, 150);
    note("STS silent", got.status, got.ms, false, got.status === 503);
    expect(got).toMatchObject({ status: 503, code: "sts_unavailable", retryAfter: "1" });
    expect(got.ms).toBeLessThan(150 * 2 + 1000); // two attempts of 150 ms, loose
  });
});
