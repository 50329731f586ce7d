/**
 * The in-process client's hand-written CSR (lib/crypto/p256-workload-key.ts) read by
 * parties that did not write it: the bridge's own checkCsr (@peculiar/x509: signature,
 * key kind), OpenSSL (`req -verify`), and node:crypto (the key matches the SPKI).
 */
import { spawnSync } from "node:child_process";
import { createPrivateKey, createPublicKey } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createP256WorkloadKey } from "../../lib/crypto/p256-workload-key.js";
import { Pkcs10CertificateRequest } from "../../lib/crypto/x509.js";
import { checkCsr } from "../../lib/spiffe/x509-svid.js";
import { hasOpenssl } from "../support/x509-fixtures.js";

describe("createP256WorkloadKey", () => {
  it("writes a CSR the bridge accepts, bound to the SPKI it reports", async () => {
    const key = createP256WorkloadKey();
    const checked = await checkCsr(key.csrPem);
    expect(Buffer.from(checked.spki)).toEqual(Buffer.from(key.spki));
    const csr = new Pkcs10CertificateRequest(key.csrPem);
    expect(csr.subject).toBe("CN=svid-bridge-workload");
    expect(csr.signatureAlgorithm).toMatchObject({ name: "ECDSA", hash: { name: "SHA-256" } });
    expect(await csr.verify()).toBe(true);
  });

  it("keeps the private key that matches, as PKCS#8, and a new one each time", () => {
    const a = createP256WorkloadKey();
    const b = createP256WorkloadKey();
    expect(a.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const spki = createPublicKey(createPrivateKey(a.privateKeyPem)).export({ format: "der", type: "spki" });
    expect(Buffer.from(a.spki)).toEqual(spki);
    expect(a.privateKeyPem).not.toBe(b.privateKeyPem);
    // PEM lines of 64 characters, as RFC 7468 writes them.
    for (const line of a.csrPem.trim().split("\n").slice(1, -1)) expect(line.length).toBeLessThanOrEqual(64);
  });

  it.runIf(hasOpenssl())("is a well-formed, self-signed PKCS#10 request to OpenSSL", () => {
    const run = spawnSync("openssl", ["req", "-verify", "-noout", "-text"], {
      input: createP256WorkloadKey().csrPem,
      encoding: "utf8",
    });
    const out = run.stdout + run.stderr;
    expect(run.status).toBe(0);
    expect(out).toMatch(/verify OK/);
    expect(out).toContain("Subject: CN = svid-bridge-workload");
    expect(out).toContain("ecdsa-with-SHA256");
    expect(out).toContain("NIST CURVE: P-256");
  });
});
