/**
 * The bridge's server half with AWS's latencies simulated, for the cold-start figure:
 * the real exchange composition (proof rules, StsCallerVerifier, registrations through
 * the caching store, local keys and CA) on a loopback Function URL, where
 *  - every exchange request waits `rttMs` before it is handled (the caller's round trip),
 *  - STS is LocalSts (SigV4 verified) behind a proxy: each call takes `stsMs`,
 *  - each DynamoDB call (replay write, registration Query) takes `dynamoDbMs`,
 *  - each KMS Sign (JWT key, intermediate CA key) takes `kmsSignMs`.
 * A simulated call takes its latency in all, as AWS's does: the stand-in's own work (LocalSts
 * checking the signature, the in-memory key signing) is inside it, not added to it, and
 * the wait ends on time to a fraction of a millisecond (`holdUntil`), not at a timer's
 * whim (a 15 ms setTimeout fires after 15-17 ms). The exchange's own work is not simulated:
 * it runs for real on top. Defaults: 10, 15, 5 and 10 ms; `BENCH_RTT_MS`, `BENCH_STS_MS`,
 * `BENCH_DYNAMODB_MS`, `BENCH_KMS_SIGN_MS` change them.
 */
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { createExchangeHandler } from "../lambdas/exchange/app.js";
import { composeExchange } from "../lambdas/exchange/compose.js";
import { systemClock } from "../lib/clock.js";
import { type FunctionUrlHandler, startFunctionUrlServer } from "../lib/local/function-url-server.js";
import { InMemoryKeyManager } from "../lib/local/in-memory-key-manager.js";
import { InMemoryKeySetStore } from "../lib/local/in-memory-key-set-store.js";
import { InMemoryRegistrationStore } from "../lib/local/in-memory-registration-store.js";
import { InMemoryReplayCache } from "../lib/local/in-memory-replay-cache.js";
import { LocalCaRenewer } from "../lib/local/local-ca-renewer.js";
import { type DevPrincipal, LocalSts, makeDevRolePrincipal } from "../lib/local/sts-server.js";
import type { KeyManager } from "../lib/ports/key-manager.js";
import type { RegistrationStore } from "../lib/ports/registration-store.js";
import { StsCallerVerifier } from "../lib/proof/sts-caller-verifier.js";
import { CachingRegistrationStore } from "../lib/registrations/caching-registration-store.js";
import { rotateKeys } from "../lib/rotation/rotate-keys.js";
import { TrustDomain } from "../lib/spiffe/spiffe-id.js";

export interface AwsLatencies {
  rttMs: number;
  stsMs: number;
  dynamoDbMs: number;
  kmsSignMs: number;
}

