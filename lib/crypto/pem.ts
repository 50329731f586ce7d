/**
 * A strict, linear PEM armour reader (RFC 7468 §3, "strict" textual encoding): every
 * place that takes PEM from outside (CSRs at the exchange, certificates from PCA,
 * bundles, chains and files) reads it here and hands DER to the libraries. The
 * libraries' own PEM readers backtrack on header-like lines (fault 1 of issue 14).
 *
 * Accepted: blocks `-----BEGIN <label>-----` … `-----END <label>-----` with the expected
 * label, base64 lines (A–Z a–z 0–9 + / and final `=` padding) in between, LF or CRLF line
 * ends, trailing spaces and blank lines between blocks. Refused: RFC 1421 headers
 * (`Proc-Type: …`), any other text, another label, a missing END, an empty block,
 * more than `maxBlocks` blocks, input longer than `maxChars`. One pass over the input,
 * no regular expression: O(n) whatever the input.
 */
import { BridgeError, type ErrorCode } from "../errors.js";

export interface PemReadOptions {
  /** The label(s) a block may carry, e.g. "CERTIFICATE" or ["CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"]. */
  labels: readonly string[];
  /** The error code of a refusal (csr_malformed, bundle_malformed, x509_svid_invalid, …). */
  code: ErrorCode;
  /** Cap on the input's length in UTF-16 code units, checked before anything else. */
  maxChars: number;
  /** Cap on the number of blocks. @default 1 */
  maxBlocks?: number;
  /** What the blocks are, for messages ("the CSR", "the certificate chain"). */
  what: string;
}

/** A PEM block's label line, or undefined when `line` is not one for `kind`. */
function labelOf(line: string, kind: "BEGIN" | "END"): string | undefined {
  const open = `-----${kind} `;
  if (!line.startsWith(open) || !line.endsWith("-----") || line.length < open.length + 6) return undefined;
  return line.slice(open.length, -5);
}

/** True when every code unit is in the base64 alphabet (padding checked separately). */
function isBase64Line(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    const ok = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b;
    if (!ok && c !== 0x2f && c !== 0x3d) return false;
  }
  return true;
}

/** Where padding may be: only at the end, at most two, and the total a multiple of 4. */
function decodeBase64(body: string): Buffer | undefined {
  if (body.length === 0 || body.length % 4 !== 0) return undefined;
  const firstPad = body.indexOf("=");
  if (
    firstPad !== -1 &&
    (firstPad < body.length - 2 || body.slice(firstPad) !== "=".repeat(body.length - firstPad))
  )
    return undefined;
  return Buffer.from(body, "base64");
}

/** Splits on LF (CRLF tolerated) and drops trailing white space of each line: linear (no regex). */
function lines(text: string): string[] {
  return text.split("\n").map((l) => l.trimEnd());
}

/**
 * Reads PEM blocks of the expected label(s) and returns their DER, in order.
 * Throws BridgeError(options.code) for anything else (see the module comment).
 */
export function readPemBlocks(text: string, options: PemReadOptions): Uint8Array[] {
  const fail = (message: string): never => {
    throw new BridgeError(options.code, `${options.what}: ${message}`);
  };
  if (typeof text !== "string") fail("PEM must be text");
  if (text.length > options.maxChars) fail(`longer than ${options.maxChars} characters`);
  const maxBlocks = options.maxBlocks ?? 1;
  const blocks: Uint8Array[] = [];
  let label: string | undefined; // inside a block when set
  let body: string[] = [];
  for (const line of lines(text)) {
    if (label === undefined) {
      if (line.length === 0) continue;
      const begin = labelOf(line, "BEGIN");
      if (begin === undefined) fail("text outside a PEM block");
      if (!options.labels.includes(begin as string))
        fail(`a ${JSON.stringify(begin)} block where ${options.labels[0]} was expected`);
      if (blocks.length === maxBlocks) fail(`more than ${maxBlocks} PEM block(s)`);
      label = begin;
      body = [];
      continue;
    }
    if (line.startsWith("-----")) {
      if (labelOf(line, "END") !== label) fail(`the ${label} block does not end with its END line`);
      const der = decodeBase64(body.join(""));
      if (!der) fail(`the ${label} block is not valid base64`);
      blocks.push(new Uint8Array(der as Buffer));
      label = undefined;
      continue;
    }
    if (line.includes(":")) fail("PEM headers (RFC 1421 'Name: value' lines) are not accepted");
    if (!isBase64Line(line)) fail("a PEM line holds characters outside the base64 alphabet");
    body.push(line);
  }
  if (label !== undefined) fail(`the ${label} block has no END line`);
  if (blocks.length === 0) fail("no PEM block");
  return blocks;
}

/** Exactly one block of the expected label(s): its DER. */
export function readPemBlock(text: string, options: Omit<PemReadOptions, "maxBlocks">): Uint8Array {
  return readPemBlocks(text, { ...options, maxBlocks: 1 })[0]!;
}

/** DER as a PEM block with 64-character lines (RFC 7468 §2). */
export function writePem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString("base64");
  const out: string[] = [`-----BEGIN ${label}-----`];
  for (let i = 0; i < b64.length; i += 64) out.push(b64.slice(i, i + 64));
  out.push(`-----END ${label}-----`, "");
  return out.join("\n");
}
