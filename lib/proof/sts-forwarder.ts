/**
 * Sends a checked proof to STS, unchanged, at a URL the bridge built. node:http(s)
 * rather than fetch because the Host header must be the signed STS host even when the
 * socket goes elsewhere (the local STS in tests and `svid-bridge dev`), and fetch may
 * not set Host. Never follows redirects (node:http does not), caps the answer, and
 * retries only when the network failed, never on an answer.
 */
import http from "node:http";
import https from "node:https";
import { BridgeError } from "../errors.js";

export interface StsAnswer {
  status: number;
  body: string;
}

export interface ForwardOptions {
  /** Per attempt, from connect to the last byte. */
  timeoutMs: number;
  /** Further attempts after a network failure. */
  retries: number;
  maxResponseBytes: number;
}

/** A failure of the transport (refused, reset, timed out): worth another attempt. */
class NetworkError extends Error {}

export class StsForwarder {
  // Keep-alive: the exchange asks STS once per request, and a TLS handshake costs more than the call.
  // A pooled socket may have died while Lambda was frozen; that surfaces as a reset and is retried.
  readonly #https = new https.Agent({ keepAlive: true, maxSockets: 32 });
  readonly #http = new http.Agent({ keepAlive: true, maxSockets: 32 });

  constructor(private readonly options: ForwardOptions) {}

  async forward(url: URL, headers: readonly [string, string][], body: string): Promise<StsAnswer> {
    let last: unknown;
    for (let attempt = 0; attempt <= this.options.retries; attempt++) {
      try {
        return await this.#once(url, headers, body);
      } catch (error) {
        if (!(error instanceof NetworkError)) throw error;
        last = error;
      }
    }
    throw new BridgeError("sts_unavailable", "STS could not be reached", {
      cause: last,
      details: { endpoint: url.origin, attempts: this.options.retries + 1, retryAfterSeconds: 1 },
    });
  }

  close(): void {
    this.#https.destroy();
    this.#http.destroy();
  }

  #once(url: URL, headers: readonly [string, string][], body: string): Promise<StsAnswer> {
    const secure = url.protocol === "https:";
    const outgoing: Record<string, string> = Object.fromEntries(headers);
    outgoing["content-length"] = String(Buffer.byteLength(body));
    return new Promise<StsAnswer>((resolve, reject) => {
      const request = (secure ? https : http).request({
        protocol: url.protocol,
        hostname: url.hostname,
        port: url.port === "" ? undefined : Number(url.port),
        path: "/",
        method: "POST",
        headers: outgoing,
        agent: secure ? this.#https : this.#http,
        // TLS checks the certificate against the URL's host, never against the caller's Host header.
        ...(secure && { servername: url.hostname }),
      });
      const deadline = setTimeout(
        () => request.destroy(new NetworkError(`no answer within ${this.options.timeoutMs} ms`)),
        this.options.timeoutMs,
      );
      const fail = (error: unknown) => {
        clearTimeout(deadline);
        reject(
          error instanceof NetworkError || error instanceof BridgeError
            ? error
            : new NetworkError(String(error)),
        );
      };
      request.on("error", fail);
      request.on("response", (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > this.options.maxResponseBytes) {
            response.destroy();
            fail(
              new BridgeError("sts_unavailable", "STS's answer is larger than expected", {
                details: { limit: this.options.maxResponseBytes },
              }),
            );
            return;
          }
          chunks.push(chunk);
        });
        response.on("error", fail);
        response.on("end", () => {
          clearTimeout(deadline);
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") });
        });
      });
      request.end(body);
    });
  }
}
