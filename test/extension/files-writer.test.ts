import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { readFile, realpath } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DATA_LINK, FilesWriter } from "../../layers/extension/src/files-writer.js";

const x509 = {
  spiffeId: "spiffe://example.org/fn",
  certificateChainPem: "-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n",
  privateKeyPem: "-----BEGIN PRIVATE KEY-----\nK\n-----END PRIVATE KEY-----\n",
  bundlePem: "-----BEGIN CERTIFICATE-----\nR\n-----END CERTIFICATE-----\n",
  expiresAt: 1,
};
const generation = (n: number) => ({
  ...x509,
  certificateChainPem: `-----BEGIN CERTIFICATE-----\nC${n}\n-----END CERTIFICATE-----\n`,
  privateKeyPem: `-----BEGIN PRIVATE KEY-----\nK${n}\n-----END PRIVATE KEY-----\n`,
});
const generationsIn = (dir: string) => readdirSync(dir).filter((n) => n.startsWith("..") && n !== DATA_LINK);
const freshDir = () => join(mkdtempSync(join(tmpdir(), "svid-fw-")), "out");

/** Every file under dir (following nothing) whose content holds a private key. */
function keyMaterialUnder(dir: string): string[] {
  const found: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const path = join(e.parentPath, e.name);
    if (readFileSync(path, "utf8").includes("PRIVATE KEY")) found.push(path);
  }
  return found;
}

