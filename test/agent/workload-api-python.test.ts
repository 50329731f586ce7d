/**
 * The SPIFFE Workload API from a gRPC implementation the project does not serve with
 * (Python's grpcio, stubs compiled from the project's proto), against both hosts:
 * - the built layer's extension under LambdaSandbox (frozen between invokes), with the
 *   fake exchange;
 * - `svid-bridge agent` as a process against `svid-bridge dev` as a process.
 * Every RPC, the metadata rule, the error codes, a stream that receives a rotated SVID
 * (across a freeze on Lambda; from the agent's half-life timer), a stream that ends
 * cleanly at SHUTDOWN, SIGTERM's cleanup.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { existsSync, lstatSync, mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, LambdaSandbox } from "../../lib/local/lambda-sandbox.js";
import { buildLayer } from "../../scripts/build-layer.js";
import { BIN, CLEAN_ENV, ROOT, type RunningDev, runSvidBridge, startDev } from "../dev/dev-process.js";
import { type FakeExchange, startFakeExchange } from "../support/fake-exchange.js";
import { compileStubs, pythonGrpc, runPython } from "./python-client.js";

const python = pythonGrpc();
const required = process.env.CI === "true";
if (!python.ok && !required) console.warn(`SKIPPED the Python Workload API tests: ${python.why}`);
const suite = python.ok || required ? describe : describe.skip;

interface Checks {
  without_header: Record<string, string>;
  wrong_header: Record<string, string>;
  FetchWITSVID: string;
  FetchWITBundles: string;
  x509: { spiffe_id: string; chain: string; key: string; bundle: string };
  x509_bundles: Record<string, string>;
  jwt_bundles: Record<string, { keys: { use: string; kid: string }[] }>;
  jwt: { spiffe_id: string; token: string };
  jwt_no_audience: string;
  jwt_other_id: string;
  validate: { spiffe_id: string; sub: string; aud: string[] };
  validate_wrong_audience: string;
  validate_empty: string;
}

/** What every host must answer, checked the same way for both. */
function expectWorkloadApi(r: Checks, spiffeId: string, audience: string): void {
  for (const table of [r.without_header, r.wrong_header])
    expect(Object.values(table)).toEqual(Array(6).fill("INVALID_ARGUMENT"));
  expect([r.FetchWITSVID, r.FetchWITBundles]).toEqual(["UNIMPLEMENTED", "UNIMPLEMENTED"]);
  // DER chain, leaf first; PKCS#8 DER key for the leaf; DER bundle (the roots).
  const leaf = new X509Certificate(Buffer.from(r.x509.chain, "base64"));
  expect(r.x509.spiffe_id).toBe(spiffeId);
  expect(leaf.subjectAltName).toBe(`URI:${spiffeId}`);
  const key = createPrivateKey({ key: Buffer.from(r.x509.key, "base64"), format: "der", type: "pkcs8" });
  expect(leaf.checkPrivateKey(key)).toBe(true);
  const root = new X509Certificate(Buffer.from(r.x509.bundle, "base64"));
  expect(root.ca).toBe(true);
  const td = spiffeId.slice(0, spiffeId.indexOf("/", "spiffe://".length));
  expect(Object.keys(r.x509_bundles)).toEqual([td]);
  expect(new X509Certificate(Buffer.from(r.x509_bundles[td]!, "base64")).ca).toBe(true);
  expect(r.jwt_bundles[td]!.keys.length).toBeGreaterThan(0);
  expect(r.jwt_bundles[td]!.keys.every((k) => k.use === "jwt-svid" && k.kid)).toBe(true);
  expect(r.jwt.spiffe_id).toBe(spiffeId);
  expect([r.jwt_no_audience, r.jwt_other_id]).toEqual(["INVALID_ARGUMENT", "PERMISSION_DENIED"]);
  expect(r.validate).toEqual({ spiffe_id: spiffeId, sub: spiffeId, aud: [audience] });
  expect([r.validate_wrong_audience, r.validate_empty]).toEqual(["INVALID_ARGUMENT", "INVALID_ARGUMENT"]);
}

