/**
 * The in-process client (layers/client, no layer) on Node 24, against the simulated bridge
 * (bench/simulated-aws.ts: the real exchange composition with AWS's latencies, exchange
 * round trip 10 ms + STS 15 ms + KMS sign 10 ms by default, the same as the cold-start
 * bench) behind TLS, as a Function URL is:
 * - "in-process bundle": what a function's bundler adds (esbuild, minified, ESM with
 *   code splitting): the code loaded for JWT-SVIDs only, and for JWT + X.509; and the
 *   whole of it in one file, as bundlers write by default (validation's code included);
 * - "in-process cold-start tax (simulated AWS latencies)": a fresh process loading a
 *   handler whose top-level await fetches its SVIDs, spawn to ready, minus the same for a
 *   handler without svid-bridge, against the chain no design avoids (35 ms);
 * - "in-process added memory": resident memory the handler's import and first SVIDs
 *   added to its process, against the extension process in the same run (the built
 *   layer in LambdaSandbox, same exchange, same node);
 * - the floors, for reading those: a handler whose init makes one plain HTTPS request
 *   answered after exactly the chain (no svid-bridge; loading node:https, one TLS
 *   connection): its time, CPU and added memory on this machine; and the exchange's own
 *   time answering the in-process init beyond the simulated latencies (proof rules, CSR
 *   check, issuing, JSON), which the tax includes and the floor does not.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { build, type Metafile } from "esbuild";
import { freePort, LambdaSandbox } from "../lib/local/lambda-sandbox.js";
import { buildLayer } from "../scripts/build-layer.js";
import { oneFileBundle } from "../test/support/one-file-bundle.js";
import { type BenchResult, NODE_24, round, rssBytes } from "./harness.js";
import { holdUntil, latenciesFromEnv, type SimulatedBridge, startSimulatedBridge } from "./simulated-aws.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const LATENCY = latenciesFromEnv();
const CHAIN_MS = LATENCY.rttMs + LATENCY.stsMs + LATENCY.kmsSignMs;
const RUNS = 7;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const MiB = 2 ** 20;

/** A handler as a function owner writes it: the identity fetched in the init phase. */
const HANDLER = `
import { sharedSvidSource } from ${JSON.stringify(join(ROOT, "layers/client/index.ts"))};
const svids = sharedSvidSource();
await svids.prefetch();
export const handler = async () => (await svids.jwtSvid("sts.example.com")).token;
`;

/**
 * Lambda's Node.js runtime imports the handler module with a dynamic import(): the ESM
 * loader's own first-use cost is the runtime's, paid by any function. The runtime is itself
 * ESM files (/var/runtime/index.mjs and the modules it imports), so the loader's file path
 * is warm too before the handler loads: a first file import here adds ~2 MiB resident and
 * a few ms to any handler, with or without svid-bridge (measured on Node 24). So the
 * runner warms both, then imports the handler (whose init runs the exchange) and reports
 * what that added to its resident memory and its CPU time.
 */
const RUNNER = `
await import("data:text/javascript,export {}");
await import(new URL("./warm.mjs", import.meta.url).href);
// A function that already talks HTTPS (any AWS SDK v3 client does) holds these already.
if (process.env.PRELOAD_HTTPS) for (const m of ["node:https", "node:crypto"]) process.getBuiltinModule(m);
const before = process.memoryUsage().rss;
const cpu = process.cpuUsage();
await import(process.argv[2]);
const { user, system } = process.cpuUsage(cpu);
const after = process.memoryUsage().rss;
process.stdout.write(JSON.stringify({ before, after, cpuMs: (user + system) / 1000 }));
`;

/** Bytes of the chunks an output loads statically (what runs before its first await import). */
function staticClosure(outputs: Metafile["outputs"], starts: string[]): Set<string> {
  const seen = new Set<string>();
  const stack = [...starts];
  while (stack.length > 0) {
    const o = stack.pop()!;
    if (seen.has(o)) continue;
    seen.add(o);
    for (const i of outputs[o]!.imports)
      if (outputs[i.path] && i.kind === "import-statement") stack.push(i.path);
  }
  return seen;
}

/** The floor on this machine: one POST over TLS, answered after exactly the chain (the proxy's /floor). */
const ONE_REQUEST = `
const { request } = process.getBuiltinModule("node:https");
await new Promise((resolve, reject) => {
  const req = request(process.env.SVID_BRIDGE_URL + "/floor", { method: "POST", agent: false }, (res) => res.resume().on("end", resolve));
  req.on("error", reject).end("{}");
});
export const handler = async () => 1;
`;

/** Writes a handler module as a function ships it (an ESM .mjs file); its file URL. */
function handlerFile(dir: string, name: string, code: string): string {
  writeFileSync(join(dir, name), code);
  return pathToHref(join(dir, name));
}

