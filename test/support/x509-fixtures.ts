/**
 * Test material for X.509 work: a local CA whose keys the test can reach (to forge
 * bad leaves), and CSRs made the way a workload makes them (WebCrypto key + PKCS#10).
 */
import { execFileSync } from "node:child_process";
import { webcrypto } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Clock, ManualClock } from "../../lib/clock.js";
import {
  BasicConstraintsExtension,
  type Extension,
  Name,
  Pkcs10CertificateRequestGenerator,
  SubjectAlternativeNameExtension,
  type X509Certificate,
  X509CertificateGenerator,
} from "../../lib/crypto/x509.js";
import { portSigning } from "../../lib/crypto/x509-signing.js";
import { InMemoryKeyManager } from "../../lib/local/in-memory-key-manager.js";
import { type Signer, signerFor } from "../../lib/ports/key-manager.js";
import { SpiffeId, type TrustDomain } from "../../lib/spiffe/spiffe-id.js";
import { buildCaCertificate } from "../../lib/spiffe/x509-svid.js";
import { OPENSSL, requireTool } from "./conformance-tools.js";

export interface TestCa {
  root: X509Certificate;
  intermediate: X509Certificate;
  rootSigner: Signer;
  intermediateSigner: Signer;
  keys: InMemoryKeyManager;
}

export async function makeTestCa(td: TrustDomain, clock: Clock = new ManualClock()): Promise<TestCa> {
  const keys = new InMemoryKeyManager();
  const tdId = SpiffeId.parse(td.id);
  const rk = await keys.createKey("ES256");
  const rootSigner = await signerFor(keys, rk.keyId);
  const root = await buildCaCertificate({
    trustDomainId: tdId,
    subject: "CN=Test Root",
    subjectPublicKey: rk.spki,
    signer: rootSigner,
    ttlSeconds: 86400 * 30,
    clock,
  });
  const ik = await keys.createKey("ES256");
  const intermediateSigner = await signerFor(keys, ik.keyId);
  const intermediate = await buildCaCertificate({
    trustDomainId: tdId,
    subject: "CN=Test Intermediate",
    subjectPublicKey: ik.spki,
    issuer: root,
    signer: rootSigner,
    ttlSeconds: 86400 * 7,
    pathLength: 0,
    clock,
  });
  return { root, intermediate, rootSigner, intermediateSigner, keys };
}

export type WorkloadKeyKind = "ec-p256" | "ec-p384" | "ec-p521" | "rsa-2048" | "rsa-1024" | "ed25519";

export async function makeWorkloadKey(kind: WorkloadKeyKind = "ec-p256"): Promise<webcrypto.CryptoKeyPair> {
  const subtle = webcrypto.subtle;
  switch (kind) {
    case "ec-p256":
    case "ec-p384":
    case "ec-p521":
      return subtle.generateKey({ name: "ECDSA", namedCurve: `P-${kind.slice(4)}` }, true, [
        "sign",
        "verify",
      ]) as Promise<webcrypto.CryptoKeyPair>;
    case "rsa-2048":
    case "rsa-1024":
      return subtle.generateKey(
        {
          name: "RSASSA-PKCS1-v1_5",
          modulusLength: Number(kind.slice(4)),
          publicExponent: new Uint8Array([1, 0, 1]),
          hash: "SHA-256",
        },
        true,
        ["sign", "verify"],
      ) as Promise<webcrypto.CryptoKeyPair>;
    case "ed25519":
      return subtle.generateKey({ name: "Ed25519" }, true, [
        "sign",
        "verify",
      ]) as Promise<webcrypto.CryptoKeyPair>;
  }
}

export async function makeCsr(
  keys: webcrypto.CryptoKeyPair,
  options: { sans?: string[] } = {},
): Promise<string> {
  const alg = keys.privateKey.algorithm as { name: string; namedCurve?: string };
  const signingAlgorithm =
    alg.name === "ECDSA" ? { name: "ECDSA", hash: alg.namedCurve === "P-384" ? "SHA-384" : "SHA-256" } : alg;
  const csr = await Pkcs10CertificateRequestGenerator.create({
    name: "CN=ignored-by-the-bridge",
    keys: keys as never,
    signingAlgorithm: signingAlgorithm as never,
    extensions: options.sans
      ? [new SubjectAlternativeNameExtension(options.sans.map((s) => ({ type: "url", value: s })))]
      : [],
  });
  return csr.toString("pem");
}

export async function spkiOf(keys: webcrypto.CryptoKeyPair): Promise<Uint8Array> {
  return new Uint8Array(await webcrypto.subtle.exportKey("spki", keys.publicKey));
}

/** Signs an arbitrary certificate with a CA's signer: for forging leaves that break a rule. */
export async function forgeCertificate(params: {
  issuer: X509Certificate;
  signer: Signer;
  subjectPublicKey: Uint8Array;
  extensions: Extension[];
  notBefore?: Date;
  notAfter?: Date;
}): Promise<X509Certificate> {
  const s = portSigning(params.signer);
  return X509CertificateGenerator.create(
    {
      serialNumber: "01ab",
      subject: new Name([]),
      issuer: params.issuer.subjectName,
      notBefore: params.notBefore ?? new Date(Date.now() - 60_000),
      notAfter: params.notAfter ?? new Date(Date.now() + 3_600_000),
      publicKey: params.subjectPublicKey.buffer.slice(0) as ArrayBuffer,
      signingKey: s.signingKey,
      signingAlgorithm: s.signingAlgorithm,
      extensions: params.extensions,
    },
    s.crypto,
  );
}

export { BasicConstraintsExtension };

export function hasOpenssl(): boolean {
  return requireTool(OPENSSL);
}

/** `openssl verify -x509_strict` of a leaf against a root with intermediates; returns stdout or throws with stderr. */
export function opensslVerify(root: X509Certificate[], chain: X509Certificate[], attime?: Date): string {
  const dir = mkdtempSync(join(tmpdir(), "svid-openssl-"));
  const pem = (cs: X509Certificate[]) => cs.map((c) => `${c.toString("pem")}\n`).join("");
  writeFileSync(join(dir, "root.pem"), pem(root));
  writeFileSync(join(dir, "leaf.pem"), pem(chain.slice(0, 1)));
  const args = ["verify", "-x509_strict", "-CAfile", join(dir, "root.pem")];
  if (chain.length > 1) {
    writeFileSync(join(dir, "untrusted.pem"), pem(chain.slice(1)));
    args.push("-untrusted", join(dir, "untrusted.pem"));
  }
  if (attime) args.push("-attime", String(Math.floor(attime.getTime() / 1000)));
  args.push(join(dir, "leaf.pem"));
  return execFileSync("openssl", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}