suite("Workload API from Python grpcio: the extension in a Lambda sandbox", () => {
  let stubs: string;
  let exchange: FakeExchange;
  let layerDir: string;
  const sandboxes: LambdaSandbox[] = [];

  beforeAll(async () => {
    if (!python.ok) throw new Error(`CI=true and ${python.why}`);
    stubs = compileStubs();
    layerDir = (await buildLayer(mkdtempSync(join(tmpdir(), "svid-layer-")))).dir;
    exchange = await startFakeExchange({ jwtTtlSeconds: 600, x509TtlSeconds: 3 });
  }, 60_000);
  afterAll(async () => {
    for (const s of sandboxes) await s.close();
    await exchange?.stop();
  });

  async function sandbox(env: Record<string, string> = {}) {
    const s = await LambdaSandbox.start({
      layerDir,
      principal: exchange.principal,
      env: {
        SVID_BRIDGE_URL: exchange.url,
        SVID_BRIDGE_SERVER_ID: exchange.serverId,
        SVID_BRIDGE_HTTP_PORT: String(await freePort()),
        SVID_BRIDGE_JWT_AUDIENCES: "aud-a",
        ...env,
      },
    });
    sandboxes.push(s);
    expect(s.initResult, s.logs).toMatchObject({ ok: true });
    return s;
  }

  it("serves every RPC on a 0600 socket, keeps a stream across freezes, and ends it at SHUTDOWN", async () => {
    const lambda = await sandbox();
    const socket = lambda.workloadSocket;
    expect(lstatSync(socket).isSocket()).toBe(true);
    expect(statSync(socket).mode & 0o777).toBe(0o600);
    const checks = await lambda.invoke(() => runPython<Checks>(stubs, socket, "checks", "aud-a").result);
    expectWorkloadApi(checks, exchange.spiffeId.toString(), "aud-a");

    // A stream opened in one invoke, frozen with the sandbox, gets the X.509-SVID the
    // next INVOKE's refresh fetches (3 s lifetime: due after 1.5 s).
    const watch = runPython<{ leaves: string[]; status: string }>(stubs, socket, "watch", "5", "30");
    await lambda.invoke(() => watch.messages(1));
    await new Promise((r) => setTimeout(r, 1_700));
    await lambda.invoke(() => watch.messages(2));
    const shut = await lambda.shutdown("SPINDOWN", 2_000);
    expect(shut).toMatchObject({ exitedInTime: true, code: 0 });
    const streamed = await watch.result;
    expect(streamed.status).toBe("OK"); // ended by the extension, cleanly
    expect(streamed.leaves.length).toBeGreaterThanOrEqual(2);
    expect(streamed.leaves[1]).not.toBe(streamed.leaves[0]);
    expect(existsSync(socket)).toBe(false);
  });

  it("answers Unavailable while no SVID could be fetched, PermissionDenied when the exchange refused", async () => {
    const down = await sandbox({
      SVID_BRIDGE_URL: `http://127.0.0.1:${await freePort()}`,
      SVID_BRIDGE_INIT_FAILURE: "degraded",
      SVID_BRIDGE_INIT_TIMEOUT_MS: "300",
    });
    const unavailable = await down.invoke(() => runPython(stubs, down.workloadSocket, "status").result);
    expect(unavailable).toEqual({ FetchX509SVID: "UNAVAILABLE", FetchJWTSVID: "UNAVAILABLE" });
    exchange.refuseWith({ status: 403, code: "no_registration" });
    try {
      const refused = await sandbox({
        SVID_BRIDGE_INIT_FAILURE: "degraded",
        SVID_BRIDGE_INIT_TIMEOUT_MS: "300",
      });
      const denied = await refused.invoke(() => runPython(stubs, refused.workloadSocket, "status").result);
      expect(denied).toEqual({ FetchX509SVID: "PERMISSION_DENIED", FetchJWTSVID: "PERMISSION_DENIED" });
    } finally {
      exchange.refuseWith(undefined);
    }
  });
});

interface RunningAgent {
  child: ChildProcess;
  stderr(): string;
  ready: Promise<void>;
  exited: Promise<number | null>;
}

