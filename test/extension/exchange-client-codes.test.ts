/**
 * The extension's exchange client never invents an error code (issue 17): a refusal keeps
 * the exchange's code when it is one of lib/errors.ts's, and is otherwise named by our own
 * code for what happened, never `http_<status>`.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HttpExchangeClient } from "../../layers/extension/src/exchange-client.js";
import type { ProofBuilder } from "../../layers/extension/src/proof-builder.js";
import { BridgeError, isErrorCode } from "../../lib/errors.js";

let server: Server;
let answer: { status: number; type: string; body: string };
let client: HttpExchangeClient;

// The proof is not what is tested here: the exchange stand-in never reads it.
const proofs: ProofBuilder = {
  proofFor: async () => ({}) as never,
  proofForBatch: async () => ({}) as never,
};

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(answer.status, { "content-type": answer.type }).end(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  client = new HttpExchangeClient({
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    proofs,
  });
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function refusal(status: number, body: string, type = "application/json"): Promise<BridgeError> {
  answer = { status, type, body };
  const error = await client.fetchJwtSvid(["aud"]).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(BridgeError);
  return error as BridgeError;
}

describe("extension exchange client: real codes only", () => {
  it("keeps the exchange's own code and status", async () => {
    const e = await refusal(403, JSON.stringify({ error: "no_registration", message: "none" }));
    expect(e.code).toBe("exchange_rejected");
    expect(e.details).toEqual({ upstream: "no_registration", upstreamStatus: 403 });
  });

  it.each([
    [418, "I'm a teapot", "text/plain", "exchange_rejected"],
    [400, JSON.stringify({ error: "made_up_code", message: "?" }), "application/json", "exchange_rejected"],
    [502, "<html>bad gateway</html>", "text/html", "exchange_unavailable"],
  ])("a %i with no code we know is %s, not http_<status>", async (status, body, type, code) => {
    const e = await refusal(status, body, type);
    expect(e.details?.upstream).toBe(code);
    expect(isErrorCode(e.details?.upstream)).toBe(true);
    expect(e.message).not.toMatch(/http_\d/);
  });
});