async function bundle(
  dir: string,
): Promise<{ entry: string; jwtOnly: number; withX509: number; oneFile: number }> {
  writeFileSync(join(dir, "handler.ts"), HANDLER);
  const { metafile } = await build({
    entryPoints: [join(dir, "handler.ts")],
    outdir: join(dir, "out"),
    absWorkingDir: ROOT,
    bundle: true,
    minify: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node22",
    // An ESM handler ships as .mjs (or under "type": "module"); a bare .js is compiled
    // twice by Node's module-syntax detection, which no function's deployment pays.
    outExtension: { ".js": ".mjs" },
    metafile: true,
    logLevel: "error",
  });
  const outputs = metafile.outputs;
  const entry = Object.keys(outputs).find((o) => outputs[o]!.entryPoint)!;
  // The X.509 path: the chunks that hold the key maker (the entry's own closure when the
  // source imports it statically), and what they load.
  const x509 = Object.keys(outputs).filter((o) =>
    Object.keys(outputs[o]!.inputs).some((i) => i.endsWith("p256-workload-key.ts")),
  );
  if (x509.length === 0) throw new Error("no output holds the key maker (p256-workload-key.ts)");
  const bytes = (set: Set<string>) => [...set].reduce((n, o) => n + outputs[o]!.bytes, 0);
  const jwt = staticClosure(outputs, [entry]);
  // One file, as CDK's NodejsFunction and SAM bundle by default: lazy imports land in it too.
  const single = await oneFileBundle(join(dir, "handler.ts"), ROOT);
  return {
    entry: join(ROOT, entry),
    jwtOnly: bytes(jwt),
    withX509: bytes(new Set([...jwt, ...staticClosure(outputs, x509)])),
    oneFile: single.bytes,
  };
}

/**
 * A self-signed certificate for 127.0.0.1 (OpenSSL), trusted by the children through
 * NODE_EXTRA_CA_CERTS: the function and the extension reach the exchange over TLS, as in
 * AWS, so loading node:https and the handshake are in both modes' figures.
 */
function loopbackCertificate(dir: string): { key: string; cert: string; caFile: string } {
  const [keyFile, certFile] = [join(dir, "tls-key.pem"), join(dir, "tls-cert.pem")];
  execFileSync(
    "openssl",
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1"]
      .concat(["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"])
      .concat(["-keyout", keyFile, "-out", certFile]),
    { stdio: "ignore" },
  );
  return { key: readFileSync(keyFile, "utf8"), cert: readFileSync(certFile, "utf8"), caFile: certFile };
}

/** What the proxy saw of one request: its path, and how long the exchange behind it took to answer. */
interface Upstream {
  path: string;
  ms: number;
}

/**
 * TLS in front of the simulated bridge (bench/simulated-aws.ts: the real exchange
 * composition, each AWS call taking its simulated latency), as AWS's Function URL
 * terminates it; records how long each exchange call took beyond the chain (the exchange's
 * own work on this machine: proof rules, CSR check, issuing, JSON). POST /floor is
 * answered after exactly the chain, for the floor's one plain request.
 */
