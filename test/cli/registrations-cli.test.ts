import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateTableCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { registrationTableDefinition } from "../../lib/aws/dynamodb-registration-store.js";
import {
  DYNAMODB_TEST_CREDENTIALS,
  type RunningDynamoDb,
  startDynalite,
} from "../../lib/local/dynamodb-server.js";
import { runCli } from "./run-cli.js";

describe("svid-bridge registration commands, as a process against dynalite", () => {
  let db: RunningDynamoDb;
  let env: Record<string, string>;
  let dir: string;
  const cli = (args: string[], extra: Record<string, string> = {}, stdin?: string) =>
    runCli([...args, "--endpoint-url", db.endpoint], { ...env, ...extra }, stdin);

  beforeAll(async () => {
    db = await startDynalite();
    dir = mkdtempSync(join(tmpdir(), "svid-bridge-cli-"));
    for (const t of ["cli-main", "cli-copy", "cli-pages"])
      await db.client.send(new CreateTableCommand(registrationTableDefinition(t)));
    env = {
      SVID_BRIDGE_TABLE: "cli-main",
      SVID_BRIDGE_TRUST_DOMAIN: "example.org",
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: DYNAMODB_TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: DYNAMODB_TEST_CREDENTIALS.secretAccessKey,
    };
  });
  afterAll(async () => {
    await db.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("registers an entry (table by default, JSON on demand) and refuses the same id again with exit 3", async () => {
    const made = await cli([
      "register",
      "--id",
      "orders",
      "--spiffe-id",
      "spiffe://example.org/aws/{account}/{session}",
      "--account",
      "111122223333",
      "--role",
      "app",
      "--session-name",
      "orders-*",
      "--kind",
      "jwt",
      "--audience",
      "sts.amazonaws.com",
      "--jwt-ttl",
      "600",
    ]);
    expect(made.stderr).toBe("");
    expect(made.code).toBe(0);
    expect(made.stdout).toMatch(/^id:\s+orders$/m);
    expect(made.stdout).toMatch(/^version:\s+1$/m);

    const shown = await cli(["show", "orders", "--json"]);
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({
      id: "orders",
      selectors: {
        account: "111122223333",
        roleName: "app",
        sessionName: "orders-*",
        principalType: "assumed-role",
      },
      kinds: ["jwt"],
      audiences: ["sts.amazonaws.com"],
      jwtTtlSeconds: 600,
      version: 1,
    });

    const again = await cli([
      "register",
      "--id",
      "orders",
      "--spiffe-id",
      "spiffe://example.org/x",
      "--account",
      "111122223333",
      "--role",
      "app",
    ]);
    expect(again.code).toBe(3);
    expect(again.stderr).toMatch(/^error registration_exists: /);
  });

  it("refuses a bad SPIFFE ID with exit 2, naming the rule, and writes nothing", async () => {
    const base = ["register", "--id", "bad", "--account", "111122223333", "--role", "app"];
    const slash = await cli([...base, "--spiffe-id", "spiffe://example.org/a/"]);
    expect(slash.code).toBe(2);
    expect(slash.stderr).toBe(
      "error registration_invalid: spiffeId: invalid SPIFFE ID \"spiffe://example.org/a/\": trailing '/' is not allowed\n",
    );
    const reserved = await cli([...base, "--spiffe-id", "spiffe://example.org", "--json"]);
    expect(reserved.code).toBe(2);
    expect(reserved.stderr).toMatch(/reserved/);
    expect((await cli(["show", "bad"])).code).toBe(3);
  });

  it("answers usage errors with exit 1: unknown flag, missing selector, no table, bad number", async () => {
    const unknown = await cli(["list", "--bogus"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error usage: unknown option '--bogus'/);
    const missing = await cli([
      "register",
      "--spiffe-id",
      "spiffe://example.org/x",
      "--account",
      "111122223333",
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(
      "error usage: required option '--role <role-name>' not specified (see --help)\n",
    );
    const noTable = await cli(["list"], { SVID_BRIDGE_TABLE: "" });
    expect(noTable.code).toBe(1);
    expect(noTable.stderr).toMatch(/SVID_BRIDGE_TABLE/);
    const badTtl = await cli(["update", "orders", "--jwt-ttl", "1e3"]);
    expect(badTtl.code).toBe(1);
  });

  it("updates under the version read, and refuses a stale --expect-version with exit 3", async () => {
    await cli([
      "register",
      "--id",
      "upd",
      "--spiffe-id",
      "spiffe://example.org/upd",
      "--account",
      "111122223333",
      "--role",
      "r",
    ]);
    const ok = await cli([
      "update",
      "upd",
      "--disable",
      "--dns-name",
      "Upd.Example.Org",
      "--expect-version",
      "1",
      "--json",
    ]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({
      version: 2,
      enabled: false,
      dnsNames: ["upd.example.org"],
    });
    const stale = await cli(["update", "upd", "--enable", "--expect-version", "1"]);
    expect(stale.code).toBe(3);
    expect(stale.stderr).toMatch(/^error version_conflict: registration upd is at version 2/);
    const invalid = await cli(["update", "upd", "--x509-ttl", "99999999"]);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/^error registration_invalid: x509TtlSeconds/);
  });

  it("deletes, then says not found with exit 3", async () => {
    await cli([
      "register",
      "--id",
      "gone",
      "--spiffe-id",
      "spiffe://example.org/gone",
      "--account",
      "111122223333",
      "--role",
      "r",
    ]);
    const del = await cli(["delete", "gone"]);
    expect(del.code).toBe(0);
    expect(del.stdout).toBe("deleted gone (version 1)\n");
    const again = await cli(["delete", "gone", "--json"]);
    expect(again.code).toBe(3);
    // --json: the error is JSON too.
    expect(JSON.parse(again.stderr)).toMatchObject({ error: "registration_not_found", exitCode: 3 });
  });

  it("lists a page at a time, printing the next token, and --all follows every page", async () => {
    const pages = { SVID_BRIDGE_TABLE: "cli-pages" };
    for (const id of ["p1", "p2", "p3"])
      await cli(
        [
          "register",
          "--id",
          id,
          "--spiffe-id",
          `spiffe://example.org/${id}`,
          "--account",
          "222233334444",
          "--role",
          "r",
        ],
        pages,
      );
    const first = await cli(["list", "--account", "222233334444", "--limit", "2"], pages);
    expect(first.code).toBe(0);
    expect(first.stdout.split("\n")[0]).toMatch(
      /^ID\s+SPIFFE ID\s+ACCOUNT\s+ROLE\s+SESSION\s+KINDS\s+ENABLED\s+VERSION$/,
    );
    expect(first.stdout.trim().split("\n")).toHaveLength(3);
    const token = /--next-token (\S+)/.exec(first.stderr)?.[1];
    expect(token).toBeDefined();
    const second = await cli(
      ["list", "--account", "222233334444", "--limit", "2", "--next-token", token!, "--json"],
      pages,
    );
    const ids = JSON.parse(second.stdout).items.map((e: { id: string }) => e.id);
    expect(ids).toEqual(["p3"]);
    const all = await cli(["list", "--all", "--limit", "1", "--json"], pages);
    expect(
      JSON.parse(all.stdout)
        .items.map((e: { id: string }) => e.id)
        .sort(),
    ).toEqual(["p1", "p2", "p3"]);
    const badToken = await cli(["list", "--next-token", "nonsense"], pages);
    expect(badToken.code).toBe(2);
    expect(badToken.stderr).toMatch(/^error invalid_request: invalid page token/);
  });

  it("exports YAML and imports it into another table: dry run, create, then unchanged", async () => {
    const file = join(dir, "registrations.yaml");
    const exported = await cli(["export", "--format", "yaml", "--out", file]);
    expect(exported.code).toBe(0);
    const doc = parse(readFileSync(file, "utf8"));
    expect(doc.apiVersion).toBe("svid-bridge/v1");
    expect(doc.entries.map((e: { id: string }) => e.id)).toContain("orders");
    expect(doc.entries[0].version).toBeUndefined();

    const copy = { SVID_BRIDGE_TABLE: "cli-copy" };
    const dry = await cli(["import", file, "--dry-run", "--json"], copy);
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout).steps.every((s: { action: string }) => s.action === "create")).toBe(true);
    expect(JSON.parse((await cli(["list", "--json"], copy)).stdout).items).toEqual([]);

    const applied = await cli(["import", file], copy);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toMatch(/^orders\s+create\s+version 1$/m);
    const reapplied = await cli(["import", "-", "--json"], copy, readFileSync(file, "utf8"));
    expect(reapplied.code).toBe(0);
    expect(JSON.parse(reapplied.stdout).steps.map((s: { action: string }) => s.action)).not.toContain(
      "create",
    );
    expect(JSON.parse(reapplied.stdout).steps.map((s: { action: string }) => s.action)).toContain(
      "unchanged",
    );
  });

  it("refuses a whole import when one entry is invalid, writing nothing (exit 2)", async () => {
    const doc = JSON.stringify({
      apiVersion: "svid-bridge/v1",
      kind: "RegistrationList",
      entries: [
        {
          id: "fine",
          spiffeId: "spiffe://example.org/fine",
          selectors: { account: "111122223333", roleName: "r" },
        },
        { id: "broken", spiffeId: "spiffe://example.org/b", selectors: { account: "1234", roleName: "r" } },
      ],
    });
    const out = await cli(["import", "-"], { SVID_BRIDGE_TABLE: "cli-copy" }, doc);
    expect(out.code).toBe(2);
    expect(out.stderr).toBe(
      "error registration_invalid: entries[1]: selectors.account: must be a 12-digit AWS account ID\n",
    );
    expect((await cli(["show", "fine"], { SVID_BRIDGE_TABLE: "cli-copy" })).code).toBe(3);
  });

  it("reports an unreachable or missing DynamoDB table as an AWS error, exit 4", async () => {
    const missing = await cli(["list"], { SVID_BRIDGE_TABLE: "no-such-table" });
    expect(missing.code).toBe(4);
    expect(missing.stderr).toMatch(
      /^error store_unavailable: DynamoDB Scan failed: ResourceNotFoundException/,
    );
  });

  it("prints help with examples and exits 0", async () => {
    const help = await runCli(["import", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Examples:\n\s+\$ svid-bridge import registrations.yaml --dry-run/);
    const top = await runCli([]);
    expect(top.code).toBe(1);
    expect(top.stdout).toMatch(
      /Exit codes: 0 ok, 1 usage, 2 validation, 3 conflict or not found, 4 AWS error/,
    );
  });
});
