/**
 * `svid-bridge gcp-config`: the configuration it prints, the audiences it refuses before
 * GCP would, and the 0600 file it writes even over a wider existing one. In process
 * through main(); google-auth-library itself reads the result.
 */
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { ExternalAccountClient } from "google-auth-library";
import { describe, expect, it } from "vitest";
import { main } from "../../lib/cli/main.js";
import type { CliIo } from "../../lib/cli/output.js";

const PROVIDER =
  "//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/svid-bridge/providers/bridge";

async function run(args: string[], env: Record<string, string> = { AWS_SESSION_TOKEN: "session-token" }) {
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    stdout: new PassThrough().on("data", (d: Buffer) => {
      stdout += d.toString();
    }),
    stderr: new PassThrough().on("data", (d: Buffer) => {
      stderr += d.toString();
    }),
    env,
    readInput: (p) => readFile(p, "utf8"),
  };
  const code = await main(["node", "svid-bridge", "gcp-config", ...args], io);
  return { code, stdout, stderr };
}

describe("svid-bridge gcp-config", () => {
  it("prints an external_account configuration google-auth-library accepts", async () => {
    const r = await run([
      "--audience",
      PROVIDER,
      "--service-account",
      "reports@my-project.iam.gserviceaccount.com",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const config = JSON.parse(r.stdout);
    expect(config).toMatchObject({
      type: "external_account",
      audience: PROVIDER,
      subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
      token_url: "https://sts.googleapis.com/v1/token",
      service_account_impersonation_url:
        "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/reports%40my-project.iam.gserviceaccount.com:generateAccessToken",
      credential_source: {
        headers: { "X-Svid-Bridge-Token": "session-token" },
        format: { type: "json", subject_token_field_name: "token" },
      },
    });
    const url = new URL(config.credential_source.url);
    expect(url.origin + url.pathname).toBe("http://127.0.0.1:2775/v1/jwt-svid");
    expect(url.searchParams.get("audience")).toBe(PROVIDER);
    expect(ExternalAccountClient.fromJSON(config)).not.toBeNull();
  });

  it("--token-audience sets only the JWT-SVID's aud; GCP STS's audience stays the provider", async () => {
    const r = await run(["--audience", PROVIDER, "--token-audience", "https://gcp.example.org"]);
    expect(r.code, r.stderr).toBe(0);
    const config = JSON.parse(r.stdout);
    expect(config.audience).toBe(PROVIDER);
    expect(new URL(config.credential_source.url).searchParams.get("audience")).toBe(
      "https://gcp.example.org",
    );
  });

  it("refuses what GCP would refuse later, with exit 2", async () => {
    for (const audience of [
      "not an audience",
      "https://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/x/extra",
      "//iam.googleapis.com/projects/my-project/locations/global/workloadIdentityPools/p/providers/x",
    ]) {
      const r = await run(["--audience", audience]);
      expect(r.code, audience).toBe(2);
      expect(r.stderr).toMatch(
        /^error invalid_request: --audience must be a workload identity pool provider/,
      );
    }
    const sa = await run(["--audience", PROVIDER, "--service-account", "reports"]);
    expect(sa.code).toBe(2);
    expect(sa.stderr).toMatch(/^error invalid_request: --service-account must be/);
    expect((await run(["--audience", PROVIDER], {})).stderr).toMatch(
      /^error usage: AWS_SESSION_TOKEN \(or, under SnapStart, AWS_CONTAINER_AUTHORIZATION_TOKEN\) is not set/,
    );
  });

  it("item 17: under SnapStart (no AWS_SESSION_TOKEN) the guard is AWS_CONTAINER_AUTHORIZATION_TOKEN, as the extension's", async () => {
    const r = await run(["--audience", PROVIDER], { AWS_CONTAINER_AUTHORIZATION_TOKEN: "container-token" });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).credential_source.headers).toEqual({
      "X-Svid-Bridge-Token": "container-token",
    });
  });

  it("--out writes a 0600 file, even over an existing world-readable one", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "svid-gcp-")), "gcp.json");
    writeFileSync(out, "old");
    chmodSync(out, 0o644);
    const r = await run(["--audience", PROVIDER, "--out", out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("");
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(out, "utf8")).audience).toBe(PROVIDER);
  });
});
