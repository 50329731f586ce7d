/**
 * The exchange handler in process (the same composition the Lambda runs) with local
 * keys: JWT-SVIDs per second against raw signing of the same algorithm with
 * node:crypto in the same run (budget ≥ 0.5), and X.509-SVIDs per second for the record.
 *
 * Every request carries a fresh proof (proofs are single-use), built before the clock
 * starts: building is the client's cost, measured in proof.bench.ts. Two figures each:
 *  - "full": every local proof rule, the replay record, and the forward to the local STS
 *    over loopback HTTP (which verifies SigV4), as in production;
 *  - "STS round trip excluded": the same handler and the same local proof rules and
 *    replay record, with STS's verdict taken as given. In AWS the round trip is network
 *    wait, not CPU, so this is the figure the per-core budget speaks of; the round trip
 *    itself is reported beside it.
 */
import { createHash, generateKeyPairSync, sign } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { createExchangeHandler } from "../lambdas/exchange/app.js";
import { composeExchange } from "../lambdas/exchange/compose.js";
import { systemClock } from "../lib/clock.js";
import type { SigningAlgorithm } from "../lib/crypto/algorithms.js";
import { InMemoryKeyManager } from "../lib/local/in-memory-key-manager.js";
import { InMemoryKeySetStore } from "../lib/local/in-memory-key-set-store.js";
import { InMemoryRegistrationStore } from "../lib/local/in-memory-registration-store.js";
import { InMemoryReplayCache } from "../lib/local/in-memory-replay-cache.js";
import { LocalCaRenewer } from "../lib/local/local-ca-renewer.js";
import { LocalSts, makeDevRolePrincipal } from "../lib/local/sts-server.js";
import type { CallerVerifier } from "../lib/ports/caller-verifier.js";
import { jwtBinding, x509Binding } from "../lib/proof/binding.js";
import { buildProof } from "../lib/proof/client.js";
import { checkProof } from "../lib/proof/proof-rules.js";
import { StsCallerVerifier } from "../lib/proof/sts-caller-verifier.js";
import { CachingRegistrationStore } from "../lib/registrations/caching-registration-store.js";
import { rotateKeys } from "../lib/rotation/rotate-keys.js";
import { TrustDomain } from "../lib/spiffe/spiffe-id.js";
import { makeCsr, makeWorkloadKey } from "../test/support/x509-fixtures.js";
import { type BenchResult, opsPerSecond, pairedOpsPerSecond, ratioResult, round } from "./harness.js";

const td = TrustDomain.parse("example.org");
const ISSUER = "https://oidc.example.org";
const REGION = "us-east-1";

function event(path: string, body: unknown): APIGatewayProxyEventV2 {
  return rawEvent(path, JSON.stringify(body));
}

function rawEvent(path: string, body: string): APIGatewayProxyEventV2 {
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: path,
    rawQueryString: "",
    headers: { "content-type": "application/json" },
    requestContext: {
      http: { method: "POST", path, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "bench" },
      requestId: "r",
    },
    body,
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEventV2;
}