async function tlsProxy(
  target: string,
  tls: { key: string; cert: string },
): Promise<{ url: string; upstream: Upstream[]; close: () => void }> {
  const seen: Upstream[] = [];
  const base = new URL(target);
  const server = createServer(tls, (req, res) => {
    const arrived = performance.now();
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      if (req.url === "/floor") {
        await holdUntil(arrived + CHAIN_MS);
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
        return;
      }
      const simulated = req.url?.startsWith("/v1/svid/") ? CHAIN_MS : LATENCY.rttMs;
      const upstream = request(
        { host: base.hostname, port: base.port, path: req.url, method: req.method, headers: req.headers },
        (r) => {
          r.on("end", () => seen.push({ path: req.url ?? "", ms: performance.now() - arrived - simulated }));
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      upstream.on("error", () => res.writeHead(502).end());
      upstream.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    upstream: seen,
    close: () => server.close(),
  };
}

function bridgeEnv(exchange: SimulatedBridge, url: string, caFile: string): Record<string, string> {
  return {
    PATH: `${dirname(NODE_24)}:/usr/bin:/bin`,
    NODE_EXTRA_CA_CERTS: caFile,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: exchange.principal.accessKeyId,
    AWS_SECRET_ACCESS_KEY: exchange.principal.secretAccessKey,
    AWS_SESSION_TOKEN: exchange.principal.sessionToken!,
    SVID_BRIDGE_URL: url,
    SVID_BRIDGE_SERVER_ID: exchange.serverId,
    SVID_BRIDGE_JWT_AUDIENCES: "sts.example.com",
  };
}

/** What the runner reports: resident bytes before and after the handler's import, its CPU time. */
type Report = { before: number; after: number; cpuMs: number };

/** Spawn to exit (bare) or to the runner's report (handler loaded, SVIDs fetched). */
function timedChild(args: string[], env: Record<string, string>): Promise<{ ms: number; report?: Report }> {
  const t = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(NODE_24, args, { env, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      const ms = performance.now() - t;
      if (code !== 0) reject(new Error(`child exited ${code}`));
      else resolve(out ? { ms, report: JSON.parse(out) } : { ms });
    });
  });
}

interface ColdStart {
  bare: number[];
  /** A handler whose init makes one plain request through the same delays (no svid-bridge). */
  oneRequest: number[];
  /** The same runner importing a handler module with no svid-bridge in it. */
  plain: number[];
  jwt: number[];
  both: number[];
  addedJwt: number[];
  addedBoth: number[];
  /** CPU the function's own process spent loading the handler and fetching (JWT + X.509). */
  cpuBoth: number[];
  /** Added memory (JWT + X.509) in a function that already holds node:https and node:crypto. */
  addedPreloaded: number[];
  /** The floor handler's added memory and CPU: loading node:https, one TLS request. */
  addedOneRequest: number[];
  cpuOneRequest: number[];
  /** The exchange's own time answering each init's requests beyond the simulated latencies (summed per init). */
  workJwt: number[];
  workBoth: number[];
}

async function coldStarts(
  entry: string,
  dir: string,
  env: Record<string, string>,
  upstream: readonly Upstream[],
): Promise<ColdStart> {
  const r: ColdStart = {
    bare: [],
    oneRequest: [],
    plain: [],
    jwt: [],
    both: [],
    addedJwt: [],
    addedBoth: [],
    cpuBoth: [],
    addedPreloaded: [],
    addedOneRequest: [],
    cpuOneRequest: [],
    workJwt: [],
    workBoth: [],
  };
  const runner = join(dir, "runner.mjs");
  const plain = handlerFile(dir, "plain.mjs", "export const handler = async () => 1;");
  const oneRequest = handlerFile(dir, "one-request.mjs", ONE_REQUEST);
  /** One init: its wall time, the runner's report, and the exchange's own time for it. */
  const init = async (handler: string, extra: Record<string, string> = {}) => {
    const seen = upstream.length;
    const { ms, report } = await timedChild([runner, handler], { ...env, ...extra });
    const work = upstream.slice(seen).reduce((sum, u) => sum + u.ms, 0);
    return { ms, added: report!.after - report!.before, cpuMs: report!.cpuMs, work };
  };
  for (let i = 0; i < RUNS; i++) {
    r.bare.push((await timedChild(["-e", ""], env)).ms);
    r.plain.push((await init(plain)).ms);
    const one = await init(oneRequest);
    r.oneRequest.push(one.ms);
    r.addedOneRequest.push(one.added);
    r.cpuOneRequest.push(one.cpuMs);
    const jwt = await init(entry, { SVID_BRIDGE_X509: "off" });
    r.jwt.push(jwt.ms);
    r.addedJwt.push(jwt.added);
    r.workJwt.push(jwt.work);
    const both = await init(entry);
    r.both.push(both.ms);
    r.addedBoth.push(both.added);
    r.cpuBoth.push(both.cpuMs);
    r.workBoth.push(both.work);
    r.addedPreloaded.push((await init(entry, { PRELOAD_HTTPS: "1" })).added);
  }
  return r;
}

/** The extension on the same node and exchange: its start to ready and its resident memory. */
async function extensionFigures(layerDir: string, exchange: SimulatedBridge, url: string, caFile: string) {
  const rt = await LambdaSandbox.start({
    layerDir,
    principal: exchange.principal,
    env: { ...bridgeEnv(exchange, url, caFile), SVID_BRIDGE_HTTP_PORT: String(await freePort()) },
  });
  try {
    if (!rt.initResult?.ok) throw new Error(`extension init failed: ${rt.logs}`);
    return { readyMs: rt.initResult.ms, rss: rssBytes(rt.extensions[0]!.child.pid!) };
  } finally {
    await rt.close();
  }
}

export async function run(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), "svid-in-process-bench-"));
  const sizes = await bundle(dir);
  writeFileSync(join(dir, "runner.mjs"), RUNNER);
  writeFileSync(join(dir, "warm.mjs"), "export {};");
  const exchange = await startSimulatedBridge(LATENCY);
  const tls = loopbackCertificate(dir);
  const proxy = await tlsProxy(exchange.url, tls);
  try {
    const env = bridgeEnv(exchange, proxy.url, tls.caFile);
    const cold = await coldStarts(pathToHref(sizes.entry), dir, env, proxy.upstream);
    const layer = await buildLayer(join(dir, "layer"));
    const ext = await extensionFigures(layer.dir, exchange, proxy.url, tls.caFile);
    return figures(sizes, cold, ext);
  } finally {
    proxy.close();
    await exchange.stop();
  }
}

