/**
 * The CSRs the fuzz suite sends (made once per run: RSA key generation is slow): sound
 * ones the bridge may certify, and the ones it must refuse: weak or odd keys (issue 14,
 * fault 2), a broken signature, and PEM near-misses (fault 1). `mayIssue` says which.
 */
import { fault1Payload } from "./dev-bridge.js";
import { type OddKey, oddCsr, oddKeyPair, toPem } from "./odd-csrs.js";
import { rsaExponentOneCsr } from "./weak-keys.js";

export interface FuzzCsr {
  /** The `csr` field as sent. */
  text: string;
  /** The subject key (SPKI DER) an issued certificate must carry; undefined for non-CSRs. */
  spki?: Buffer;
  mayIssue: boolean;
}

const SOUND: Record<string, OddKey> = {
  "ok-p256": { type: "ec", curve: "prime256v1" },
  "ok-p384": { type: "ec", curve: "secp384r1" },
  "ok-rsa2048": { type: "rsa", bits: 2048 },
};
const WEAK: Record<string, OddKey> = {
  "rsa-1024": { type: "rsa", bits: 1024 },
  "rsa-e3": { type: "rsa", bits: 2048, exponent: 3 },
  "rsa-e17": { type: "rsa", bits: 2048, exponent: 17 },
  p192: { type: "ec", curve: "prime192v1" },
  p521: { type: "ec", curve: "secp521r1" },
  secp256k1: { type: "ec", curve: "secp256k1" },
  ed25519: { type: "ed25519" },
};

/** Every CSR kind the fuzz suite draws from, by name. */
export function makeFuzzCsrs(): Record<string, FuzzCsr> {
  const csrs: Record<string, FuzzCsr> = {};
  const p256 = oddKeyPair(SOUND["ok-p256"]!);
  for (const [name, key] of Object.entries(SOUND)) {
    const keys = name === "ok-p256" ? p256 : oddKeyPair(key);
    csrs[name] = {
      text: oddCsr(keys),
      spki: keys.publicKey.export({ type: "spki", format: "der" }),
      mayIssue: true,
    };
  }
  const p256Spki = p256.publicKey.export({ type: "spki", format: "der" });
  const sound = csrs["ok-p256"]!.text;
  const der = Buffer.from(sound.replace(/-----[A-Z ]+-----|\s/g, ""), "base64");
  // Asking for more than the bridge gives: the certificate must still be a leaf with one URI SAN.
  csrs["ca-true"] = { text: oddCsr(p256, { ca: true }), spki: p256Spki, mayIssue: true };
  csrs["many-sans"] = {
    text: oddCsr(p256, { uris: Array.from({ length: 60 }, (_, i) => `spiffe://example.org/steal/${i}`) }),
    spki: p256Spki,
    mayIssue: true,
  };
  csrs["san-other-domain"] = {
    text: oddCsr(p256, { uris: ["spiffe://evil.example/admin"], ca: true }),
    spki: p256Spki,
    mayIssue: true,
  };
  // RFC 7468 §7: parsers accept the legacy label; the bridge does, and that is sound.
  csrs["pem-new-label"] = { text: toPem(der, "NEW CERTIFICATE REQUEST"), spki: p256Spki, mayIssue: true };
  csrs["der-base64"] = { text: der.toString("base64"), spki: p256Spki, mayIssue: true };
  for (const [name, key] of Object.entries(WEAK))
    csrs[name] = { text: oddCsr(oddKeyPair(key)), mayIssue: false };
  csrs["rsa-e1"] = { text: rsaExponentOneCsr(), mayIssue: false };
  csrs["bad-signature"] = { text: oddCsr(p256, { breakSignature: true }), mayIssue: false };
  for (const [name, text] of Object.entries(pemNearMisses(sound, der)))
    csrs[name] = { text, mayIssue: false };
  return csrs;
}

/** Texts that look like a CSR and are not one (issue 14, fault 1 and its kind). */
function pemNearMisses(sound: string, der: Buffer): Record<string, string> {
  const body = sound.split("\n").slice(1, -2);
  const begin = "-----BEGIN CERTIFICATE REQUEST-----";
  const end = "-----END CERTIFICATE REQUEST-----";
  return {
    "pem-fault1-30": fault1Payload(30),
    "pem-fault1-40": fault1Payload(40),
    "pem-two-blocks": sound + sound,
    "pem-wrong-label": toPem(der, "CERTIFICATE"),
    "pem-trailing-junk": `${sound}junk after the block\n`,
    "pem-no-end": `${begin}\n${body.join("\n")}\n`,
    "pem-header-line": `${begin}\nProc-Type: 4,ENCRYPTED\n\n${body.join("\n")}\n${end}\n`,
    "pem-bad-base64": `${begin}\n${body.join("\n").replace(/[A-Z]/, "*")}\n${end}\n`,
    "pem-truncated-der": toPem(der.subarray(0, der.length - 7)),
    "pem-empty": `${begin}\n${end}\n`,
    "pem-begin-only": begin,
    "pem-huge": `${begin}\n${"QUFB\n".repeat(3300)}${end}\n`,
    "pem-nul": sound.replace("\n", "\n\u0000"),
    "pem-lone-dashes": "-----BEGIN -----\n-----END -----\n",
    "pem-many-dashes": `${"-".repeat(5000)}BEGIN`,
    "base64-junk": "MIIB////",
  };
}
