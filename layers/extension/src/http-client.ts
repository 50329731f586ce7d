/**
 * A minimal JSON-over-HTTP(S) call on node:http/https. Not fetch: loading undici costs the
 * extension ~10 MB of resident memory, a sixth of its budget (and the in-process client
 * more than its whole budget). A fresh connection per call:
 * after a freeze, pooled sockets may be dead, and refreshes are rare enough to pay a
 * handshake each.
 */
import type { request as httpRequest } from "node:http";

// The modules themselves, not an ESM import: in an ESM bundle (the in-process client's) an
// `import … from "node:http"` builds the module's namespace, whose lazy getters load undici:
// +17 MiB resident on Node 24, measured. node:https (TLS) is loaded on the first https call.
const builtin = <T>(id: string) => process.getBuiltinModule(id) as T;

export interface HttpResult {
  status: number;
  /** Parsed JSON, or undefined when the body is empty or not JSON. */
  json: unknown;
}

const MAX_RESPONSE_BYTES = 1024 * 1024;

export function callJson(
  url: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    body?: unknown;
    timeoutMs: number;
    /** Called once the whole request has been handed to the operating system. */
    onWritten?: () => void;
  },
): Promise<HttpResult> {
  const u = new URL(url);
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const request = builtin<{ request: typeof httpRequest }>(
    u.protocol === "https:" ? "node:https" : "node:http",
  ).request;
  return new Promise((resolve, reject) => {
    const req = request(
      u,
      {
        method: options.method ?? "GET",
        agent: false,
        timeout: options.timeoutMs,
        headers: {
          accept: "application/json",
          ...options.headers,
          ...(payload !== undefined && {
            "content-type": "application/json",
            "content-length": String(Buffer.byteLength(payload)),
          }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (c: Buffer) => {
          size += c.length;
          if (size > MAX_RESPONSE_BYTES) req.destroy(new Error("response too large"));
          else chunks.push(c);
        });
        res.on("end", () => {
          let json: unknown;
          try {
            json = JSON.parse(Buffer.concat(chunks).toString("utf8"));
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`timed out after ${options.timeoutMs} ms`)));
    req.on("error", reject);
    if (options.onWritten) req.once("finish", options.onWritten);
    req.end(payload);
  });
}
