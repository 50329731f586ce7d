/**
 * `svid-bridge dev --with-function` and `svid-bridge demo`'s refusals, as processes.
 * No imports from lib/: what a user sees on the terminal is what is checked.
 */

import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BIN, CLEAN_ENV, ROOT, type RunningDev, runSvidBridge, startDev } from "./dev-process.js";

const dir = mkdtempSync(join(tmpdir(), "svid-bridge-demo-process-"));
let dev: RunningDev | undefined;

afterAll(async () => {
  await dev?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Settings for a bridge that is not there: enough to get past the checks before the network. */
const SOME_BRIDGE = {
  SVID_BRIDGE_URL: "http://127.0.0.1:9",
  SVID_BRIDGE_ISSUER: "http://127.0.0.1:9",
  SVID_BRIDGE_TRUST_DOMAIN: "example.org",
  AWS_REGION: "us-east-1",
  AWS_ACCESS_KEY_ID: "ASIAEXAMPLEEXAMPLE01",
  AWS_SECRET_ACCESS_KEY: "secret",
  AWS_SESSION_TOKEN: "token",
};

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  return cond();
}

describe("svid-bridge dev --with-function", () => {
  it("runs the demo function once the bridge is up and stays up", async () => {
    const event = join(dir, "event.json");
    writeFileSync(event, JSON.stringify({ audience: "with-function" }));
    dev = await startDev(["--port", "0", "--env-out", join(dir, "env"), "--with-function", event]);
    expect(await until(() => /^shutdown: /m.test(dev!.stderr()), 45_000), dev.stderr()).toBe(true);
    const log = dev.stderr();
    expect(log).toMatch(/^spiffe_id: +spiffe:\/\/example\.org\/aws\/111122223333\/svid-bridge-dev$/m);
    expect(log).toMatch(/^jwt_svid: +aud=with-function .*verified through OIDC discovery$/m);
    expect(log).toMatch(/^x509_svid: .*verified against the SPIFFE bundle$/m);
    expect(log).toMatch(/function +\| .*read my SVIDs/);
    // Still serving after the demo: discovery answers.
    const config = await fetch(`${dev.env.SVID_BRIDGE_ISSUER}/.well-known/openid-configuration`);
    expect(config.status).toBe(200);
    expect(await dev.stop()).toBe(0);
  }, 60_000);

  it("a bad event file is a usage error before anything starts", async () => {
    const bad = join(dir, "bad.json");
    writeFileSync(bad, "{not json");
    const run = await runSvidBridge([
      "dev",
      "--port",
      "0",
      "--env-out",
      join(dir, "env2"),
      "--with-function",
      bad,
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error usage: the event file .*bad\.json is not JSON/m);
    expect(run.stdout).toBe("");
  }, 30_000);
});

describe("svid-bridge demo", () => {
  it("Ctrl-C mid-run kills the sandbox's processes and removes the work dir with its key", async () => {
    const running = await startDev(["--port", "0", "--env-out", join(dir, "env-int")]);
    try {
      const tmp = join(dir, "tmp-int");
      mkdirSync(tmp);
      const slow = join(dir, "slow.mjs");
      writeFileSync(
        slow,
        'export const handler = async () => { console.log("waiting"); await new Promise((r) => setTimeout(r, 30000)); };\n',
      );
      const child = spawn(process.execPath, [BIN, "demo", "--function", slow], {
        cwd: ROOT,
        env: { ...CLEAN_ENV, ...running.env, TMPDIR: tmp },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
      });
      const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
      expect(await until(() => /function +\| waiting/.test(stderr), 30_000), stderr).toBe(true);
      // (tsx keeps its own cache there too.)
      const workDirs = readdirSync(tmp).filter((d) => d.startsWith("svid-bridge-demo-"));
      expect(workDirs).toHaveLength(1);
      child.kill("SIGINT");
      expect(await exited).toBe(130);
      expect(stderr).toContain("demo: SIGINT, stopping the sandbox");
      // Nothing of the sandbox survives: no process runs from the work dir, which is gone.
      await until(() => !execFileSync("ps", ["-eo", "args"], { encoding: "utf8" }).includes(tmp), 5_000);
      expect(execFileSync("ps", ["-eo", "args"], { encoding: "utf8" })).not.toContain(tmp);
      expect(existsSync(join(tmp, workDirs[0]!))).toBe(false);
    } finally {
      await running.stop();
    }
  }, 60_000);

  it("without a bridge in the environment says what to run", async () => {
    const run = await runSvidBridge(["demo"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error usage: SVID_BRIDGE_URL is not set: start `svid-bridge dev`/m);
  }, 30_000);

  it("refuses long-term access keys: the function's local API is guarded by a session token", async () => {
    const run = await runSvidBridge(["demo"], {
      SVID_BRIDGE_URL: "http://127.0.0.1:9",
      SVID_BRIDGE_ISSUER: "http://127.0.0.1:9",
      SVID_BRIDGE_TRUST_DOMAIN: "example.org",
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "AKIAEXAMPLEEXAMPLE01",
      AWS_SECRET_ACCESS_KEY: "secret",
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error usage: the function's credentials need a session token/m);
  }, 30_000);

  it("a layer or function that is not there is a usage error naming the flag", async () => {
    const layer = await runSvidBridge(["demo", "--layer", dir], SOME_BRIDGE);
    expect(layer.code).toBe(1);
    expect(layer.stderr).toMatch(
      /^error usage: --layer .* is not a built layer tree \(no extensions\/svid-bridge\)/m,
    );
    const fn = await runSvidBridge(["demo", "--function", join(dir, "absent.ts")], SOME_BRIDGE);
    expect(fn.code).toBe(1);
    expect(fn.stderr).toMatch(/^error usage: --function .*absent\.ts: no such file/m);
  }, 30_000);

  it("a missing event file names the file", async () => {
    const run = await runSvidBridge(["demo", "--event", join(dir, "absent.json")], SOME_BRIDGE);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error usage: cannot read the event file .*absent\.json/m);
  }, 30_000);
});