export async function run(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const principal = makeDevRolePrincipal({
    account: "111122223333",
    roleName: "bench-role",
    sessionName: "bench-fn",
  });
  const sts = new LocalSts({ principals: [principal] });
  await sts.start();
  try {
    for (const alg of ["RS256", "ES256"] as SigningAlgorithm[]) {
      const keys = new InMemoryKeyManager();
      const keySetStore = new InMemoryKeySetStore();
      await rotateKeys({
        store: keySetStore,
        keys,
        clock: systemClock,
        config: { alg },
        caRenewer: await LocalCaRenewer.create({ trustDomain: td, keys }),
      });
      const store = new InMemoryRegistrationStore();
      // As the Lambda composes it (handler.ts): the registration cache in front of the store.
      const registrations = new CachingRegistrationStore(store);
      await store.create({
        id: "bench",
        selectors: { account: "111122223333", roleName: "bench-role" },
        spiffeId: "spiffe://example.org/bench",
        kinds: ["jwt", "x509"],
        enabled: true,
      });
      const verifier = new StsCallerVerifier({
        serverIdValue: ISSUER,
        regions: [REGION],
        replayCache: new InMemoryReplayCache(),
        endpointFor: () => sts.endpoint,
      });
      const composed = composeExchange({
        trustDomain: td,
        issuer: ISSUER,
        verifier,
        registrations,
        keySetStore,
        keys,
        clock: systemClock,
      });
      const handler = createExchangeHandler(composed) as unknown as (
        e: APIGatewayProxyEventV2,
        c: unknown,
      ) => Promise<{ statusCode: number }>;
      // Renewed each time the bodies below come round again (a fast run uses more than there
      // are), so a reused proof is recorded afresh rather than refused as a replay.
      let replay = new InMemoryReplayCache();
      const localOnly: CallerVerifier = {
        async verify(req) {
          // What StsCallerVerifier does before it forwards: every local rule, then the replay record.
          const checked = checkProof(req.proof, req.expectedBinding, verifier.rules, Date.now());
          const key = `sigv4:${createHash("sha256").update(checked.signature).digest("base64url")}`;
          if (!(await replay.remember(key, Math.ceil(checked.signedAt / 1000) + 121)))
            throw new Error("replayed");
          return {
            arn: principal.arn,
            partition: "aws",
            account: "111122223333",
            principalType: "assumed-role",
            principalName: "bench-role",
            uniqueId: principal.userId.split(":")[0]!,
            sessionName: "bench-fn",
          };
        },
      };
      const localHandler = createExchangeHandler(
        composeExchange({
          trustDomain: td,
          issuer: ISSUER,
          verifier: localOnly,
          registrations,
          keySetStore,
          keys,
          clock: systemClock,
        }),
      ) as unknown as typeof handler;

      const audience = ["https://api.example.org"];
      const binding = jwtBinding({ audience });
      // The request bodies as the Function URL hands them over (serializing them is the
      // client's and AWS's work, not the handler's), each with its own fresh proof.
      const bodies = await Promise.all(
        Array.from({ length: 30_000 }, async () =>
          JSON.stringify({
            audience,
            proof: await buildProof({
              region: REGION,
              credentials: async () => principal,
              serverId: ISSUER,
              binding,
            }),
          }),
        ),
      );
      let next = 0;
      const via = (h: typeof handler) => async () => {
        if (next > 0 && next % bodies.length === 0) replay = new InMemoryReplayCache();
        const res = await h(rawEvent("/v1/svid/jwt", bodies[next++ % bodies.length]!), {});
        if (res.statusCode !== 200) throw new Error(`exchange answered ${res.statusCode}`);
      };
      // Raw reference: node:crypto signing a JWT-sized input with a key of the same kind.
      const pair =
        alg === "RS256"
          ? generateKeyPairSync("rsa", { modulusLength: 2048 })
          : generateKeyPairSync("ec", { namedCurve: "prime256v1" });
      const input = Buffer.alloc(400, 1);
      const rawSign = () => sign("sha256", input, { key: pair.privateKey, dsaEncoding: "ieee-p1363" });
      // Handler and raw sign in alternating windows: a drift of this machine's speed moves both.
      const paired = await pairedOpsPerSecond(via(localHandler), rawSign);
      const raw = paired.reference;
      const local = paired.value;
      // The local-only path may come round the bodies again (its replay record is renewed
      // then); the full path below must not: STS's verifier keeps its own.
      next = 0;
      const full = await opsPerSecond(via(handler), 1000);
      if (next > bodies.length) throw new Error("benchmark reused proofs: raise the pool");
      const reference = { name: `raw sign ${alg} (node:crypto, exchange bench)`, value: raw };
      results.push(
        ...ratioResult(
          `exchange handler JWT-SVID ${alg}, STS round trip excluded`,
          local,
          reference,
          0.5,
          paired.ratio,
        ),
      );
      results.push(
        ratioResult(`exchange handler JWT-SVID ${alg}, full (local STS on loopback)`, full, reference)[1]!,
      );

      if (alg === "ES256") {
        const key = await makeWorkloadKey("ec-p256");
        const csr = await makeCsr(key);
        const xBinding = x509Binding({ csr });
        const xProofs = await Promise.all(
          Array.from({ length: 600 }, () =>
            buildProof({
              region: REGION,
              credentials: async () => principal,
              serverId: ISSUER,
              binding: xBinding,
            }),
          ),
        );
        const times: number[] = [];
        for (const proof of xProofs) {
          const t = performance.now();
          const res = await handler(event("/v1/svid/x509", { csr, proof }), {});
          times.push(performance.now() - t);
          if (res.statusCode !== 200) throw new Error(`x509 exchange answered ${res.statusCode}`);
        }
        times.sort((a, b) => a - b);
        const p50 = times[Math.floor(times.length / 2)]!;
        results.push({
          name: "exchange handler X.509-SVID p50 (intermediate mode, local keys, STS on loopback)",
          value: round(p50),
          unit: "ms",
        });
      }
      if (alg === "RS256") {
        const rtt: number[] = [];
        for (let i = 0; i < 300; i++) {
          const t = performance.now();
          await (
            await fetch(`${sts.endpoint}/`, {
              method: "POST",
              body: "Action=GetCallerIdentity&Version=2011-06-15",
            })
          ).text();
          rtt.push(performance.now() - t);
        }
        rtt.sort((a, b) => a - b);
        results.push({
          name: "loopback HTTP round trip to the local STS, p50",
          value: round(rtt[150]!),
          unit: "ms",
        });
      }
      verifier.close();
    }
  } finally {
    await sts.stop();
  }
  return results;
}
