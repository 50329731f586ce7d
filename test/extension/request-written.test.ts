/**
 * The extension's init does its local work (listeners, register) only once its exchange
 * request is on the wire: run before the socket connects, that synchronous work delayed
 * the very request it was meant to overlap (about 10 ms of a cold start). The exchange
 * client says when a request has been handed to the operating system: before its answer,
 * once per request.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { HttpExchangeClient } from "../../layers/extension/src/exchange-client.js";
import type { ProofBuilder } from "../../layers/extension/src/proof-builder.js";

let server: Server;
let baseUrl: string;
/** Answers held until the test lets them go. */
const held: Array<() => void> = [];

// The proof is not what is tested here: the exchange stand-in never reads it.
const proofs: ProofBuilder = {
  proofFor: async () => ({}) as never,
  proofForBatch: async () => ({}) as never,
};

const answer = JSON.stringify({
  svids: [{ spiffe_id: "spiffe://example.org/fn", token: "a.b.c", expires_at: 2e9 }],
});

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on("end", () =>
      held.push(() => res.writeHead(200, { "content-type": "application/json" }).end(answer)),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

it("extension init: onRequestWritten fires when the request is on the wire, before the exchange answers", async () => {
  const events: string[] = [];
  let written!: () => void;
  const wasWritten = new Promise<void>((resolve) => {
    written = resolve;
  });
  const client = new HttpExchangeClient({
    baseUrl,
    proofs,
    onRequestWritten: () => {
      events.push("written");
      written();
    },
  });
  const svid = client.fetchJwtSvid(["aud"]).then((s) => {
    events.push("answered");
    return s;
  });
  await wasWritten;
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect(events).toEqual(["written"]); // the answer is still held by the exchange
  await new Promise<void>((resolve) => {
    const poll = () => (held.length > 0 ? resolve() : setTimeout(poll, 1));
    poll();
  });
  held.shift()!();
  expect((await svid).token).toBe("a.b.c");
  expect(events).toEqual(["written", "answered"]);
});

it("extension init: onRequestWritten fires once per request", async () => {
  let count = 0;
  const client = new HttpExchangeClient({ baseUrl, proofs, onRequestWritten: () => count++ });
  const both = Promise.all([client.fetchJwtSvid(["a"]), client.fetchJwtSvid(["b"])]);
  while (held.length < 2) await new Promise((resolve) => setTimeout(resolve, 1));
  for (const release of held.splice(0)) release();
  await both;
  expect(count).toBe(2);
});
