import { execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../lib/clock.js";
import {
  ExtendedKeyUsage,
  ExtendedKeyUsageExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  SubjectAlternativeNameExtension,
} from "../../lib/crypto/x509.js";
import { BridgeError } from "../../lib/errors.js";
import { InMemoryKeyManager } from "../../lib/local/in-memory-key-manager.js";
import { createLocalCertificateAuthority } from "../../lib/local/local-certificate-authority.js";
import { TrustBundle } from "../../lib/spiffe/bundle.js";
import { SpiffeId, TrustDomain } from "../../lib/spiffe/spiffe-id.js";
import { buildX509Svid, checkCsr, validateX509Svid } from "../../lib/spiffe/x509-svid.js";
import {
  BasicConstraintsExtension,
  forgeCertificate,
  hasOpenssl,
  makeCsr,
  makeTestCa,
  makeWorkloadKey,
  opensslVerify,
  spkiOf,
  type TestCa,
} from "../support/x509-fixtures.js";

const td = TrustDomain.parse("example.org");
const id = SpiffeId.parse("spiffe://example.org/aws/111122223333/fn");

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof BridgeError) return e.code;
    throw e;
  }
  return undefined;
}

describe("CSR checks", () => {
  it.each(["ec-p256", "ec-p384", "rsa-2048"] as const)(
    "accepts a %s CSR and returns its key",
    async (kind) => {
      const keys = await makeWorkloadKey(kind);
      const checked = await checkCsr(await makeCsr(keys));
      expect(Buffer.from(checked.spki).equals(Buffer.from(await spkiOf(keys)))).toBe(true);
      expect(checked.requestsSans).toBe(false);
    },
  );

  it("takes base64 DER as well as PEM, and notes requested SANs", async () => {
    const pem = await makeCsr(await makeWorkloadKey(), { sans: ["spiffe://example.org/admin"] });
    const der = pem.replace(/-----[A-Z ]+-----|\s/g, "");
    expect((await checkCsr(der)).requestsSans).toBe(true);
  });

  it.each(["ec-p521", "rsa-1024", "ed25519"] as const)(
    "refuses a %s key with unsupported_key",
    async (kind) => {
      await expect(checkCsr(await makeCsr(await makeWorkloadKey(kind)))).rejects.toMatchObject({
        code: "unsupported_key",
      });
    },
  );

  it("refuses a CSR whose signature does not verify (csr_signature_invalid)", async () => {
    const pem = await makeCsr(await makeWorkloadKey("ec-p256"));
    const der = Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ""), "base64");
    der[der.length - 5] = der[der.length - 5]! ^ 0x01; // inside the signature's S integer
    await expect(checkCsr(der)).rejects.toMatchObject({ code: "csr_signature_invalid" });
  });

  it("refuses garbage and the wrong PEM type with csr_malformed", async () => {
    await expect(checkCsr("not a csr!")).rejects.toMatchObject({ code: "csr_malformed" });
    await expect(checkCsr("")).rejects.toMatchObject({ code: "csr_malformed" });
    await expect(
      checkCsr("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"),
    ).rejects.toMatchObject({ code: "csr_malformed" });
    await expect(checkCsr("QUJD")).rejects.toMatchObject({ code: "csr_malformed" });
  });
});

