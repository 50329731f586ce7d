/**
 * The strict PEM reader (lib/crypto/pem.ts): one pass, the expected label, no headers,
 * base64 only, a size cap. Regression for issue 14, fault 1 (the library's PEM reader
 * backtracked on header-like lines: ~6 s for 30 lines, doubling with each line).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readPemBlock, readPemBlocks, writePem } from "../../lib/crypto/pem.js";
import { errorCodeOf } from "../../lib/errors.js";
import { parseCsr } from "../../lib/spiffe/x509-svid.js";
import { fault1Payload } from "../hostile/dev-bridge.js";
import { makeCsr, makeWorkloadKey } from "../support/x509-fixtures.js";

const CERT = {
  labels: ["CERTIFICATE"],
  code: "bundle_malformed",
  maxChars: 64 * 1024,
  what: "test",
} as const;
const codeOf = (f: () => unknown) => {
  try {
    f();
  } catch (error) {
    return errorCodeOf(error);
  }
  return "accepted";
};

describe("strict PEM reader", () => {
  it("reads what writePem writes, one or several blocks, LF or CRLF", () => {
    const a = new Uint8Array([0x30, 0x03, 1, 2, 3]);
    const b = new Uint8Array(200).fill(7);
    expect(readPemBlock(writePem("CERTIFICATE", a), CERT)).toEqual(a);
    const two = `${writePem("CERTIFICATE", a)}\n${writePem("CERTIFICATE", b)}`;
    expect(readPemBlocks(two, { ...CERT, maxBlocks: 2 })).toEqual([a, b]);
    expect(readPemBlocks(two.replaceAll("\n", "\r\n"), { ...CERT, maxBlocks: 2 })).toEqual([a, b]);
  });

  it.each([
    [
      "a header line",
      "-----BEGIN CERTIFICATE-----\nProc-Type: 4,ENCRYPTED\nAAAA\n-----END CERTIFICATE-----\n",
    ],
    ["another label", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"],
    ["a mismatched END", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END PRIVATE KEY-----\n"],
    ["no END", "-----BEGIN CERTIFICATE-----\nAAAA\n"],
    ["an empty block", "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"],
    ["text before the block", "hello\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"],
    ["a character outside base64", "-----BEGIN CERTIFICATE-----\nAA!A\n-----END CERTIFICATE-----\n"],
    ["padding in the middle", "-----BEGIN CERTIFICATE-----\nAA==AAAA\n-----END CERTIFICATE-----\n"],
    ["a length not a multiple of 4", "-----BEGIN CERTIFICATE-----\nAAAAA\n-----END CERTIFICATE-----\n"],
    [
      "two blocks where one is allowed",
      `${writePem("CERTIFICATE", new Uint8Array([1]))}${writePem("CERTIFICATE", new Uint8Array([2]))}`,
    ],
    ["nothing", ""],
    ["more than the cap", `-----BEGIN CERTIFICATE-----\n${"A".repeat(70_000)}\n-----END CERTIFICATE-----\n`],
  ])("refuses %s with the caller's code", (_name, text) => {
    expect(codeOf(() => readPemBlock(text, CERT))).toBe("bundle_malformed");
  });

  it("fault 1: PEM with header-like lines is refused in linear time (30, 40 and 4000 lines)", () => {
    for (const lines of [30, 40, 4000]) {
      const started = performance.now();
      expect(codeOf(() => parseCsr(fault1Payload(lines)))).toBe("csr_malformed");
      // Loose bound: the fault took ~6 s at 30 lines and doubled per line; linear work is microseconds.
      expect(performance.now() - started).toBeLessThan(1000);
    }
  });

  it("fault 1: the reader's time grows linearly, not exponentially, with header lines", () => {
    // Within the CSR cap (16 KiB): 2 000 lines vs 250 lines is 8x the input; allow 80x the time.
    const time = (lines: number) => {
      const text = fault1Payload(lines);
      const started = performance.now();
      for (let i = 0; i < 50; i++) codeOf(() => parseCsr(text));
      return performance.now() - started;
    };
    time(250); // warm up
    const small = Math.max(time(250), 1);
    expect(time(2000)).toBeLessThan(small * 80);
  });

  it("a real CSR still parses from PEM (both labels) and from base64 DER", async () => {
    const pem = await makeCsr(await makeWorkloadKey("ec-p256"));
    const der = readPemBlock(pem, { ...CERT, labels: ["CERTIFICATE REQUEST"] });
    expect(new Uint8Array(parseCsr(pem).rawData)).toEqual(der);
    expect(
      new Uint8Array(parseCsr(pem.replaceAll("CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST")).rawData),
    ).toEqual(der);
    expect(new Uint8Array(parseCsr(Buffer.from(der).toString("base64")).rawData)).toEqual(der);
  });

  it("never throws anything but a BridgeError with the caller's code on random text (seeded)", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.constantFrom(
              "-----BEGIN CERTIFICATE-----",
              "-----END CERTIFICATE-----",
              "AAAA",
              "a: b",
              " ",
              "=",
              "\r",
            ),
            fc.string(),
          ),
          { maxLength: 30 },
        ),
        (parts) => {
          const code = codeOf(() => readPemBlocks(parts.join("\n"), { ...CERT, maxBlocks: 3 }));
          expect(["accepted", "bundle_malformed"]).toContain(code);
        },
      ),
      { seed: 14, numRuns: 2000 },
    );
  });
});
