/**
 * The Workload API in process: the SVID manager against the fake exchange, served on a
 * Unix socket by WorkloadApiSocket, called with a grpc-js client built from the project's
 * proto. The Python client (another gRPC implementation) drives the built layer and the
 * agent in test/agent/workload-api-python.test.ts.
 */

import { spawn } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { lstatSync, mkdtempSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Client, credentials, loadPackageDefinition, Metadata, type ServiceError } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { HttpExchangeClient } from "../../layers/extension/src/exchange-client.js";
import { stsProofBuilder } from "../../layers/extension/src/proof-builder.js";
import { SvidManager, type SvidManagerOptions } from "../../layers/extension/src/svid-manager.js";
import { protoPath } from "../../layers/extension/src/workload-api/grpc-server.js";
import { WorkloadApiSocket } from "../../layers/extension/src/workload-api/socket-server.js";
import { ManualClock } from "../../lib/clock.js";
import { type FakeExchange, startFakeExchange } from "../support/fake-exchange.js";

type Rpc = (...args: unknown[]) => unknown;
type WorkloadClient = Client & Record<string, Rpc>;

const Status = { InvalidArgument: 3, PermissionDenied: 7, Unimplemented: 12, Unavailable: 14 };

function client(path: string): WorkloadClient {
  const def = loadSync(protoPath(), { keepCase: true, defaults: true, oneofs: true });
  const Ctor = (
    loadPackageDefinition(def) as unknown as { SpiffeWorkloadAPI: new (...a: unknown[]) => WorkloadClient }
  ).SpiffeWorkloadAPI;
  return new Ctor(`unix://${path}`, credentials.createInsecure());
}

function header(value = "true"): Metadata {
  const m = new Metadata();
  m.set("workload.spiffe.io", value);
  return m;
}

function unary<T = ServiceError>(
  c: WorkloadClient,
  rpc: string,
  request: unknown,
  md = header(),
): Promise<T> {
  return new Promise((resolve, reject) =>
    c[rpc]!(request, md, (e: ServiceError | null, v: T) => (e ? reject(e) : resolve(v))),
  );
}

/** The first `n` messages of a server stream (then cancels), or its error. */
function firstMessages<T>(c: WorkloadClient, rpc: string, n = 1, md = header()): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const got: T[] = [];
    const call = c[rpc]!({}, md) as NodeJS.EventEmitter & { cancel(): void };
    call.on("data", (m: T) => {
      got.push(m);
      if (got.length === n) {
        resolve(got);
        call.cancel();
      }
    });
    call.on("error", (e: ServiceError) => (got.length < n ? reject(e) : undefined));
  });
}

