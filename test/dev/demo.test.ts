/**
 * `runDemo` against the dev stack: the sample function with the freshly built layer in a
 * Lambda sandbox (extension and function as their own processes, the function started
 * through the layer's exec wrapper), its SVIDs read inside the function, then checked
 * from the bridge's public documents and by OpenSSL; and the refusals a user meets.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DemoBridge, runDemo } from "../../lib/dev/demo.js";
import { createDevLog } from "../../lib/dev/dev-log.js";
import { type DevStack, startDevStack } from "../../lib/dev/dev-stack.js";
import { BridgeError } from "../../lib/errors.js";
import { parseCertificatesPem } from "../../lib/spiffe/x509-svid.js";
import { hasOpenssl, opensslVerify } from "../support/x509-fixtures.js";

const dir = mkdtempSync(join(tmpdir(), "svid-bridge-demo-"));
let stack: DevStack;
const logged: string[] = [];
const logStream = new PassThrough();
logStream.on("data", (d: Buffer) => logged.push(d.toString()));
const log = createDevLog(logStream);

function bridgeOf(s: DevStack): DemoBridge {
  return {
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
  };
}

beforeAll(async () => {
  stack = await startDevStack({ port: 0, trustDomain: "example.org", region: "us-east-1", log });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("svid-bridge demo", () => {
  it("runs the sample function with the layer; its SVIDs verify from outside", async () => {
    const output: string[] = [];
    const report = await runDemo({
      bridge: bridgeOf(stack),
      event: { audience: "demo-audience" },
      workDir: join(dir, "ok"),
      log,
      onOutput: (source, text) => output.push(`${source}: ${text}`),
    });
    const expected = "spiffe://example.org/aws/111122223333/svid-bridge-dev";
    expect(report.result.spiffeId).toBe(expected);
    expect(report.checks.jwt).toMatchObject({ spiffeId: expected, audience: "demo-audience" });
    expect(report.checks.x509.spiffeId).toBe(expected);
    // The function read the same X.509-SVID through the Workload API socket the wrapper exported.
    expect(report.checks.workloadApi).toMatchObject({ spiffeId: expected, sameCertificate: true });
    expect(report.checks.workloadApi!.socket).toMatch(/^unix:\/\/\/.*workload\.sock$/);
    // leaf, intermediate, root: intermediate mode as in AWS.
    expect(report.checks.x509.path).toHaveLength(3);
    // The function itself: validated its token through the extension, saw the files.
    const jwtSvid = report.result.jwtSvid as Record<string, unknown>;
    expect(report.result.mode).toBe("extension");
    expect(jwtSvid.validated).toBe(expected);
    expect(report.result.files).toEqual(["bundle.pem", "svid.pem", "svid_key.pem"]);
    expect((report.result.x509Svid as Record<string, unknown>).uriSan).toBe(`URI:${expected}`);
    // The function ran as its own process, through the layer's wrapper, and logged.
    expect(output.join("")).toContain("read my SVIDs");
    // OpenSSL, a verifier we did not write, agrees with the chain against the dev bundle.
    if (hasOpenssl()) {
      const bundle = (await (await fetch(`${stack.issuer}/bundle.json`)).json()) as {
        keys: { use: string; x5c?: string[] }[];
      };
      const roots = bundle.keys
        .filter((k) => k.use === "x509-svid")
        .flatMap((k) => parseCertificatesPem(pemOf(k.x5c![0]!)));
      const chain = parseCertificatesPem(
        (report.result.x509Svid as { certificateChain: string }).certificateChain,
      );
      expect(opensslVerify(roots, chain)).toContain("OK");
    }
    expect(report.shutdown.exitedInTime).toBe(true);
    expect(report.shutdown.code).toBe(0);
  }, 60_000);

  it("a role the bridge has no registration for fails init, naming the exchange's code", async () => {
    const unseeded = await startDevStack({
      port: 0,
      trustDomain: "example.org",
      region: "us-east-1",
      seed: false,
      log,
    });
    try {
      const refused = runDemo({ bridge: bridgeOf(unseeded), event: {}, workDir: join(dir, "unseeded"), log });
      await expect(refused).rejects.toBeInstanceOf(BridgeError);
      await expect(refused).rejects.toMatchObject({
        code: "function_init_failed",
        message: expect.stringMatching(/Extension\.ExchangeRejected.*no_registration/),
      });
    } finally {
      await unseeded.stop();
    }
  }, 60_000);

  it("credentials STS does not accept fail init, naming the proof's refusal", async () => {
    const bridge = bridgeOf(stack);
    const refused = runDemo({
      bridge: { ...bridge, credentials: { ...bridge.credentials, secretAccessKey: "not-the-secret" } },
      event: {},
      workDir: join(dir, "refused"),
      log,
    });
    await expect(refused).rejects.toMatchObject({
      code: "function_init_failed",
      message: expect.stringMatching(/Extension\.ExchangeRejected.*proof_rejected/),
    });
  }, 60_000);

  it("a handler that throws is reported with Lambda's error type and message", async () => {
    const entry = join(dir, "throws.mjs");
    writeFileSync(entry, 'export const handler = async () => { throw new TypeError("no luck"); };\n');
    await expect(
      runDemo({
        bridge: bridgeOf(stack),
        event: {},
        workDir: join(dir, "throws"),
        functionEntry: entry,
        log,
      }),
    ).rejects.toMatchObject({ code: "function_failed", message: "the function failed: TypeError: no luck" });
  }, 60_000);

  it("a module without the handler export fails init as Lambda's runtime does", async () => {
    const entry = join(dir, "no-handler.mjs");
    writeFileSync(entry, "export const other = 1;\n");
    await expect(
      runDemo({
        bridge: bridgeOf(stack),
        event: {},
        workDir: join(dir, "nohandler"),
        functionEntry: entry,
        log,
      }),
    ).rejects.toMatchObject({
      code: "function_init_failed",
      message: expect.stringContaining("Runtime.HandlerNotFound"),
    });
  }, 60_000);
});

function pemOf(base64Der: string): string {
  return `-----BEGIN CERTIFICATE-----\n${base64Der.match(/.{1,64}/g)!.join("\n")}\n-----END CERTIFICATE-----\n`;
}
