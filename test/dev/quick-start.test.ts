/**
 * README's Quick start, run as processes exactly as written there (only the port, the
 * env file and the output directory are moved to temporary places so a developer's own
 * `npm run dev` is not disturbed): dev in the background, then in a shell that sources
 * the env file: token, x509 + openssl verify, verify.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasOpenssl } from "../support/x509-fixtures.js";
import { CLEAN_ENV, ROOT, type RunningDev, startDev } from "./dev-process.js";

const dir = mkdtempSync(join(tmpdir(), "svid-bridge-quick-start-"));
const envFile = join(dir, "env");
let dev: RunningDev;

function shell(script: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      "bash",
      ["-c", script],
      { cwd: ROOT, env: CLEAN_ENV, timeout: 60_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === "number" ? error.code : -1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  dev = await startDev(["--port", "0", "--env-out", envFile]);
}, 90_000);

afterAll(async () => {
  await dev?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("README quick start", () => {
  it("dev prints eval-able exports and writes them to a 0600 env file", () => {
    for (const name of [
      "AWS_ACCESS_KEY_ID",
      "AWS_SECRET_ACCESS_KEY",
      "AWS_SESSION_TOKEN",
      "AWS_REGION",
      "SVID_BRIDGE_URL",
      "SVID_BRIDGE_ISSUER",
      "SVID_BRIDGE_SERVER_ID",
      "SVID_BRIDGE_TRUST_DOMAIN",
      "SVID_BRIDGE_TABLE",
    ])
      expect(dev.env[name], name).toBeTruthy();
    expect(readFileSync(envFile, "utf8")).toBe(dev.stdout);
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
  });

  it("token, verify, demo, x509 with openssl verify, list and rotate work after `source` of the env file", async () => {
    const out = join(dir, "svid");
    const run = await shell(`
      set -e
      source '${envFile}'
      TOKEN=$(npx svid-bridge token --audience demo)
      npx svid-bridge verify "$TOKEN" --audience demo
      npx svid-bridge demo
      npx svid-bridge x509 --out '${out}'
      ${hasOpenssl() ? `openssl verify -CAfile '${out}/bundle.pem' -untrusted '${out}/svid.pem' '${out}/svid.pem'` : ""}
      npx svid-bridge list
      npx svid-bridge rotate --now && npx svid-bridge keys
    `);
    expect(run.stderr).not.toMatch(/^error /m);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("spiffe_id: spiffe://example.org/aws/111122223333/svid-bridge-dev");
    expect(run.stdout).toContain("dev-demo");
    // demo: the sample function with the layer read its SVIDs; both verified from outside.
    expect(run.stdout).toMatch(/^jwt_svid: .*verified through OIDC discovery$/m);
    expect(run.stdout).toMatch(/^x509_svid: .*verified against the SPIFFE bundle$/m);
    expect(run.stdout).toMatch(/^shutdown: +extension exited 0 /m);
    expect(run.stderr).toMatch(/function +\| .*read my SVIDs/);
    expect(run.stdout).toMatch(/^created /m);
    expect(run.stdout).toMatch(/ prepared /);
    if (hasOpenssl()) expect(run.stdout).toContain(`${out}/svid.pem: OK`);
    expect(statSync(join(out, "svid_key.pem")).mode & 0o777).toBe(0o600);
    expect(
      readFileSync(join(out, "svid.pem"), "utf8").match(/BEGIN CERTIFICATE/g)?.length,
    ).toBeGreaterThanOrEqual(2);
  }, 90_000);

  it("Ctrl-C stops everything cleanly and removes the env file", async () => {
    expect(await dev.stop()).toBe(0);
    expect(() => statSync(envFile)).toThrow();
    expect(dev.stderr()).toContain("stopped");
  }, 30_000);
});
