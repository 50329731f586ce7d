/**
 * The CSR self-signature check on node:crypto (lib/crypto/csr-signature.ts) answers as
 * @peculiar/x509's WebCrypto `verify()` does, for every algorithm it takes on, and leaves
 * the others (RSASSA-PSS) to it. CSRs are made by @peculiar/x509's generator on WebCrypto
 * and by OpenSSL, not by the code under test.
 */
import { execFileSync } from "node:child_process";
import { webcrypto } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CertificationRequest } from "@peculiar/asn1-csr";
import { AsnConvert } from "@peculiar/asn1-schema";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SignedCsr, verifyCsrSignature } from "../../lib/crypto/csr-signature.js";
import { Pkcs10CertificateRequest, Pkcs10CertificateRequestGenerator } from "../../lib/crypto/x509.js";
import { checkCsr } from "../../lib/spiffe/x509-svid.js";
import { OPENSSL, requireTool } from "../support/conformance-tools.js";
import { makeCsr, makeWorkloadKey } from "../support/x509-fixtures.js";

/** The check on a CSR given as DER, parsed as the exchange parses it. */
const verifyDer = (der: ArrayBuffer, spki: Uint8Array) => verifyCsrSignature(new SignedCsr(der), spki);
const der = (pem: string) => new Pkcs10CertificateRequest(pem).rawData;
const spki = (csr: ArrayBuffer) => new Uint8Array(new Pkcs10CertificateRequest(csr).publicKey.rawData);

async function csrOf(kind: "ec-p256" | "ec-p384" | "rsa-2048"): Promise<ArrayBuffer> {
  return der(await makeCsr(await makeWorkloadKey(kind)));
}

function flip(bytes: ArrayBuffer, at: number): ArrayBuffer {
  const copy = new Uint8Array(bytes.slice(0));
  copy[at] = copy[at]! ^ 0x01;
  return copy.buffer;
}

describe("verifyCsrSignature", () => {
  it.each(["ec-p256", "ec-p384", "rsa-2048"] as const)(
    "accepts a %s CSR signed by its own key",
    async (kind) => {
      const csr = await csrOf(kind);
      expect(verifyDer(csr, spki(csr))).toBe(true);
    },
  );

  it.runIf(requireTool(OPENSSL))("accepts OpenSSL's CSRs: P-256/SHA-256, P-384/SHA-384, RSA/SHA-512", () => {
    const dir = mkdtempSync(join(tmpdir(), "csr-sig-"));
    const cases: Array<[string[], string]> = [
      [["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"], "-sha256"],
      [["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"], "-sha384"],
      [["-newkey", "rsa:2048"], "-sha512"],
    ];
    for (const [i, [key, digest]] of cases.entries()) {
      const out = join(dir, `${i}.pem`);
      execFileSync(
        "openssl",
        [
          "req",
          "-new",
          ...key,
          "-nodes",
          digest,
          "-subj",
          "/CN=x",
          "-keyout",
          join(dir, `${i}.key`),
          "-out",
          out,
        ],
        {
          stdio: "ignore",
        },
      );
      const csr = der(readFileSync(out, "utf8"));
      expect(verifyDer(csr, spki(csr)), digest).toBe(true);
    }
  });

  it("refuses a CSR whose signature or signed bytes were changed", async () => {
    const csr = await csrOf("ec-p256");
    const bytes = new Uint8Array(csr);
    expect(verifyDer(flip(csr, bytes.length - 3), spki(csr))).toBe(false); // in the signature
    expect(verifyDer(flip(csr, 30), spki(csr))).toBe(false); // in certificationRequestInfo
  });

  it("refuses a signature labelled ECDSA made with an RSA key (the label must be the key's scheme)", async () => {
    const csr = await csrOf("rsa-2048");
    const asn = AsnConvert.parse(csr, CertificationRequest);
    asn.signatureAlgorithm.algorithm = "1.2.840.10045.4.3.2"; // ecdsa-with-SHA256
    asn.signatureAlgorithm.parameters = undefined;
    const relabelled = AsnConvert.serialize(asn);
    expect(verifyDer(relabelled, spki(csr))).toBe(false);
  });

  it("leaves RSASSA-PSS to WebCrypto (undefined), and checkCsr still checks it", async () => {
    const keys = (await webcrypto.subtle.generateKey(
      { name: "RSA-PSS", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
      true,
      ["sign", "verify"],
    )) as webcrypto.CryptoKeyPair;
    const csr = await Pkcs10CertificateRequestGenerator.create({
      name: "CN=pss",
      keys: keys as never,
      signingAlgorithm: { name: "RSA-PSS", hash: "SHA-256", saltLength: 32 } as never,
    });
    expect(verifyDer(csr.rawData, spki(csr.rawData))).toBeUndefined();
    expect((await checkCsr(csr.toString("pem"))).keyKind).toBe("rsa-2048");
    // ...and refuses one whose PSS signature was changed.
    const broken = new Uint8Array(csr.rawData.slice(0));
    broken[broken.length - 5] = broken[broken.length - 5]! ^ 0x01;
    await expect(checkCsr(broken)).rejects.toMatchObject({ code: "csr_signature_invalid" });
  });

  it("answers as @peculiar/x509's WebCrypto verify() on CSRs with one byte changed (property)", async () => {
    const csrs = await Promise.all((["ec-p256", "ec-p384", "rsa-2048"] as const).map(csrOf));
    await fc.assert(
      fc.asyncProperty(
        fc.nat(2),
        fc.nat(10_000),
        fc.integer({ min: 1, max: 255 }),
        async (which, pos, xor) => {
          const original = new Uint8Array(csrs[which]!);
          const mutated = original.slice();
          const at = pos % mutated.length;
          mutated[at] = mutated[at]! ^ xor;
          let reference: boolean | "throws";
          let parsed: Pkcs10CertificateRequest;
          try {
            parsed = new Pkcs10CertificateRequest(mutated.buffer);
            reference = await parsed.verify();
          } catch {
            reference = "throws";
          }
          if (reference === "throws") return; // not a CSR either reads: nothing to compare
          let ours: boolean | undefined | "throws";
          try {
            ours = verifyDer(mutated.buffer, new Uint8Array(parsed!.publicKey.rawData));
          } catch {
            ours = "throws";
          }
          // A key OpenSSL refuses is a refusal too (checkCsr names it); never an acceptance WebCrypto refused.
          expect(ours === "throws" ? false : ours).toBe(reference);
        },
      ),
      { numRuns: 200, seed: 20261129 },
    );
  });
});
