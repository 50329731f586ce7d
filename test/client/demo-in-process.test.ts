/**
 * `svid-bridge demo --in-process` end to end, against the dev stack: the same sample
 * function (examples/demo-function) in a Lambda sandbox with the layer, and with no
 * layer at all (the in-process source); the same SPIFFE ID, each checked from the
 * bridge's public documents; the two modes' memory and init figures side by side.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatDemoComparison } from "../../lib/cli/commands/demo.js";
import { type DemoBridge, runDemo } from "../../lib/dev/demo.js";
import { createDevLog } from "../../lib/dev/dev-log.js";
import { type DevStack, startDevStack } from "../../lib/dev/dev-stack.js";

const dir = mkdtempSync(join(tmpdir(), "svid-bridge-demo-ip-"));
const log = createDevLog(new PassThrough().resume());
let stack: DevStack;

beforeAll(async () => {
  stack = await startDevStack({ port: 0, trustDomain: "example.org", region: "us-east-1", log });
}, 60_000);
afterAll(async () => {
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const bridgeOf = (s: DevStack): DemoBridge => ({
  url: s.url,
  serverId: s.serverId,
  issuer: s.issuer,
  trustDomain: s.trustDomain,
  region: s.region,
  credentials: {
    accessKeyId: s.principal.accessKeyId,
    secretAccessKey: s.principal.secretAccessKey,
    sessionToken: s.principal.sessionToken!,
  },
});

describe("svid-bridge demo --in-process", () => {
  it("gets the same SPIFFE ID with the layer and with no layer, both verified from outside", async () => {
    const run = (mode: "extension" | "in-process") =>
      runDemo({ bridge: bridgeOf(stack), mode, event: { audience: "demo" }, workDir: join(dir, mode), log });
    const layer = await run("extension");
    const inProcess = await run("in-process");
    const expected = "spiffe://example.org/aws/111122223333/svid-bridge-dev";
    for (const report of [layer, inProcess]) {
      expect(report.result.spiffeId).toBe(expected);
      expect(report.checks.jwt.spiffeId).toBe(expected);
      expect(report.checks.x509.spiffeId).toBe(expected);
      expect((report.result.jwtSvid as { validated: string }).validated).toBe(expected);
      expect(report.memory.functionMiB).toBeGreaterThan(10);
    }
    expect([layer.mode, layer.result.mode]).toEqual(["extension", "extension"]);
    expect([inProcess.mode, inProcess.result.mode]).toEqual(["in-process", "in-process"]);
    // No layer: no extension process, no files; with the layer, both.
    expect(inProcess.memory.extensionMiB).toBe(0);
    expect(inProcess.result.files).toEqual([]);
    expect(layer.memory.extensionMiB).toBeGreaterThan(10);
    const table = formatDemoComparison(layer, inProcess);
    expect(table).toContain(expected);
    expect(table).toMatch(/init:\s+\d+ ms\s+\d+ ms/);
    expect(table).toMatch(/extension process:\s+[\d.]+ MiB\s+none/);
  }, 120_000);
});