describe("FilesWriter", () => {
  it("writes the PEM files with the key at 0600, leaves no temp files, and removes key and tokens", async () => {
    const dir = freshDir();
    const tokenFile = join(dir, "..", "web-identity-token");
    const w = new FilesWriter({ dir, tokenFiles: [{ path: tokenFile, audience: "sts.amazonaws.com" }] });
    await w.x509Changed(x509);
    await w.x509Changed({ ...x509, privateKeyPem: x509.privateKeyPem.replace("K", "K2") });
    expect(readFileSync(join(dir, "svid_key.pem"), "utf8")).toContain("K2");
    expect(statSync(join(dir, "svid_key.pem")).mode & 0o777).toBe(0o600);
    expect(
      readdirSync(dir)
        .filter((n) => !n.startsWith(".."))
        .sort(),
    ).toEqual(["bundle.pem", "svid.pem", "svid_key.pem"]);
    expect(readdirSync(dir).some((n) => n.endsWith(".tmp"))).toBe(false);
    await w.jwtChanged({
      spiffeId: x509.spiffeId,
      token: "other.aud.token",
      audience: "other",
      expiresAt: 1,
    });
    await w.jwtChanged({
      spiffeId: x509.spiffeId,
      token: "a.b.c",
      audience: "sts.amazonaws.com",
      expiresAt: 1,
    });
    expect(readFileSync(tokenFile, "utf8")).toBe("a.b.c");
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    await w.remove();
    expect(readdirSync(dir)).toEqual(["bundle.pem"]);
    expect(readFileSync(join(dir, "bundle.pem"), "utf8")).toBe(x509.bundlePem);
    expect(existsSync(tokenFile)).toBe(false);
  });

  it("fault 4: a reader racing 200 rotations never sees a key and certificate from different generations", async () => {
    const dir = freshDir();
    const w = new FilesWriter({ dir, tokenFiles: [] });
    await w.x509Changed(generation(0));
    let done = false;
    let reads = 0;
    const mismatches: string[] = [];
    const reader = (async () => {
      while (!done) {
        // One resolution of ..data, then both files from that generation (as a K8s reader does).
        const current = await realpath(join(dir, DATA_LINK));
        const [cert, key] = await Promise.all([
          readFile(join(current, "svid.pem"), "utf8"),
          readFile(join(current, "svid_key.pem"), "utf8"),
        ]);
        reads++;
        const c = /C(\d+)/.exec(cert)?.[1];
        const k = /K(\d+)/.exec(key)?.[1];
        if (c !== k) mismatches.push(`cert ${c} key ${k}`);
      }
    })();
    for (let n = 1; n <= 200; n++) await w.x509Changed(generation(n));
    done = true;
    await reader;
    expect(reads).toBeGreaterThan(0);
    expect(mismatches).toEqual([]);
    // The stable names end on the last generation, and only the last two generations remain.
    expect(readFileSync(join(dir, "svid.pem"), "utf8")).toContain("C200");
    expect(readFileSync(join(dir, "svid_key.pem"), "utf8")).toContain("K200");
    expect(generationsIn(dir)).toHaveLength(2);
  });

  it("fault 4: a generation that fails to write is never swapped in; the old pair stays whole", async () => {
    const dir = freshDir();
    const w = new FilesWriter({ dir, tokenFiles: [] });
    await w.x509Changed(generation(1));
    const before = realpathSync(join(dir, DATA_LINK));
    // A certificate that cannot be written (not a string) fails the generation mid-way.
    await expect(
      w.x509Changed({ ...generation(2), certificateChainPem: undefined as never }),
    ).rejects.toThrow();
    expect(realpathSync(join(dir, DATA_LINK))).toBe(before);
    expect(readFileSync(join(dir, "svid.pem"), "utf8")).toContain("C1");
    expect(readFileSync(join(dir, "svid_key.pem"), "utf8")).toContain("K1");
    expect(generationsIn(dir)).toHaveLength(1);
  });

  it("fault 4: a refresh that finishes after SHUTDOWN writes no key again", async () => {
    const dir = freshDir();
    const tokenFile = join(dir, "..", "token");
    const w = new FilesWriter({ dir, tokenFiles: [{ path: tokenFile, audience: "a" }] });
    await w.x509Changed(generation(1));
    const racing = w.x509Changed(generation(2)); // in flight when SHUTDOWN comes
    await w.remove();
    await racing;
    await w.x509Changed(generation(3)); // the refresh that ends after SHUTDOWN
    await w.jwtChanged({ spiffeId: x509.spiffeId, token: "a.b.c", audience: "a", expiresAt: 1 });
    expect(keyMaterialUnder(dir)).toEqual([]);
    expect(readdirSync(dir)).toEqual(["bundle.pem"]);
    expect(existsSync(tokenFile)).toBe(false);
  });

  it("fault 4: replaces plain files an older release wrote, and shutdown removes every key", async () => {
    const dir = freshDir();
    const w = new FilesWriter({ dir, tokenFiles: [] });
    await w.x509Changed(generation(1)); // makes the directory
    await w.remove();
    writeFileSync(join(dir, "svid_key.pem"), x509.privateKeyPem, { mode: 0o600 });
    writeFileSync(join(dir, "svid.pem"), x509.certificateChainPem);
    const next = new FilesWriter({ dir, tokenFiles: [] }); // the next start, as a new release
    for (let n = 2; n <= 4; n++) await next.x509Changed(generation(n));
    expect(readFileSync(join(dir, "svid_key.pem"), "utf8")).toContain("K4");
    expect(keyMaterialUnder(dir).length).toBeGreaterThan(0);
    await next.remove();
    expect(keyMaterialUnder(dir)).toEqual([]);
    expect(readdirSync(dir)).toEqual(["bundle.pem"]);
  });
});

describe("FilesWriter token files (item 13)", () => {
  it("writes each token file with the JWT-SVID of its own audience only", async () => {
    const dir = mkdtempSync(join(tmpdir(), "svid-fw-aud-"));
    const aws = join(dir, "aws-token");
    const azure = join(dir, "azure-token");
    const w = new FilesWriter({
      tokenFiles: [
        { path: aws, audience: "sts.amazonaws.com" },
        { path: azure, audience: "api://AzureADTokenExchange" },
      ],
    });
    const jwt = (audience: string, token: string) => ({
      spiffeId: x509.spiffeId,
      token,
      audience,
      expiresAt: 1,
    });
    await w.jwtChanged(jwt("sts.amazonaws.com", "for.aws.sts"));
    await w.jwtChanged(jwt("api://AzureADTokenExchange", "for.entra.id"));
    expect(readFileSync(aws, "utf8")).toBe("for.aws.sts");
    expect(readFileSync(azure, "utf8")).toBe("for.entra.id");
  });
});
