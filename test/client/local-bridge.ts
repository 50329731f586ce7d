/**
 * The bridge's exchange with its real parts, for the function-side client's tests:
 * dynalite (registrations, key set, replay table), LocalSts (verifies SigV4; knows the
 * given principals), in-memory keys and a local CA, lambdas/exchange's composeExchange +
 * createExchangeHandler behind a loopback Function URL. One clock for all of it, so a test
 * moves time for the bridge and the function alike (a freeze, a restore). `requests`
 * records what reached the exchange (bodies decoded); `outage` answers 503 as an unreachable exchange's
 * load balancer would, without reaching the handler; `noBatch` answers POST /v1/svid/batch
 * with 404, as an exchange deployed before it existed; `badBatchBundle` sends batch answers
 * whose spiffe_bundle does not parse (a key of an unknown type).
 */
import { CreateTableCommand } from "@aws-sdk/client-dynamodb";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { createExchangeHandler } from "../../lambdas/exchange/app.js";
import { composeExchange } from "../../lambdas/exchange/compose.js";
import { DynamoDbKeySetStore, keySetTableDefinition } from "../../lib/aws/dynamodb-key-set-store.js";
import {
  DynamoDbRegistrationStore,
  registrationTableDefinition,
} from "../../lib/aws/dynamodb-registration-store.js";
import { DynamoDbReplayCache, replayCacheTableDefinition } from "../../lib/aws/dynamodb-replay-cache.js";
import type { ManualClock } from "../../lib/clock.js";
import { startDynalite } from "../../lib/local/dynamodb-server.js";
import { startFunctionUrlServer } from "../../lib/local/function-url-server.js";
import { InMemoryKeyManager } from "../../lib/local/in-memory-key-manager.js";
import { LocalCaRenewer } from "../../lib/local/local-ca-renewer.js";
import { type DevPrincipal, LocalSts } from "../../lib/local/sts-server.js";
import type { NewRegistration } from "../../lib/ports/registration-store.js";
import { StsCallerVerifier } from "../../lib/proof/sts-caller-verifier.js";
import { rotateKeys } from "../../lib/rotation/rotate-keys.js";
import { TrustDomain } from "../../lib/spiffe/spiffe-id.js";

export const BRIDGE_REGION = "eu-west-1";
export const SERVER_ID = "https://bridge.example.org";

export interface LocalBridge {
  url: string;
  trustDomain: string;
  sts: LocalSts;
  requests: { path: string; body: string }[];
  count(path: string): number;
  outage: boolean;
  noBatch: boolean;
  badBatchBundle: boolean;
  stop(): Promise<void>;
}

export async function startLocalBridge(options: {
  clock: ManualClock;
  principals: DevPrincipal[];
  registrations: NewRegistration[];
}): Promise<LocalBridge> {
  const { clock } = options;
  const td = TrustDomain.parse("example.org");
  const closers: (() => Promise<void> | void)[] = [];
  const db = await startDynalite();
  closers.push(() => db.stop());
  for (const def of [
    registrationTableDefinition("registrations"),
    keySetTableDefinition("keys"),
    replayCacheTableDefinition("replay"),
  ])
    await db.client.send(new CreateTableCommand(def));
  const registrations = new DynamoDbRegistrationStore({ client: db.client, tableName: "registrations" });
  for (const entry of options.registrations) await registrations.create(entry);
  const sts = new LocalSts({ principals: options.principals, clock });
  await sts.start();
  closers.push(() => sts.stop());
  const keys = new InMemoryKeyManager();
  const keySetStore = new DynamoDbKeySetStore({ client: db.client, tableName: "keys" });
  const caRenewer = await LocalCaRenewer.create({ trustDomain: td, keys, clock });
  await rotateKeys({ store: keySetStore, keys, clock, caRenewer, config: { alg: "ES256" } });
  const verifier = new StsCallerVerifier({
    serverIdValue: SERVER_ID,
    regions: [BRIDGE_REGION],
    replayCache: new DynamoDbReplayCache({ client: db.client, tableName: "replay", clock }),
    clock,
    endpointFor: () => sts.endpoint,
  });
  closers.push(() => verifier.close());
  const composed = composeExchange({
    trustDomain: td,
    issuer: SERVER_ID,
    verifier,
    registrations,
    keySetStore,
    keys,
    clock,
  });
  const handler = createExchangeHandler(composed);
  const bridge: LocalBridge = {
    url: "",
    trustDomain: td.name,
    sts,
    requests: [],
    count: (path) => bridge.requests.filter((r) => r.path === path).length,
    outage: false,
    noBatch: false,
    badBatchBundle: false,
    stop: async () => {
      for (const close of closers.reverse()) await close();
    },
  };
  const server = await startFunctionUrlServer((async (event: APIGatewayProxyEventV2, context: unknown) => {
    const body = event.isBase64Encoded
      ? Buffer.from(event.body ?? "", "base64").toString("utf8")
      : event.body;
    bridge.requests.push({ path: event.rawPath, body: body ?? "" });
    if (bridge.outage)
      return { statusCode: 503, body: JSON.stringify({ error: "service_unavailable", message: "outage" }) };
    if (bridge.noBatch && event.rawPath === "/v1/svid/batch")
      return { statusCode: 404, body: JSON.stringify({ error: "not_found", message: "no route" }) };
    const answer = await (
      handler as (e: unknown, c: unknown) => Promise<{ statusCode: number; body: string }>
    )(event, context);
    if (bridge.badBatchBundle && event.rawPath === "/v1/svid/batch" && answer.statusCode === 200) {
      const body = JSON.parse(answer.body) as { spiffe_bundle: { keys: unknown[] } };
      body.spiffe_bundle.keys.push({ kty: "OKP", use: "jwt-svid", kid: "x", crv: "X25519", x: "AA" });
      return { ...answer, body: JSON.stringify(body) };
    }
    return answer;
  }) as never);
  closers.push(() => server.close());
  bridge.url = server.url;
  return bridge;
}
