/**
 * The function's credentials: from the environment, or from the container-credentials
 * endpoint (SnapStart) with its authorization token; and a proof signed with container
 * credentials is accepted by the real server half.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credentialProvider } from "../../layers/extension/src/credentials.js";
import { HttpExchangeClient } from "../../layers/extension/src/exchange-client.js";
import { stsProofBuilder } from "../../layers/extension/src/proof-builder.js";
import { ManualClock } from "../../lib/clock.js";
import { errorCodeOf } from "../../lib/errors.js";
import { type FakeExchange, startFakeExchange } from "../support/fake-exchange.js";

const TOKEN = "container-authorization-token";

describe("credentialProvider", () => {
  let exchange: FakeExchange;
  let server: Server;
  let uri: string;
  const seen: IncomingMessage[] = [];
  let expiration = "";
  const status = 200;

  beforeAll(async () => {
    exchange = await startFakeExchange();
    server = createServer((req, res) => {
      seen.push(req);
      if (req.headers.authorization !== TOKEN) {
        res.writeHead(401, { "content-type": "application/json" }).end('{"message":"bad token"}');
        return;
      }
      res.writeHead(status, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          AccessKeyId: exchange.principal.accessKeyId,
          SecretAccessKey: exchange.principal.secretAccessKey,
          Token: exchange.principal.sessionToken,
          Expiration: expiration,
        }),
      );
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    uri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/2021-04-23/credentials`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await exchange.stop();
  });

  it("returns the environment's keys as they are", async () => {
    const provide = credentialProvider(
      { env: { accessKeyId: "ASIAENV", secretAccessKey: "s", sessionToken: "t" } },
      new ManualClock(0),
    );
    expect(await provide()).toEqual({ accessKeyId: "ASIAENV", secretAccessKey: "s", sessionToken: "t" });
  });

  it("fetches container credentials with the token, caches them, and refetches five minutes before expiry", async () => {
    const clock = new ManualClock(Date.parse("2026-01-01T00:00:00Z"));
    expiration = "2026-01-01T01:00:00Z";
    seen.length = 0;
    const provide = credentialProvider({ container: { fullUri: uri, authorizationToken: TOKEN } }, clock);
    const first = await provide();
    expect(first).toMatchObject({
      accessKeyId: exchange.principal.accessKeyId,
      sessionToken: exchange.principal.sessionToken,
      expiration: Date.parse(expiration),
    });
    await provide();
    expect(seen).toHaveLength(1);
    clock.advance(55 * 60_000 + 1);
    await provide();
    expect(seen).toHaveLength(2);
  });

  it("a refused or failing endpoint is exchange_unavailable (init retries), never a crash", async () => {
    const wrongToken = credentialProvider(
      { container: { fullUri: uri, authorizationToken: "wrong" } },
      new ManualClock(0),
    );
    expect(errorCodeOf(await wrongToken().catch((e) => e))).toBe("exchange_unavailable");
    const dead = credentialProvider(
      { container: { fullUri: "http://127.0.0.1:1/creds", authorizationToken: TOKEN } },
      new ManualClock(0),
    );
    expect(errorCodeOf(await dead().catch((e) => e))).toBe("exchange_unavailable");
  });

  it("signs proofs the exchange accepts with container credentials", async () => {
    expiration = new Date(Date.now() + 3_600_000).toISOString();
    const proofs = stsProofBuilder({
      credentials: credentialProvider(
        { container: { fullUri: uri, authorizationToken: TOKEN } },
        new ManualClock(Date.now()),
      ),
      region: "us-east-1",
      serverId: exchange.serverId,
    });
    const before = exchange.callers.length;
    await new HttpExchangeClient({ baseUrl: exchange.url, proofs }).fetchJwtSvid(["aud"]);
    expect(exchange.callers.slice(before).map((c) => c.arn)).toEqual([exchange.principal.arn]);
  });
});
