/**
 * What every command does the same way (lib/cli/conventions.ts, exit-codes.ts, values.ts,
 * out-path.ts): --version, --json on every command and JSON errors with it, required
 * options marked and checked after unknown ones, malformed values and unusable --out
 * paths as usage errors before anything is requested, missing credentials explained.
 * In process through main(), with no AWS credentials anywhere.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commandsWithoutJson } from "../../lib/cli/conventions.js";
import { buildProgram, main } from "../../lib/cli/main.js";
import type { CliIo } from "../../lib/cli/output.js";

const NO_AWS = {
  AWS_CONFIG_FILE: "/dev/null",
  AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
  AWS_EC2_METADATA_DISABLED: "true",
};

function io(env: Record<string, string> = {}) {
  const out = { stdout: "", stderr: "" };
  const value: CliIo = {
    stdout: new PassThrough().on("data", (d: Buffer) => {
      out.stdout += d.toString();
    }),
    stderr: new PassThrough().on("data", (d: Buffer) => {
      out.stderr += d.toString();
    }),
    env: { ...NO_AWS, ...env },
    readInput: (p) => readFile(p, "utf8"),
  };
  return { value, out };
}

async function run(args: string[], env: Record<string, string> = {}) {
  const { value, out } = io(env);
  // The SDK reads credentials from process.env; keep the operator's out of it.
  const saved = { ...process.env };
  for (const k of Object.keys(process.env)) if (k.startsWith("AWS_")) delete process.env[k];
  Object.assign(process.env, NO_AWS);
  try {
    const code = await main(["node", "svid-bridge", ...args], value);
    return { code, ...out };
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

/** An exchange that counts requests: nothing may reach it when the input is bad. */
let requests = 0;
const exchange = createServer((_req, res) => {
  requests++;
  res.writeHead(500).end();
});
let exchangeUrl = "";
beforeAll(async () => {
  await new Promise<void>((done) => exchange.listen(0, "127.0.0.1", done));
  exchangeUrl = `http://127.0.0.1:${(exchange.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((done) => exchange.close(() => done())));

const dir = mkdtempSync(join(tmpdir(), "svid-bridge-cli-conventions-"));
const aFile = join(dir, "a-file");
writeFileSync(aFile, "x");

describe("svid-bridge CLI conventions", () => {
  it("--version prints the package's version", async () => {
    const r = await run(["--version"]);
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${pkg.version}\n`);
  });

  it("every command has --json", () => {
    const { value } = io();
    expect(commandsWithoutJson(buildProgram(value))).toEqual([]);
  });

  it("with --json an error is one JSON object on stderr", async () => {
    const r = await run(["list", "--tabel", "x", "--json"]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stderr)).toEqual({
      error: "usage",
      message: "unknown option '--tabel' (Did you mean --table?) (see --help)",
      exitCode: 1,
    });
  });

  it("marks required options in --help", async () => {
    for (const [command, flag] of [
      ["token", "--audience <aud>"],
      ["x509", "--out <dir>"],
      ["verify", "--audience <aud>"],
      ["register", "--spiffe-id <id>"],
      ["register", "--account <account-id>"],
      ["register", "--role <role-name>"],
    ] as const) {
      const r = await run([command!, "--help"]);
      expect(r.stdout, `${command} ${flag}`).toMatch(
        new RegExp(`${flag.replace(/[<>]/g, ".")}[^\\n]*(\\n {10,}[^\\n]*)*\\(required\\)`),
      );
    }
  });

  it("a mistyped option is an unknown option, not a missing required one", async () => {
    const r = await run(["token", "--audiance", "x"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      "error usage: unknown option '--audiance' (Did you mean --audience?) (see --help)\n",
    );
    const missing = await run(["token"]);
    expect(missing.stderr).toBe(
      "error usage: required option '--audience <aud>' not specified (see --help)\n",
    );
  });

  it.each([
    [
      ["token", "--audience", "a", "--url", "not a url"],
      /option '--url <url>' argument 'not a url' is invalid/,
    ],
    [["token", "--audience", "a", "--url", "ftp://x"], /must be http:\/\/ or https:\/\//],
    [["token", "--audience", "a", "--region", "mars"], /not an AWS Region/],
    [["list", "--endpoint-url", "x"], /option '--endpoint-url <url>'/],
    [["verify", "t", "--audience", "a", "--issuer", "http://example.com"], /--issuer must be https/],
    [["gcp-config", "--audience", "a", "--local-api-url", "x"], /option '--local-api-url <url>'/],
  ])("a malformed value is a usage error: %j", async (args, message) => {
    const r = await run(args);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
  });

  it("a malformed SVID_BRIDGE_URL is a usage error naming it", async () => {
    const r = await run(["token", "--audience", "a", "--server-id", "s", "--region", "us-east-1"], {
      SVID_BRIDGE_URL: "127.0.0.1:8787",
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error usage: SVID_BRIDGE_URL=127.0.0.1:8787 is/);
  });

  it.each([
    ["a file", aFile, /--out .* is a file, not a directory/],
    ["under a file", join(aFile, "svid"), /a-file is not a directory/],
    ["under /proc", "/proc/svid-bridge-test/svid", /cannot write in \/proc/],
  ])("x509 --out %s is a usage error before anything is requested", async (_what, out, message) => {
    const before = requests;
    const r = await run([
      "x509",
      "--out",
      out,
      "--url",
      exchangeUrl,
      "--server-id",
      "s",
      "--region",
      "us-east-1",
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(requests).toBe(before);
  });

  it("export --out into a missing directory is a usage error before the table is read", async () => {
    const r = await run([
      "export",
      "--out",
      join(dir, "no", "such.json"),
      "--table",
      "t",
      "--region",
      "us-east-1",
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/does not exist/);
  });

  it("import of a missing file is a usage error", async () => {
    const r = await run([
      "import",
      join(dir, "missing.yaml"),
      "--table",
      "t",
      "--trust-domain",
      "example.org",
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`error usage: cannot read ${join(dir, "missing.yaml")}: ENOENT\n`);
  });

  it("no AWS credentials: says what to do, exit 1, and nothing is requested", async () => {
    const before = requests;
    const r = await run([
      "token",
      "--audience",
      "a",
      "--url",
      exchangeUrl,
      "--server-id",
      "s",
      "--region",
      "us-east-1",
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error usage: no AWS credentials: .*source \.svid-bridge\/env/);
    expect(requests).toBe(before);
  });

  it("verify names a failed discovery fetch as such", async () => {
    const r = await run(["verify", "t", "--audience", "a", "--issuer", exchangeUrl]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/^error discovery_unavailable: the discovery document at .* answered 500/);
  });

  it("makes a missing --out directory for x509 (0700) before asking", async () => {
    const out = join(dir, "new", "svid");
    await run(["x509", "--out", out, "--url", exchangeUrl, "--server-id", "s", "--region", "us-east-1"]);
    expect(readdirSync(join(dir, "new"))).toEqual(["svid"]);
  });

  describe("register refuses a TTL the exchange would cap", () => {
    const entry = [
      "register",
      "--spiffe-id",
      "spiffe://example.org/x",
      "--account",
      "111122223333",
      "--role",
      "r",
      "--table",
      "t",
      "--trust-domain",
      "example.org",
      "--region",
      "us-east-1",
    ];

    it.each([
      [["--jwt-ttl", "86400"], /jwtTtlSeconds: must be at most 3600 seconds/],
      [["--x509-ttl", "172800"], /x509TtlSeconds: must be at most 86400 seconds/],
    ])("%j: exit 2, before the table is touched", async (ttl, message) => {
      const r = await run([...entry, ...ttl]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
    });

    it("follows SVID_BRIDGE_MAX_JWT_TTL, the exchange's own setting, when it is set", async () => {
      const r = await run([...entry, "--jwt-ttl", "7200"], { SVID_BRIDGE_MAX_JWT_TTL: "7200" });
      // Valid now: it gets as far as DynamoDB, which has no credentials here.
      expect(r.stderr).toMatch(/^error usage: no AWS credentials/);
      const bad = await run([...entry, "--jwt-ttl", "7200"], { SVID_BRIDGE_MAX_JWT_TTL: "2h" });
      expect(bad.stderr).toBe("error usage: SVID_BRIDGE_MAX_JWT_TTL=2h is not a whole number of seconds\n");
    });
  });
});