describe("the Workload API (grpc-js client, in process)", () => {
  let exchange: FakeExchange;
  let manager: SvidManager;
  let socket: WorkloadApiSocket;
  let path: string;
  let c: WorkloadClient;

  function newManager(over: Partial<SvidManagerOptions> = {}) {
    return new SvidManager({
      exchange: new HttpExchangeClient({
        baseUrl: exchange.url,
        proofs: stsProofBuilder({
          credentials: async () => exchange.principal,
          region: "us-east-1",
          serverId: exchange.serverId,
        }),
      }),
      jwtAudiences: ["aud-a"],
      x509: true,
      snapStart: false,
      clockJumpMs: 60_000,
      ...over,
    });
  }

  beforeEach(async () => {
    exchange = await startFakeExchange({ jwtTtlSeconds: 600 });
    manager = newManager();
    path = join(mkdtempSync(join(tmpdir(), "svid-wl-")), "workload.sock");
    socket = await WorkloadApiSocket.listen({ path, manager });
    c = client(path);
  });
  afterEach(async () => {
    c.close();
    manager.close();
    await socket.close(200);
    await exchange.stop();
  });

  it("makes the socket 0600 and loads gRPC only when a workload connects", async () => {
    expect(lstatSync(path).isSocket()).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(socket.grpcLoaded).toBe(false);
    await manager.initialize();
    await unary(c, "FetchJWTSVID", { audience: ["aud-a"] });
    expect(socket.grpcLoaded).toBe(true);
  });

  it("answers Unavailable while the SVIDs are being fetched", async () => {
    const e = await firstMessages(c, "FetchX509SVID").catch((x) => x);
    expect(e.code).toBe(Status.Unavailable);
    const j = await unary(c, "FetchJWTSVID", { audience: ["aud-a"] }).catch((x) => x);
    expect(j.code).toBe(Status.Unavailable);
  });

  it("answers PermissionDenied when the exchange refused the caller", async () => {
    exchange.refuseWith({ status: 403, code: "no_registration" });
    await manager.initialize().catch(() => undefined);
    for (const rpc of ["FetchX509SVID", "FetchX509Bundles", "FetchJWTBundles"]) {
      const e = await firstMessages(c, rpc).catch((x) => x);
      expect([rpc, e.code]).toEqual([rpc, Status.PermissionDenied]);
    }
    const j = await unary(c, "FetchJWTSVID", { audience: ["aud-a"] }).catch((x) => x);
    expect(j.code).toBe(Status.PermissionDenied);
  });

  it("refuses every RPC without the exact workload.spiffe.io: true header", async () => {
    await manager.initialize();
    for (const md of [new Metadata(), header("True"), header("yes")]) {
      for (const rpc of ["FetchX509SVID", "FetchX509Bundles", "FetchJWTBundles", "FetchWITSVID"]) {
        const e = await firstMessages(c, rpc, 1, md).catch((x) => x);
        expect([rpc, e.code]).toEqual([rpc, Status.InvalidArgument]);
      }
      for (const [rpc, req] of [
        ["FetchJWTSVID", { audience: ["aud-a"] }],
        ["ValidateJWTSVID", { audience: "a", svid: "x.y.z" }],
      ] as const) {
        const e = await unary(c, rpc, req, md).catch((x) => x);
        expect([rpc, e.code]).toEqual([rpc, Status.InvalidArgument]);
      }
    }
    const two = header();
    two.add("workload.spiffe.io", "true");
    const e = await unary(c, "FetchJWTSVID", { audience: ["aud-a"] }, two).catch((x) => x);
    expect(e.code).toBe(Status.InvalidArgument);
  });

  it("serves the X.509-SVID as DER (leaf first), the PKCS#8 key and the DER bundle", async () => {
    await manager.initialize();
    type Svid = { spiffe_id: string; x509_svid: Buffer; x509_svid_key: Buffer; bundle: Buffer };
    const [msg] = await firstMessages<{ svids: Svid[] }>(c, "FetchX509SVID");
    const svid = msg!.svids[0]!;
    expect(svid.spiffe_id).toBe(exchange.spiffeId.toString());
    const leaf = new X509Certificate(svid.x509_svid); // parses the first certificate
    expect(leaf.subjectAltName).toContain(exchange.spiffeId.toString());
    const held = await manager.x509Svid();
    expect(leaf.publicKey.export({ format: "pem", type: "spki" })).toBe(
      new X509Certificate(held.certificateChainPem).publicKey.export({ format: "pem", type: "spki" }),
    );
    const { createPrivateKey } = await import("node:crypto");
    expect(
      createPrivateKey({ key: svid.x509_svid_key, format: "der", type: "pkcs8" }).asymmetricKeyType,
    ).toBe("ec");
    expect(new X509Certificate(svid.bundle).ca).toBe(true);
    const [bundles] = await firstMessages<{ bundles: Record<string, Buffer> }>(c, "FetchX509Bundles");
    expect(Object.keys(bundles!.bundles)).toEqual(["spiffe://example.org"]);
    const [jwt] = await firstMessages<{ bundles: Record<string, Buffer> }>(c, "FetchJWTBundles");
    const jwks = JSON.parse(jwt!.bundles["spiffe://example.org"]!.toString()) as { keys: { use: string }[] };
    expect(jwks.keys.length).toBeGreaterThan(0);
    expect(jwks.keys.every((k) => k.use === "jwt-svid")).toBe(true);
  });

  it("mints JWT-SVIDs (audience required, spiffe_id checked) and validates them", async () => {
    await manager.initialize();
    type Jwt = { svids: { spiffe_id: string; svid: string }[] };
    const none = await unary(c, "FetchJWTSVID", { audience: [] }).catch((x) => x);
    expect(none.code).toBe(Status.InvalidArgument);
    const r = await unary<Jwt>(c, "FetchJWTSVID", { audience: ["aud-x", "aud-y"] });
    const token = r.svids[0]!.svid;
    const other = await unary(c, "FetchJWTSVID", {
      audience: ["aud-a"],
      spiffe_id: "spiffe://example.org/someone-else",
    }).catch((x) => x);
    expect(other.code).toBe(Status.PermissionDenied);
    const bad = await unary(c, "FetchJWTSVID", { audience: ["aud-a"], spiffe_id: "not an id" }).catch(
      (x) => x,
    );
    expect(bad.code).toBe(Status.InvalidArgument);
    const mine = await unary<Jwt>(c, "FetchJWTSVID", {
      audience: ["aud-a"],
      spiffe_id: exchange.spiffeId.toString(),
    });
    expect(mine.svids[0]!.spiffe_id).toBe(exchange.spiffeId.toString());
    type Valid = {
      spiffe_id: string;
      claims: { fields: Record<string, { listValue?: { values: { stringValue: string }[] } }> };
    };
    const v = await unary<Valid>(c, "ValidateJWTSVID", { audience: "aud-y", svid: token });
    expect(v.spiffe_id).toBe(exchange.spiffeId.toString());
    expect(v.claims.fields.aud!.listValue!.values.map((x) => x.stringValue)).toEqual(["aud-x", "aud-y"]);
    const wrongAud = await unary(c, "ValidateJWTSVID", { audience: "aud-z", svid: token }).catch((x) => x);
    expect(wrongAud.code).toBe(Status.InvalidArgument);
    const empty = await unary(c, "ValidateJWTSVID", { audience: "aud-y", svid: "" }).catch((x) => x);
    expect(empty.code).toBe(Status.InvalidArgument);
  });

  it("answers Unimplemented for the WIT RPCs", async () => {
    await manager.initialize();
    const e = await firstMessages(c, "FetchWITBundles").catch((x) => x);
    expect(e.code).toBe(Status.Unimplemented);
  });

  /** A fresh manager on a manual clock behind a fresh socket and client; `advance` moves its wall and monotonic clocks. */
  async function restartOnManualClock(): Promise<(ms: number) => void> {
    manager.close();
    let mono = 0;
    const clock = new ManualClock(Date.now());
    manager = newManager({ clock, monotonic: () => mono });
    await socket.close(200);
    socket = await WorkloadApiSocket.listen({ path, manager });
    c.close();
    c = client(path);
    await manager.initialize();
    return (ms) => {
      clock.advance(ms);
      mono += ms;
    };
  }

  it("answers FetchJWTSVID with the refreshed JWT-SVID once the held one is replaced (no stale cached answer)", async () => {
    const advance = await restartOnManualClock();
    type Jwt = { svids: { spiffe_id: string; svid: string }[] };
    const fetch = async () => (await unary<Jwt>(c, "FetchJWTSVID", { audience: ["aud-a"] })).svids[0]!.svid;
    const first = await fetch();
    expect(await fetch()).toBe(first);
    advance(400_000); // past half of the JWT-SVID's 600 s
    await manager.refresh();
    const held = (await manager.jwtSvid("aud-a")).token;
    expect(held).not.toBe(first);
    expect(await fetch()).toBe(held);
    const v = await unary<{ spiffe_id: string }>(c, "ValidateJWTSVID", { audience: "aud-a", svid: held });
    expect(v.spiffe_id).toBe(exchange.spiffeId.toString());
  });

  it("sends a rotated X.509-SVID down an open stream, and ends the stream cleanly on close", async () => {
    const advance = await restartOnManualClock();
    const call = c.FetchX509SVID!({}, header()) as NodeJS.EventEmitter;
    const got: Buffer[] = [];
    const status = new Promise<number>((resolve) =>
      call.on("status", (s: { code: number }) => resolve(s.code)),
    );
    const two = new Promise<void>((resolve) =>
      call.on("data", (m: { svids: { x509_svid: Buffer }[] }) => {
        got.push(m.svids[0]!.x509_svid);
        if (got.length === 2) resolve();
      }),
    );
    await until(() => got.length === 1);
    advance(1_900_000); // past half of the X.509-SVID's hour
    await manager.refresh();
    await two;
    expect(got[1]!.equals(got[0]!)).toBe(false);
    manager.close();
    expect(await status).toBe(0);
  });
});

async function until(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
}

describe("the Workload API socket file", () => {
  it("replaces a stale socket nobody listens on, and refuses a live one or a regular file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "svid-wl-"));
    const stale = join(dir, "stale.sock");
    // A process listening there, then killed: its socket file stays behind.
    const child = spawn(process.execPath, [
      "-e",
      `require("net").createServer().listen(${JSON.stringify(stale)}, () => console.log("up"))`,
    ]);
    await new Promise((r) => child.stdout.once("data", r));
    const live = await WorkloadApiSocket.listen({ path: stale, manager: {} as SvidManager }).catch((e) => e);
    expect(live.message).toContain("in use");
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    expect(lstatSync(stale).isSocket()).toBe(true);
    const fresh = await WorkloadApiSocket.listen({ path: stale, manager: {} as SvidManager });
    expect(lstatSync(stale).isSocket()).toBe(true);
    await fresh.close();
    const file = join(dir, "regular");
    writeFileSync(file, "keep me");
    const refused = await WorkloadApiSocket.listen({ path: file, manager: {} as SvidManager }).catch(
      (e) => e,
    );
    expect(refused.message).toContain("not a socket");
  });
});
