/**
 * DynamoDB faults through a fault-injecting proxy in front of dynalite (issue 14): the
 * replay write or a registration write throttled or failing. Each maps to its documented
 * status (503 store_unavailable), a proof whose replay record could not be written never
 * reaches STS, and a write that failed leaves the stored entry as it was.
 */
import { createServer, type IncomingMessage, request, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DynamoDbRegistrationStore,
  registrationTableDefinition,
} from "../../lib/aws/dynamodb-registration-store.js";
import { DynamoDbReplayCache, replayCacheTableDefinition } from "../../lib/aws/dynamodb-replay-cache.js";
import { BridgeError } from "../../lib/errors.js";
import { errorToResponse } from "../../lib/http/responses.js";
import {
  DYNAMODB_TEST_CREDENTIALS,
  type RunningDynamoDb,
  startDynalite,
} from "../../lib/local/dynamodb-server.js";
import { LocalSts, makeDevRolePrincipal } from "../../lib/local/sts-server.js";
import { jwtBinding } from "../../lib/proof/binding.js";
import { buildProof } from "../../lib/proof/client.js";
import { StsCallerVerifier } from "../../lib/proof/sts-caller-verifier.js";
import { note } from "./tally.js";

type Fault = { action: string; status: number; type: string } | undefined;
const ROLE = makeDevRolePrincipal({ account: "111122223333", roleName: "r", sessionName: "fn" });
const sts = new LocalSts({ principals: [ROLE] });
const BINDING = jwtBinding({ audience: ["a"] });
let db: RunningDynamoDb;
let fault: Fault;
let proxyClient: DynamoDBClient;

/** Forwards to dynalite, or answers DynamoDB's JSON error for the action under fault. */
const proxy = createServer((req: IncomingMessage, res: ServerResponse) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const action = String(req.headers["x-amz-target"] ?? "").split(".")[1];
    if (fault && fault.action === action) {
      res.writeHead(fault.status, { "content-type": "application/x-amz-json-1.0" });
      res.end(
        JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${fault.type}`, message: "injected" }),
      );
      return;
    }
    const target = new URL(db.endpoint);
    const upstream = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 500, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.end(Buffer.concat(chunks));
  });
});

const FAULTS: Array<[string, NonNullable<Fault>]> = [
  ["throttled", { action: "", status: 400, type: "ProvisionedThroughputExceededException" }],
  ["request limit", { action: "", status: 400, type: "RequestLimitExceeded" }],
  ["internal error", { action: "", status: 500, type: "InternalServerError" }],
];

describe("hostile: DynamoDB faults", () => {
  beforeAll(async () => {
    db = await startDynalite();
    await db.client.send(new CreateTableCommand(replayCacheTableDefinition("replay")));
    await db.client.send(new CreateTableCommand(registrationTableDefinition("regs")));
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", () => r()));
    proxyClient = new DynamoDBClient({
      endpoint: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
      region: "us-east-1",
      credentials: DYNAMODB_TEST_CREDENTIALS,
      maxAttempts: 2, // the SDK retries throttling; two attempts keep the suite short
    });
    await sts.start();
  }, 60_000);
  afterAll(async () => {
    proxyClient?.destroy();
    proxy.closeAllConnections();
    await new Promise((r) => proxy.close(r));
    await sts.stop();
    await db?.stop();
  });

  it.each(FAULTS)(
    "replay write %s: 503 store_unavailable, STS asked at most once (in parallel, issue 16) and its answer unused",
    async (what, f) => {
      const verifier = new StsCallerVerifier({
        serverIdValue: "https://oidc.example.org",
        regions: ["eu-west-1"],
        replayCache: new DynamoDbReplayCache({ client: proxyClient, tableName: "replay" }),
        endpointFor: () => sts.endpoint,
      });
      const proof = await buildProof({
        region: "eu-west-1",
        credentials: ROLE,
        serverId: "https://oidc.example.org",
        binding: BINDING,
      });
      const before = sts.received;
      fault = { ...f, action: "PutItem" };
      const started = performance.now();
      const error = await verifier.verify({ proof, expectedBinding: BINDING }).catch((e: unknown) => e);
      fault = undefined;
      verifier.close();
      const status = errorToResponse(error).statusCode;
      note(`DynamoDB replay write ${what}`, status, performance.now() - started, false, status === 503);
      expect(error).toBeInstanceOf(BridgeError);
      expect({ status, code: (error as BridgeError).code }).toEqual({
        status: 503,
        code: "store_unavailable",
      });
      expect(sts.received - before).toBeLessThanOrEqual(1);
    },
  );

  it.each(FAULTS)("registration update %s: 503 store_unavailable, the entry unchanged", async (what, f) => {
    const store = new DynamoDbRegistrationStore({ client: proxyClient, tableName: "regs" });
    const id = `e-${what.replaceAll(" ", "-")}`;
    const created = await store.create({
      id,
      spiffeId: "spiffe://example.org/e",
      selectors: { account: "111122223333", roleName: "r" },
      kinds: ["jwt"],
      enabled: true,
    });
    fault = { ...f, action: "UpdateItem" };
    const started = performance.now();
    const { createdAt: _c, updatedAt: _u, version, ...entry } = created;
    const error = await store.update({ ...entry, enabled: false }, version).catch((e: unknown) => e);
    fault = undefined;
    const status = errorToResponse(error).statusCode;
    note(`DynamoDB registration update ${what}`, status, performance.now() - started, false, status === 503);
    expect((error as BridgeError).code).toBe("store_unavailable");
    expect(await store.get(id)).toEqual(created);
  });
});
