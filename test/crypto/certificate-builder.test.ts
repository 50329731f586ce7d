/**
 * The certificate builder's own encodings: ECDSA signatures re-encoded from the port's
 * R||S into ECDSA-Sig-Value with minimal, positive INTEGERs (a leading 00 only before a
 * high bit, leading zero bytes dropped), and the serial-number rule. Checked with
 * node:crypto (OpenSSL), which refuses a DER signature that is not DER.
 */
import {
  createPublicKey,
  generateKeyPairSync,
  X509Certificate as NodeX509Certificate,
  sign,
} from "node:crypto";
import { describe, expect, it } from "vitest";
import { emptyName, extensions, parseSpki, signCertificate } from "../../lib/crypto/certificate-builder.js";
import type { Signer } from "../../lib/ports/key-manager.js";

const issuerKeys = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
const spkiDer = new Uint8Array(
  createPublicKey(issuerKeys.privateKey).export({ format: "der", type: "spki" }),
);
const NOW = Date.UTC(2026, 10, 29);

/** A Signer whose raw signatures are forced into a shape: r and s with leading zero bytes or a high bit. */
function shapedSigner(shape: (raw: Buffer) => boolean): Signer {
  return {
    alg: "ES256",
    kid: "k",
    spki: spkiDer,
    async sign(data) {
      // Sign until node:crypto happens to produce the shape wanted (each try is a fresh random k).
      for (let i = 0; i < 100_000; i++) {
        const raw = sign("sha256", data, { key: issuerKeys.privateKey, dsaEncoding: "ieee-p1363" });
        if (shape(raw)) return raw;
      }
      throw new Error("shape not reached");
    },
  };
}

async function certificateSignedBy(signer: Signer, serial = Uint8Array.of(0x01, 0x02)) {
  return signCertificate(
    {
      serialNumber: serial,
      issuer: emptyName(),
      subject: emptyName(),
      notBefore: new Date(NOW),
      notAfter: new Date(NOW + 3600_000),
      subjectPublicKeyInfo: parseSpki(spkiDer),
      extensions: [extensions.basicConstraints(false), extensions.keyUsage(1)],
    },
    signer,
  );
}

describe("signCertificate", () => {
  for (const [what, shape] of [
    ["r and s with the high bit set", (raw: Buffer) => (raw[0]! & 0x80) !== 0 && (raw[32]! & 0x80) !== 0],
    ["r and s without it", (raw: Buffer) => (raw[0]! & 0x80) === 0 && (raw[32]! & 0x80) === 0],
    ["r with a leading zero byte", (raw: Buffer) => raw[0] === 0],
    ["s with a leading zero byte", (raw: Buffer) => raw[32] === 0],
  ] as const)
    it(`encodes an ECDSA signature with ${what} as DER that OpenSSL verifies`, async () => {
      const cert = await certificateSignedBy(shapedSigner(shape));
      const parsed = new NodeX509Certificate(Buffer.from(cert.rawData));
      expect(parsed.verify(createPublicKey(issuerKeys.privateKey))).toBe(true);
      // The object handed back reads the same certificate as its DER.
      expect(cert.serialNumber).toBe("0102");
      expect(cert.notAfter.getTime()).toBe(NOW + 3600_000);
      expect(new NodeX509Certificate(cert.toString("pem")).raw.equals(parsed.raw)).toBe(true);
    });

  it("refuses a serial number that is negative or not minimally encoded", async () => {
    const signer = shapedSigner(() => true);
    await expect(certificateSignedBy(signer, Uint8Array.of(0x80, 1))).rejects.toThrow(/serial/);
    await expect(certificateSignedBy(signer, Uint8Array.of(0x00, 1))).rejects.toThrow(/serial/);
    await expect(certificateSignedBy(signer, new Uint8Array())).rejects.toThrow(/serial/);
  });
});
