/**
 * "exchange under load": the exchange (the Lambda's composition: every proof rule, the
 * replay record, LocalSts over loopback verifying SigV4, registrations through the cache,
 * local keys) on a loopback Function URL, under a bounded load from autocannon: a fixed
 * set of registered callers, each request a JWT-SVID ask with a fresh proof made before
 * the run. Throughput, p50, p99 and errors (must be 0), against a bare node:http server
 * answering a fixed JWT-SVID body to the same requests from the same client, in
 * alternating runs.
 */
import { createServer } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { jwtBinding } from "../lib/proof/binding.js";
import { buildProof } from "../lib/proof/client.js";
import { type BenchResult, round } from "./harness.js";
import { startSimulatedBridge } from "./simulated-aws.js";

/** What this bench uses of autocannon (it ships no types): one run, its summary. */
interface AutocannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  setupRequest?: (request: AutocannonRequest) => AutocannonRequest;
}
interface AutocannonSummary {
  requests: { total: number };
  /** Seconds. */
  duration: number;
  latency: { p50: number; p99: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}
const autocannon = createRequire(import.meta.url)("autocannon") as (options: {
  url: string;
  connections: number;
  amount: number;
  requests: AutocannonRequest[];
}) => Promise<AutocannonSummary>;

const CALLERS = 8;
const CONNECTIONS = 8;
const PER_RUN = 1600;
const ROUNDS = 2;
const AUDIENCE = ["https://api.example.org"];

interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

async function load(url: string, bodies: string[]): Promise<LoadResult> {
  let next = 0;
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    amount: bodies.length,
    requests: [
      {
        method: "POST",
        path: "/v1/svid/jwt",
        headers: { "content-type": "application/json" },
        setupRequest: (request) => ({ ...request, body: bodies[next++ % bodies.length] }),
      },
    ],
  });
  return {
    rps: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

/** The reference: node:http reading each body and answering one fixed JWT-SVID answer. */
async function bareServer(answer: string) {
  const server = createServer((req, res) => {
    req.resume().on("end", () => {
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(answer) });
      res.end(answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export async function run(): Promise<BenchResult[]> {
  const bridge = await startSimulatedBridge({ rttMs: 0, stsMs: 0, dynamoDbMs: 0, kmsSignMs: 0 }, CALLERS);
  const binding = jwtBinding({ audience: AUDIENCE });
  const freshBodies = () =>
    Promise.all(
      Array.from({ length: PER_RUN }, async (_, i) =>
        JSON.stringify({
          audience: AUDIENCE,
          proof: await buildProof({
            region: "us-east-1",
            credentials: async () => bridge.principals[i % CALLERS]!,
            serverId: bridge.serverId,
            binding,
          }),
        }),
      ),
    );
  const sample = await fetch(`${bridge.url}/v1/svid/jwt`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: (await freshBodies())[0],
  });
  const bare = await bareServer(await sample.text());
  const exchange: LoadResult[] = [];
  const reference: LoadResult[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const bodies = await freshBodies();
      exchange.push(await load(bridge.url, bodies));
      reference.push(await load(bare.url, bodies));
    }
  } finally {
    await bare.close();
    await bridge.stop();
  }
  const best = (xs: LoadResult[]) => xs.reduce((a, b) => (b.rps > a.rps ? b : a));
  const ex = best(exchange);
  const ref = best(reference);
  const refName = "bare node:http answering a fixed JWT-SVID, same load";
  const latency = (which: "p50" | "p99"): BenchResult[] => {
    const name = `${refName}, ${which}`;
    return [
      { name, value: ref[which], unit: "ms" },
      {
        name: `exchange under load ${which}`,
        value: ex[which],
        unit: "ms",
        // autocannon counts whole milliseconds: a 0 ms reference has no ratio.
        ...(ref[which] > 0 && { reference: name, ratio: round(ex[which] / ref[which], 2) }),
      },
    ];
  };
  return [
    { name: refName, value: round(ref.rps, 1), unit: "req/s" },
    {
      name: "exchange under load",
      value: round(ex.rps, 1),
      unit: "req/s",
      reference: refName,
      ratio: round(ex.rps / ref.rps),
    },
    ...latency("p50"),
    ...latency("p99"),
    {
      name: "exchange under load errors",
      value: exchange.reduce((n, r) => n + r.errors, 0),
      unit: "requests",
      budget: "== 0",
      met: exchange.every((r) => r.errors === 0),
    },
  ];
}
