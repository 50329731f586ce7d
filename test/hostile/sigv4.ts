/**
 * An independent SigV4 signer for the fuzz suite: @smithy/signature-v4 driven directly,
 * with headers the test chooses (not lib/proof/client.ts), so a mutated proof is still
 * correctly signed and its refusal comes from the bridge's rules, not a broken signature.
 */
import { createHash, createHmac } from "node:crypto";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";

class Sha256 {
  #parts: Buffer[] = [];
  constructor(private readonly secret?: string | Uint8Array) {}
  update(data: Uint8Array | string): void {
    this.#parts.push(Buffer.from(data as Uint8Array));
  }
  async digest(): Promise<Uint8Array> {
    const data = Buffer.concat(this.#parts);
    return this.secret === undefined
      ? createHash("sha256").update(data).digest()
      : createHmac("sha256", Buffer.from(this.secret as Uint8Array))
          .update(data)
          .digest();
  }
  reset(): void {
    this.#parts = [];
  }
}

export interface RawSignInput {
  region: string;
  host: string;
  headers: Record<string, string>;
  body: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  at: Date;
}

/** Signs exactly the headers given (plus x-amz-date, and the token when present). */
export async function signRaw(
  input: RawSignInput,
): Promise<{ method: string; headers: [string, string][]; body: string }> {
  const signer = new SignatureV4({
    service: "sts",
    region: input.region,
    credentials: input.credentials,
    sha256: Sha256 as never,
    applyChecksum: false,
  });
  const request = new HttpRequest({
    method: "POST",
    protocol: "https:",
    hostname: input.host,
    path: "/",
    headers: { host: input.host, ...input.headers },
    body: input.body,
  });
  const signed = await signer.sign(request, { signingDate: input.at });
  return {
    method: "POST",
    headers: Object.entries(signed.headers).map(([k, v]) => [k.toLowerCase(), String(v)] as [string, string]),
    body: input.body,
  };
}