describe("X.509-SVID leaves", () => {
  let ca: TestCa;
  let bundle: TrustBundle;
  let workloadSpki: Uint8Array;
  let rsaSpki: Uint8Array;

  beforeAll(async () => {
    ca = await makeTestCa(td);
    bundle = new TrustBundle({ trustDomain: td, x509Authorities: [ca.root] });
    workloadSpki = await spkiOf(await makeWorkloadKey("ec-p256"));
    rsaSpki = await spkiOf(await makeWorkloadKey("rsa-2048"));
  });

  const leaf = (o: { spki?: Uint8Array; ttl?: number; dns?: string[] } = {}) =>
    buildX509Svid({
      spiffeId: id,
      subjectPublicKey: o.spki ?? workloadSpki,
      issuer: ca.intermediate,
      signer: ca.intermediateSigner,
      ttlSeconds: o.ttl ?? 3600,
      ...(o.dns && { dnsNames: o.dns }),
    });

  it("builds a leaf with exactly the extensions the X.509-SVID standard wants", async () => {
    const cert = await leaf({ dns: ["fn.example.org"] });
    expect(cert.subject).toBe("");
    const san = cert.getExtension(SubjectAlternativeNameExtension)!;
    expect(san.critical).toBe(true);
    expect(san.names.items.filter((n) => n.type === "url").map((n) => n.value)).toEqual([id.toString()]);
    expect(san.names.items.filter((n) => n.type === "dns").map((n) => n.value)).toEqual(["fn.example.org"]);
    const bc = cert.getExtension(BasicConstraintsExtension)!;
    expect(bc.ca).toBe(false);
    const ku = cert.getExtension(KeyUsagesExtension)!;
    expect(ku.critical).toBe(true);
    expect(ku.usages).toBe(KeyUsageFlags.digitalSignature);
    const eku = cert.getExtension(ExtendedKeyUsageExtension)!;
    expect([...eku.usages].sort()).toEqual([ExtendedKeyUsage.clientAuth, ExtendedKeyUsage.serverAuth].sort());
    expect(cert.serialNumber.length).toBeGreaterThanOrEqual(16); // ≥ 64 bits in hex
    const now = Date.now();
    expect(cert.notBefore.getTime()).toBeLessThan(now - 10_000);
    expect(cert.notAfter.getTime()).toBeLessThanOrEqual(now + 3600_000 + 1000);
    expect(await cert.verify({ publicKey: ca.intermediate.publicKey, signatureOnly: true })).toBe(true);
  });

  it("adds keyEncipherment for RSA workload keys", async () => {
    const cert = await leaf({ spki: rsaSpki });
    expect(cert.getExtension(KeyUsagesExtension)!.usages).toBe(
      KeyUsageFlags.digitalSignature | KeyUsageFlags.keyEncipherment,
    );
  });

  it("never outlives its issuer", async () => {
    const cert = await leaf({ ttl: 365 * 86400 });
    expect(cert.notAfter.getTime()).toBe(ca.intermediate.notAfter.getTime());
  });

  it("refuses to certify the trust domain's own ID", async () => {
    await expect(
      buildX509Svid({
        spiffeId: SpiffeId.parse("spiffe://example.org"),
        subjectPublicKey: workloadSpki,
        issuer: ca.intermediate,
        signer: ca.intermediateSigner,
        ttlSeconds: 60,
      }),
    ).rejects.toMatchObject({ code: "invalid_spiffe_id" });
  });

  it("validates leaf + intermediate against the bundle root", async () => {
    const cert = await leaf();
    const v = validateX509Svid([cert, ca.intermediate], bundle);
    expect(v.spiffeId.toString()).toBe(id.toString());
    expect(v.path.map((c) => c.subject)).toEqual(["", "CN=Test Intermediate", "CN=Test Root"]);
  });

  it.runIf(hasOpenssl())("passes openssl verify -x509_strict against the root", async () => {
    const cert = await leaf({ dns: ["fn.example.org"] });
    expect(opensslVerify([ca.root], [cert, ca.intermediate])).toMatch(/OK/);
    expect(() => opensslVerify([ca.root], [cert])).toThrow(); // intermediate is needed
  });

  const ext = {
    san: (...uris: string[]) =>
      new SubjectAlternativeNameExtension(
        uris.map((u) => ({ type: "url" as const, value: u })),
        true,
      ),
    ku: (flags: number) => new KeyUsagesExtension(flags, true),
    bc: (ca: boolean) => new BasicConstraintsExtension(ca, undefined, true),
  };
  const forge = (
    extensions: Parameters<typeof forgeCertificate>[0]["extensions"],
    dates: { notBefore?: Date; notAfter?: Date } = {},
  ) =>
    forgeCertificate({
      issuer: ca.intermediate,
      signer: ca.intermediateSigner,
      subjectPublicKey: workloadSpki,
      extensions,
      ...dates,
    });

  it.each([
    [
      "two URI SANs",
      () => [
        ext.san(id.toString(), "spiffe://example.org/other"),
        ext.ku(KeyUsageFlags.digitalSignature),
        ext.bc(false),
      ],
      "x509_svid_invalid",
    ],
    ["no URI SAN", () => [ext.ku(KeyUsageFlags.digitalSignature), ext.bc(false)], "x509_svid_invalid"],
    [
      "a non-SPIFFE URI",
      () => [ext.san("https://example.org/x"), ext.ku(KeyUsageFlags.digitalSignature), ext.bc(false)],
      "x509_svid_invalid",
    ],
    [
      "the root ID",
      () => [ext.san("spiffe://example.org"), ext.ku(KeyUsageFlags.digitalSignature), ext.bc(false)],
      "x509_svid_invalid",
    ],
    [
      "CA=true",
      () => [ext.san(id.toString()), ext.ku(KeyUsageFlags.digitalSignature), ext.bc(true)],
      "x509_svid_invalid",
    ],
    [
      "keyCertSign",
      () => [
        ext.san(id.toString()),
        ext.ku(KeyUsageFlags.digitalSignature | KeyUsageFlags.keyCertSign),
        ext.bc(false),
      ],
      "x509_svid_invalid",
    ],
    [
      "cRLSign",
      () => [
        ext.san(id.toString()),
        ext.ku(KeyUsageFlags.digitalSignature | KeyUsageFlags.cRLSign),
        ext.bc(false),
      ],
      "x509_svid_invalid",
    ],
    ["no keyUsage", () => [ext.san(id.toString()), ext.bc(false)], "x509_svid_invalid"],
  ] as const)("refuses a leaf with %s", async (_name, exts, code) => {
    const cert = await forge(exts() as never);
    expect(codeOf(() => validateX509Svid([cert, ca.intermediate], bundle))).toBe(code);
  });

  it("fault 2: refuses a presented leaf whose key is not sound (RSA e = 3), even when a trusted CA signed it", async () => {
    const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048, publicExponent: 3 });
    const cert = await forgeCertificate({
      issuer: ca.intermediate,
      signer: ca.intermediateSigner,
      subjectPublicKey: new Uint8Array(publicKey.export({ format: "der", type: "spki" })),
      extensions: [ext.san(id.toString()), ext.ku(KeyUsageFlags.digitalSignature), ext.bc(false)],
    });
    expect(codeOf(() => validateX509Svid([cert, ca.intermediate], bundle))).toBe("x509_svid_invalid");
  });

  it("refuses expired and not-yet-valid leaves", async () => {
    const cert = await leaf({ ttl: 60 });
    expect(
      codeOf(() =>
        validateX509Svid([cert, ca.intermediate], bundle, { clock: new ManualClock(Date.now() + 120_000) }),
      ),
    ).toBe("x509_chain_invalid");
    expect(
      codeOf(() =>
        validateX509Svid([cert, ca.intermediate], bundle, { clock: new ManualClock(Date.now() - 120_000) }),
      ),
    ).toBe("x509_chain_invalid");
  });

  it("refuses a chain from another CA, and a bundle of another trust domain", async () => {
    const other = await makeTestCa(td);
    const cert = await buildX509Svid({
      spiffeId: id,
      subjectPublicKey: workloadSpki,
      issuer: other.intermediate,
      signer: other.intermediateSigner,
      ttlSeconds: 60,
    });
    expect(codeOf(() => validateX509Svid([cert, other.intermediate], bundle))).toBe("x509_chain_invalid");
    const wrongTd = new TrustBundle({
      trustDomain: TrustDomain.parse("example.com"),
      x509Authorities: [ca.root],
    });
    const mine = await leaf();
    expect(codeOf(() => validateX509Svid([mine, ca.intermediate], wrongTd))).toBe("x509_chain_invalid");
  });

  it("refuses a leaf signed by a leaf (no CA bit on the issuer)", async () => {
    const evilKeys = new InMemoryKeyManager();
    const k = await evilKeys.createKey("ES256");
    const { signerFor } = await import("../../lib/ports/key-manager.js");
    const signer = await signerFor(evilKeys, k.keyId);
    const midLeaf = await buildX509Svid({
      spiffeId: id,
      subjectPublicKey: k.spki,
      issuer: ca.intermediate,
      signer: ca.intermediateSigner,
      ttlSeconds: 600,
    });
    const grandchild = await forgeCertificate({
      issuer: midLeaf,
      signer,
      subjectPublicKey: workloadSpki,
      extensions: [ext.san("spiffe://example.org/x"), ext.ku(KeyUsageFlags.digitalSignature), ext.bc(false)],
    });
    expect(codeOf(() => validateX509Svid([grandchild, midLeaf, ca.intermediate], bundle))).toBe(
      "x509_chain_invalid",
    );
  });
});

describe("local certificate authority", () => {
  it.runIf(hasOpenssl())(
    "issues leaves that openssl verifies against its root, with the intermediate in the chain",
    async () => {
      const ca = await createLocalCertificateAuthority({ trustDomain: td, keys: new InMemoryKeyManager() });
      const issued = await ca.issue({
        spiffeId: id,
        subjectPublicKey: await spkiOf(await makeWorkloadKey("ec-p384")),
        ttlSeconds: 600,
      });
      expect(issued.chain).toHaveLength(2);
      const roots = await ca.trustAnchors();
      expect(opensslVerify(roots, issued.chain)).toMatch(/OK/);
      const bundle = new TrustBundle({ trustDomain: td, x509Authorities: roots });
      expect(validateX509Svid(issued.chain, bundle).spiffeId.toString()).toBe(id.toString());
      // And openssl can read the URI SAN the way any TLS stack will.
      const text = execFileSync("openssl", ["x509", "-noout", "-ext", "subjectAltName"], {
        input: issued.chain[0]!.toString("pem"),
        encoding: "utf8",
      });
      expect(text).toContain(`URI:${id}`);
      expect(text).toMatch(/critical/);
    },
  );
});
