/**
 * `svid-bridge invoke` on every sample event in events/: each gives the answer its name
 * promises. A new event file without a row here fails the test, so none goes untried.
 * In process through the CLI's main() (each invoke starts its own dev parts).
 */
import { readdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { main } from "../../lib/cli/main.js";
import type { CliIo } from "../../lib/cli/output.js";

const EVENTS = fileURLToPath(new URL("../../events/", import.meta.url));

/** file → [lambda, status, error code or a field the body must have]. */
const EXPECTED: Record<string, [string, number, string]> = {
  "discovery-openid-configuration.json": ["discovery", 200, "jwks_uri"],
  "discovery-jwks.json": ["discovery", 200, "keys"],
  "discovery-jwks-if-none-match.json": ["discovery", 200, "keys"],
  "discovery-bundle.json": ["discovery", 200, "spiffe_sequence"],
  "discovery-head-bundle.json": ["discovery", 200, ""],
  "discovery-not-found.json": ["discovery", 404, "not_found"],
  "discovery-post.json": ["discovery", 405, "method_not_allowed"],
  "exchange-jwt-get.json": ["exchange", 405, "method_not_allowed"],
  "exchange-jwt-no-proof.json": ["exchange", 400, "proof_malformed"],
  "exchange-jwt-foreign-proof.json": ["exchange", 401, "proof_server_id_mismatch"],
  "exchange-jwt-text-body.json": ["exchange", 415, "unsupported_media_type"],
  "exchange-unknown-route.json": ["exchange", 404, "not_found"],
  // The proof rules run before the CSR is read (issue 14, fault 1): a foreign proof is refused first.
  "exchange-x509-foreign-proof-bad-csr.json": ["exchange", 401, "proof_server_id_mismatch"],
};
/** Not an HTTP event: the rotation's schedule, and the demo function's payload. */
const OTHER = ["rotation-scheduled.json", "demo-function.json"];

async function run(args: string[]) {
  let stdout = "";
  let stderr = "";
  const out = new PassThrough().on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  const err = new PassThrough().on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const io: CliIo = { stdout: out, stderr: err, env: {}, readInput: (p) => readFile(p, "utf8") };
  const code = await main(["node", "svid-bridge", ...args], io);
  return { code, stdout, stderr };
}

describe("svid-bridge invoke on the sample events", () => {
  it("has an expectation for every file in events/", () => {
    const files = readdirSync(EVENTS).filter((f) => f.endsWith(".json"));
    expect(files.filter((f) => !(f in EXPECTED) && !OTHER.includes(f))).toEqual([]);
  });

  for (const [file, [lambda, status, marker]] of Object.entries(EXPECTED))
    it(`${file}: ${lambda} answers ${status}${marker ? ` (${marker})` : ""}`, async () => {
      const r = await run(["invoke", lambda, "--event", `${EVENTS}${file}`]);
      expect(r.code, r.stderr).toBe(0);
      const response = JSON.parse(r.stdout) as { statusCode: number; body?: string };
      expect(response.statusCode).toBe(status);
      if (status >= 400) expect(JSON.parse(response.body!)).toMatchObject({ error: marker });
      else if (marker) expect(JSON.parse(response.body!)).toHaveProperty(marker);
      else expect(response.body ?? "").toBe(""); // HEAD: headers only
    }, 30_000);

  it("rotation-scheduled.json: the rotation reports its sequence and actions", async () => {
    const r = await run(["invoke", "rotation", "--event", `${EVENTS}rotation-scheduled.json`]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ sequence: expect.any(Number), actions: expect.any(Array) });
  }, 30_000);

  it("a missing or non-JSON event file, or an unknown lambda, is a usage error", async () => {
    const missing = await run(["invoke", "exchange", "--event", `${EVENTS}absent.json`]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error usage: cannot read the event file .*absent\.json: ENOENT/m);
    const notJson = await run(["invoke", "exchange", "--event", fileURLToPath(import.meta.url)]);
    expect(notJson.code).toBe(1);
    expect(notJson.stderr).toMatch(/^error usage: the event file .*invoke\.test\.ts is not JSON: .*\n$/);
    expect(notJson.stderr.split("\n")).toHaveLength(2); // one line, whatever the file held
    const unknown = await run(["invoke", "ssh", "--event", `${EVENTS}exchange-jwt-get.json`]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error usage: unknown lambda "ssh"/m);
  }, 30_000);
});
