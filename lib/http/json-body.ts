/**
 * Reads a JSON request body for the bridge's POST endpoints: size cap first, then media
 * type, then syntax, then "an object". Every refusal is a 4xx with a stable code.
 */
import { BridgeError } from "../errors.js";
import { findDuplicateMember } from "../strict-json.js";
import type { HttpRequest } from "./http-types.js";

export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
// Stateless when decode() is called without { stream }: one serves every request.
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

export function parseJsonBody(
  request: HttpRequest,
  options: { maxBytes?: number } = {},
): Record<string, unknown> {
  const max = options.maxBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (request.body.byteLength > max)
    throw new BridgeError("body_too_large", `the body is larger than ${max} bytes`);
  const type = (request.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/json")
    throw new BridgeError("unsupported_media_type", "the body must be application/json");
  if (request.body.byteLength === 0) throw new BridgeError("invalid_request", "the body is empty");
  let value: unknown;
  let text: string;
  try {
    text = strictUtf8.decode(request.body);
    value = JSON.parse(text);
  } catch {
    throw new BridgeError("invalid_request", "the body is not valid UTF-8 JSON");
  }
  const repeated = findDuplicateMember(text);
  if (repeated !== undefined)
    throw new BridgeError(
      "invalid_request",
      `member ${JSON.stringify(repeated)} appears twice in one object`,
    );
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new BridgeError("invalid_request", "the body must be a JSON object");
  return value as Record<string, unknown>;
}