function startAgent(dev: RunningDev, args: string[]): RunningAgent {
  const child = spawn(process.execPath, [BIN, "agent", ...args], {
    cwd: ROOT,
    env: { ...CLEAN_ENV, ...dev.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    onReady = resolve;
  });
  child.stderr!.on("data", (d: Buffer) => {
    stderr += d.toString();
    if (/"message":"ready"/.test(stderr)) onReady();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, stderr: () => stderr, ready, exited };
}

suite("Workload API from Python grpcio: `svid-bridge agent` against `svid-bridge dev`", () => {
  let stubs: string;
  let dev: RunningDev;
  const dir = mkdtempSync(join(tmpdir(), "svid-agent-"));
  const agents: RunningAgent[] = [];

  beforeAll(async () => {
    if (!python.ok) throw new Error(`CI=true and ${python.why}`);
    stubs = compileStubs();
    dev = await startDev(["--port", "0", "--env-out", join(dir, "env")]);
  }, 90_000);
  afterAll(async () => {
    for (const a of agents) a.child.kill("SIGKILL");
    await dev?.stop();
  });

  it("serves the dev principal's identity, logs one ready line, and cleans up on SIGTERM", async () => {
    const socket = join(dir, "agent.sock");
    const files = join(dir, "files");
    const agent = startAgent(dev, ["--socket", socket, "--jwt-audience", "demo", "--files-dir", files]);
    agents.push(agent);
    await Promise.race([agent.ready, agent.exited.then(() => Promise.reject(new Error(agent.stderr())))]);
    expect(agent.stderr().match(/"message":"ready"/g)).toHaveLength(1);
    expect(statSync(socket).mode & 0o777).toBe(0o600);
    const spiffeId = `spiffe://${dev.env.SVID_BRIDGE_TRUST_DOMAIN}/aws/111122223333/svid-bridge-dev`;
    const checks = await runPython<Checks>(stubs, socket, "checks", "demo").result;
    expectWorkloadApi(checks, spiffeId, "demo");
    expect(existsSync(join(files, "svid_key.pem"))).toBe(true);
    const watch = runPython<{ leaves: string[]; status: string }>(stubs, socket, "watch", "5", "30");
    await watch.messages(1);
    agent.child.kill("SIGTERM");
    expect(await agent.exited).toBe(0);
    expect((await watch.result).status).toBe("OK");
    expect(existsSync(socket)).toBe(false);
    expect(existsSync(join(files, "svid_key.pem"))).toBe(false);
  }, 60_000);

  it("streams the X.509-SVID its timer rotates at half-life (a 60 s SVID: the rotation comes ~30 s in)", async () => {
    const td = dev.env.SVID_BRIDGE_TRUST_DOMAIN!;
    const shortId = `spiffe://${td}/short-lived`;
    const registered = await runSvidBridge(
      ["register", "--id", "short-lived", "--spiffe-id", shortId, "--account", "111122223333"].concat([
        "--role",
        "svid-bridge-dev",
        "--kind",
        "x509",
        "--x509-ttl",
        "60",
      ]),
      dev.env,
    );
    expect(registered.code, registered.stderr).toBe(0);
    const socket = join(dir, "rotating.sock");
    const agent = startAgent(dev, ["--socket", socket, "--spiffe-id", shortId]);
    agents.push(agent);
    await Promise.race([agent.ready, agent.exited.then(() => Promise.reject(new Error(agent.stderr())))]);
    const watch = runPython<{ leaves: string[]; status: string }>(stubs, socket, "watch", "2", "75");
    const { leaves, status } = await watch.result;
    expect(status).toBe("OK");
    expect(leaves).toHaveLength(2);
    const [first, second] = leaves.map((l) => new X509Certificate(Buffer.from(l, "base64")));
    expect(second!.serialNumber).not.toBe(first!.serialNumber);
    expect(second!.subjectAltName).toBe(`URI:${shortId}`);
    expect(Date.parse(second!.validTo)).toBeGreaterThan(Date.parse(first!.validTo));
    agent.child.kill("SIGTERM");
    expect(await agent.exited).toBe(0);
  }, 120_000);

  it("answers PermissionDenied when the exchange refuses the host (a SPIFFE ID it is not registered for)", async () => {
    const socket = join(dir, "refused.sock");
    const agent = startAgent(dev, ["--socket", socket, "--spiffe-id", "spiffe://example.org/not-registered"]);
    agents.push(agent);
    let status: unknown;
    for (let i = 0; i < 50; i++) {
      if (existsSync(socket)) {
        status = await runPython(stubs, socket, "status").result;
        if ((status as { FetchX509SVID: string }).FetchX509SVID === "PERMISSION_DENIED") break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(status).toEqual({ FetchX509SVID: "PERMISSION_DENIED", FetchJWTSVID: "PERMISSION_DENIED" });
    agent.child.kill("SIGTERM");
    expect(await agent.exited).toBe(0);
  }, 60_000);
});
