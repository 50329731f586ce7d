/** Small HTTP helpers for the local API: replies, errors as `{error, message}`, bounded JSON bodies. */
import type { IncomingMessage, ServerResponse } from "node:http";
import { BridgeError } from "../../../../lib/errors.js";
import { findDuplicateMember } from "../../../../lib/strict-json.js";

export interface Reply {
  status: number;
  contentType: string;
  body: string;
}

export function json(value: unknown, status = 200): Reply {
  return { status, contentType: "application/json", body: JSON.stringify(value) };
}

export function text(body: string, contentType = "text/plain; charset=utf-8"): Reply {
  return { status: 200, contentType, body };
}

export function errorReply(error: unknown): Reply {
  const e =
    error instanceof BridgeError
      ? error
      : new BridgeError("internal_error", "internal error", { cause: error });
  return json(e.toJSON(), e.status);
}

export function send(res: ServerResponse, reply: Reply): void {
  res.writeHead(reply.status, {
    "content-type": reply.contentType,
    "content-length": Buffer.byteLength(reply.body),
    // SVIDs and keys: never cached by anything between the function and us.
    "cache-control": "no-store",
  });
  res.end(reply.body);
}

export async function readJson(req: IncomingMessage, limit = 64 * 1024): Promise<unknown> {
  const type = req.headers["content-type"] ?? "";
  if (!/^application\/json\b/i.test(type))
    throw new BridgeError("unsupported_media_type", "send the body as application/json");
  const chunks: Buffer[] = [];
  let size = 0;
  // Drain to the end even past the limit (keeping nothing), so the client reads our 413
  // instead of a reset; only the token's holder gets this far.
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
  }
  if (size > limit) throw new BridgeError("body_too_large", `the body is larger than ${limit} bytes`);
  const text = Buffer.concat(chunks).toString("utf8");
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (cause) {
    throw new BridgeError("invalid_request", "the body is not valid JSON", { cause });
  }
  // As strict as the exchange (issue 14, fault 6's kind): a repeated member is refused.
  const repeated = findDuplicateMember(text);
  if (repeated !== undefined)
    throw new BridgeError("invalid_request", `member ${JSON.stringify(repeated)} appears twice`);
  return body;
}

/** One optional `format` query parameter, from a fixed list. */
export function format<T extends string>(url: URL, allowed: readonly T[]): T {
  const f = url.searchParams.get("format") ?? allowed[0]!;
  if (!(allowed as readonly string[]).includes(f))
    throw new BridgeError("invalid_request", `format must be one of ${allowed.join(", ")}`);
  return f as T;
}