export function latenciesFromEnv(env = process.env): AwsLatencies {
  const ms = (name: string, fallback: number) => {
    const v = env[name] === undefined ? fallback : Number(env[name]);
    if (!Number.isFinite(v) || v < 0) throw new Error(`${name} must be a non-negative number of ms`);
    return v;
  };
  return {
    rttMs: ms("BENCH_RTT_MS", 10),
    stsMs: ms("BENCH_STS_MS", 15),
    dynamoDbMs: ms("BENCH_DYNAMODB_MS", 5),
    kmsSignMs: ms("BENCH_KMS_SIGN_MS", 10),
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Resolves at `deadline` (performance.now() ms), within a few tens of microseconds: a timer
 * to just before it, then immediates, so the event loop keeps serving other I/O meanwhile.
 */
export async function holdUntil(deadline: number): Promise<void> {
  const early = deadline - performance.now() - 2;
  if (early > 0) await sleep(early);
  while (performance.now() < deadline) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Runs `work` so that, with it, the call takes `ms` in all (longer only if `work` does). */
async function taking<T>(ms: number, work: () => Promise<T>): Promise<T> {
  const deadline = performance.now() + ms;
  const result = await work();
  await holdUntil(deadline);
  return result;
}

/** An HTTP proxy to `target` whose every call takes `ms` in all (the upstream's work inside it); forwards unchanged (Host included). */
async function delayingProxy(target: string, ms: number) {
  const to = new URL(target);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const deadline = performance.now() + ms;
      const out = request(
        { host: to.hostname, port: to.port, path: req.url, method: req.method, headers: req.headers },
        (answer) => {
          const body: Buffer[] = [];
          answer.on("data", (c: Buffer) => body.push(c));
          answer.on("end", async () => {
            await holdUntil(deadline);
            res.writeHead(answer.statusCode ?? 502, answer.headers).end(Buffer.concat(body));
          });
        },
      );
      out.on("error", () => res.destroy());
      out.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function slowSigning(keys: KeyManager, ms: number): KeyManager {
  return {
    createKey: (alg, options) => keys.createKey(alg, options),
    getPublicKey: (keyId) => keys.getPublicKey(keyId),
    sign: (keyId, data) => taking(ms, () => keys.sign(keyId, data)),
  };
}

function slowQueries(store: RegistrationStore, ms: number): RegistrationStore {
  return new Proxy(store, {
    get(target, name, receiver) {
      if (name !== "findByAccountAndRole") return Reflect.get(target, name, receiver);
      return (account: string, roleName: string) =>
        taking(ms, () => target.findByAccountAndRole(account, roleName));
    },
  });
}

export interface SimulatedBridge {
  url: string;
  serverId: string;
  principal: DevPrincipal;
  /** Every registered caller, `principal` first (each its own role and registration). */
  principals: DevPrincipal[];
  latencies: AwsLatencies;
  stop(): Promise<void>;
}

/**
 * Starts the simulated bridge with `callers` registered callers (each its own role,
 * registered for JWT- and X.509-SVIDs; RS256 keys, as the default mode).
 */
export async function startSimulatedBridge(latencies: AwsLatencies, callers = 1): Promise<SimulatedBridge> {
  const td = TrustDomain.parse("example.org");
  const issuer = "https://oidc.example.org";
  const principals = Array.from({ length: callers }, (_, i) =>
    makeDevRolePrincipal({ account: "111122223333", roleName: `fn-role-${i}`, sessionName: `fn-${i}` }),
  );
  const sts = new LocalSts({ principals });
  const stsProxy = await delayingProxy(await sts.start(), latencies.stsMs);
  const local = new InMemoryKeyManager();
  const keySetStore = new InMemoryKeySetStore();
  await rotateKeys({
    store: keySetStore,
    keys: local,
    clock: systemClock,
    config: { alg: "RS256" },
    caRenewer: await LocalCaRenewer.create({ trustDomain: td, keys: local }),
  });
  const store = new InMemoryRegistrationStore();
  for (let i = 0; i < callers; i++)
    await store.create({
      id: `fn-${i}`,
      selectors: { account: "111122223333", roleName: `fn-role-${i}` },
      spiffeId: `spiffe://example.org/fn-${i}`,
      kinds: ["jwt", "x509"],
      enabled: true,
    });
  const replay = new InMemoryReplayCache();
  const verifier = new StsCallerVerifier({
    serverIdValue: issuer,
    regions: ["us-east-1"],
    replayCache: {
      remember: (key, expiresAt) => taking(latencies.dynamoDbMs, () => replay.remember(key, expiresAt)),
    },
    endpointFor: () => stsProxy.url,
  });
  const composed = composeExchange({
    trustDomain: td,
    issuer,
    verifier,
    registrations: new CachingRegistrationStore(slowQueries(store, latencies.dynamoDbMs)),
    keySetStore,
    keys: slowSigning(local, latencies.kmsSignMs),
    clock: systemClock,
  });
  const handler = createExchangeHandler(composed) as unknown as FunctionUrlHandler;
  const server = await startFunctionUrlServer(async (event, context) => {
    await holdUntil(performance.now() + latencies.rttMs);
    return handler(event, context);
  });
  return {
    url: server.url,
    serverId: issuer,
    principal: principals[0]!,
    principals,
    latencies,
    async stop() {
      await server.close();
      verifier.close();
      await stsProxy.close();
      await sts.stop();
    },
  };
}
