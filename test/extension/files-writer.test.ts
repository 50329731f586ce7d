import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FilesWriter } from "../../layers/extension/src/files-writer.js";

const x509 = {
  spiffeId: "spiffe://example.org/fn",
  certificateChainPem: "-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n",
  privateKeyPem: "-----BEGIN PRIVATE KEY-----\nK\n-----END PRIVATE KEY-----\n",
  bundlePem: "-----BEGIN CERTIFICATE-----\nR\n-----END CERTIFICATE-----\n",
  expiresAt: 1,
};

describe("FilesWriter", () => {
  it("writes the PEM files with the key at 0600, leaves no temp files, and removes key and tokens", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "svid-fw-")), "out");
    const tokenFile = join(dir, "..", "web-identity-token");
    const w = new FilesWriter({ dir, tokenFiles: [{ path: tokenFile, audience: "sts.amazonaws.com" }] });
    await w.x509Changed(x509);
    await w.x509Changed({ ...x509, privateKeyPem: x509.privateKeyPem.replace("K", "K2") });
    expect(readFileSync(join(dir, "svid_key.pem"), "utf8")).toContain("K2");
    expect(statSync(join(dir, "svid_key.pem")).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).sort()).toEqual(["bundle.pem", "svid.pem", "svid_key.pem"]);
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
