/**
 * SHA-256 and HMAC-SHA256 for @smithy/signature-v4, on node:crypto. The SDK's default
 * for Node does the same (@smithy/hash-node); @aws-crypto/sha256-js, the browser-safe
 * choice, hashes in JavaScript, and signing a proof with it cost the extension's
 * start ~10 ms of CPU.
 */
import { createHash, createHmac, type Hash, type Hmac } from "node:crypto";
import type { Checksum, SourceData } from "@smithy/types";

function bytes(data: SourceData): string | Buffer {
  if (typeof data === "string") return data;
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

export class NodeSha256 implements Checksum {
  readonly #secret: SourceData | undefined;
  #hash: Hash | Hmac;

  /** With a secret, an HMAC-SHA256 keyed by it. */
  constructor(secret?: SourceData) {
    this.#secret = secret;
    this.#hash = this.#fresh();
  }

  update(data: Uint8Array): void {
    this.#hash.update(bytes(data));
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }

  reset(): void {
    this.#hash = this.#fresh();
  }

  #fresh(): Hash | Hmac {
    return this.#secret === undefined ? createHash("sha256") : createHmac("sha256", bytes(this.#secret));
  }
}
