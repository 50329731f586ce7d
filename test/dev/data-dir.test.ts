/**
 * `svid-bridge dev --data-dir`: what a restart keeps, as processes (no import from lib/).
 * The same dev credentials, registrations (one added between runs too), JWT keys, root
 * CA; key files owner-only; and a directory of another trust domain refused.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type RunningDev, runSvidBridge, startDev } from "./dev-process.js";

const dir = mkdtempSync(join(tmpdir(), "svid-bridge-data-dir-"));
const dataDir = join(dir, "data");
let dev: RunningDev | undefined;

afterAll(async () => {
  await dev?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** What a restart must keep, read over HTTP and the CLI. */
async function snapshot(running: RunningDev) {
  const issuer = running.env.SVID_BRIDGE_ISSUER!;
  const jwks = (await (await fetch(`${issuer}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
  const bundle = (await (await fetch(`${issuer}/bundle.json`)).json()) as {
    keys: { use: string; x5c?: string[] }[];
  };
  const list = await runSvidBridge(["list", "--json"], running.env);
  expect(list.code, list.stderr).toBe(0);
  return {
    credentials: [running.env.AWS_ACCESS_KEY_ID, running.env.AWS_SECRET_ACCESS_KEY],
    kids: jwks.keys.map((k) => k.kid).sort(),
    roots: bundle.keys.filter((k) => k.use === "x509-svid").map((k) => k.x5c![0]),
    entries: (JSON.parse(list.stdout) as { items: { id: string }[] }).items.map((e) => e.id).sort(),
  };
}

describe("svid-bridge dev --data-dir", () => {
  it("keeps credentials, registrations, JWT keys and the root CA across a restart", async () => {
    // The issuer is http://127.0.0.1:PORT: the same port keeps the same issuer, so old tokens verify.
    const port = await freePort();
    const args = ["--port", String(port), "--env-out", join(dir, "env"), "--data-dir", dataDir];
    dev = await startDev(args);
    const registered = await runSvidBridge(
      [
        "register",
        "--id",
        "kept",
        "--spiffe-id",
        "spiffe://example.org/kept",
        "--account",
        "111122223333",
        "--role",
        "kept-role",
      ],
      dev.env,
    );
    expect(registered.code, registered.stderr).toBe(0);
    const token = await runSvidBridge(["token", "--audience", "restart"], dev.env);
    expect(token.code, token.stderr).toBe(0);
    const before = await snapshot(dev);
    expect(before.entries).toEqual(["dev-demo", "kept"]);
    expect(before.kids.length).toBeGreaterThan(0);
    expect(before.roots).toHaveLength(1);
    expect(await dev.stop()).toBe(0);

    dev = await startDev(args);
    const after = await snapshot(dev);
    expect(after).toEqual(before);
    // A token from the first run still verifies against the second run's discovery.
    const verified = await runSvidBridge(["verify", token.stdout.trim(), "--audience", "restart"], dev.env);
    expect(verified.code, verified.stderr).toBe(0);
    expect(dev.stderr()).not.toContain("seeded registration"); // already there: not seeded twice
    expect(await dev.stop()).toBe(0);
    dev = undefined;

    // Dev private keys are PKCS#8 files readable by their owner only.
    const keyFiles = readdirSync(join(dataDir, "keys"));
    expect(keyFiles.length).toBeGreaterThan(0);
    for (const f of keyFiles) expect(statSync(join(dataDir, "keys", f)).mode & 0o077, f).toBe(0);
    expect(statSync(join(dataDir, "dev-principal.json")).mode & 0o077).toBe(0);
  }, 120_000);

  it("one dev per data dir: a second is refused while the first runs; a stale lock is taken over", async () => {
    const args = ["--port", "0", "--env-out", join(dir, "env3"), "--data-dir", dataDir];
    dev = await startDev(args);
    // Its own env file (one dev per env file is refused first: test/dev/env-file.test.ts).
    const second = await runSvidBridge(
      ["dev", "--port", "0", "--env-out", join(dir, "env3b"), "--data-dir", dataDir],
      {},
    );
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(
      new RegExp(
        `^error usage: --data-dir ${dataDir} is in use by another svid-bridge dev \\(pid ${dev.child.pid}\\)`,
        "m",
      ),
    );
    expect(await dev.stop()).toBe(0);
    dev = undefined;
    expect(existsSync(join(dataDir, "dev.lock"))).toBe(false);
    // A crashed dev leaves its lock behind; its pid is gone, so the next start takes it.
    const gone = spawnSync(process.execPath, ["-e", ""]).pid;
    writeFileSync(join(dataDir, "dev.lock"), `${gone}\n`);
    dev = await startDev(args);
    const code = await dev.stop();
    expect(code, `${dev.stderr()} signal=${dev.child.signalCode}`).toBe(0);
    dev = undefined;
  }, 90_000);

  it("refuses a data dir of another trust domain, naming the fix", async () => {
    const run = await runSvidBridge(
      [
        "dev",
        "--port",
        "0",
        "--env-out",
        join(dir, "env2"),
        "--data-dir",
        dataDir,
        "--trust-domain",
        "other.example",
      ],
      {},
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^error usage: --data-dir holds the trust domain example\.org, not other\.example/m,
    );
  }, 60_000);
});