function pathToHref(path: string): string {
  return new URL(`file://${path}`).href;
}

function figures(
  sizes: { jwtOnly: number; withX509: number; oneFile: number },
  cold: ColdStart,
  ext: { readyMs: number; rss: number },
): BenchResult[] {
  return [
    {
      name: "in-process bundle, JWT-SVIDs only",
      value: round(sizes.jwtOnly / 1024, 1),
      unit: "KiB",
      budget: "<= 100 KiB",
      met: sizes.jwtOnly <= 100 * 1024,
    },
    { name: "in-process bundle, JWT + X.509", value: round(sizes.withX509 / 1024, 1), unit: "KiB" },
    {
      name: "in-process bundle, one file with everything (no code splitting, as CDK's NodejsFunction bundles)",
      value: round(sizes.oneFile / 1024, 1),
      unit: "KiB",
    },
    ...timeFigures(cold),
    ...memoryFigures(cold, ext),
  ];
}

function timeFigures(cold: ColdStart): BenchResult[] {
  // The tax: what the handler's svid-bridge init adds to the same function without it.
  const plain = median(cold.plain);
  const floor = median(cold.oneRequest) - plain;
  const chain = `unavoidable chain (exchange RTT ${LATENCY.rttMs} + STS ${LATENCY.stsMs} + KMS sign ${LATENCY.kmsSignMs} ms)`;
  const tax = (name: string, ms: number): BenchResult => ({
    name,
    value: round(ms, 1),
    unit: "ms",
    reference: chain,
    ratio: round(ms / CHAIN_MS, 2),
    budget: "ratio <= 1.25",
    met: ms / CHAIN_MS <= 1.25,
  });
  const ms = (name: string, value: number): BenchResult => ({ name, value: round(value, 1), unit: "ms" });
  return [
    { name: chain, value: CHAIN_MS, unit: "ms" },
    ms("bare node -e '' start (Node 24)", median(cold.bare)),
    ms("a handler without svid-bridge, loaded as Lambda's runtime loads it", plain),
    {
      ...ms("one plain request through the same delays, in a handler's init (this machine's floor)", floor),
      reference: chain,
      ratio: round(floor / CHAIN_MS, 2),
    },
    ms("CPU in the function at init of that one plain request (the floor's)", median(cold.cpuOneRequest)),
    tax("in-process cold-start tax (simulated AWS latencies)", median(cold.both) - plain),
    ms("in-process CPU in the function at init (load, proofs, key, CSR; JWT + X.509)", median(cold.cpuBoth)),
    ms(
      "the exchange's own time answering the in-process init (JWT + X.509), on top of the simulated latencies and not in the floor",
      median(cold.workBoth),
    ),
    tax("in-process cold-start tax, JWT-SVID only (simulated AWS latencies)", median(cold.jwt) - plain),
    ms("the exchange's own time answering the in-process init, JWT-SVID only", median(cold.workJwt)),
  ];
}

function memoryFigures(cold: ColdStart, ext: { readyMs: number; rss: number }): BenchResult[] {
  const added = median(cold.addedBoth);
  const floor = median(cold.addedOneRequest);
  const extension = "extension resident memory after init, same run";
  return [
    { name: "extension start to ready, same exchange and node", value: round(ext.readyMs, 1), unit: "ms" },
    { name: extension, value: round(ext.rss / MiB, 1), unit: "MiB" },
    {
      name: "memory one plain request adds in a handler's init: node:https, one TLS connection (this machine's floor)",
      value: round(floor / MiB, 1),
      unit: "MiB",
      reference: extension,
      ratio: round(floor / ext.rss, 2),
    },
    {
      name: "in-process added memory",
      value: round(added / MiB, 1),
      unit: "MiB",
      reference: extension,
      ratio: round(added / ext.rss, 2),
      budget: "<= 12 MiB and ratio <= 0.2",
      met: added <= 12 * MiB && added / ext.rss <= 0.2,
    },
    {
      name: "in-process added memory, JWT-SVID only",
      value: round(median(cold.addedJwt) / MiB, 1),
      unit: "MiB",
    },
    {
      name: "in-process added memory, in a function that already uses node:https (as AWS SDK v3 clients do)",
      value: round(median(cold.addedPreloaded) / MiB, 1),
      unit: "MiB",
      reference: extension,
      ratio: round(median(cold.addedPreloaded) / ext.rss, 2),
    },
  ];
}
