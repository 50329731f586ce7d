/**
 * Lambda Function URL / API Gateway HTTP API payload v2 event → HttpRequest.
 * Header names are lower-cased whatever the sender did; a base64 body is decoded here
 * so handlers never see the transport's encoding.
 */
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { BridgeError } from "../errors.js";
import type { HttpRequest } from "./http-types.js";

export function requestFromEvent(event: APIGatewayProxyEventV2): HttpRequest {
  const http = event?.requestContext?.http;
  if (!http || typeof http.method !== "string")
    throw new BridgeError("invalid_request", "the event is not an HTTP (payload v2) request");
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {}))
    if (typeof value === "string") headers[name.toLowerCase()] = value;
  // v2 moves Cookie out of headers; put it back so handlers see one header map.
  if (event.cookies?.length) headers.cookie = event.cookies.join("; ");
  const query: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.queryStringParameters ?? {}))
    if (typeof value === "string") query[name] = value;
  const raw = event.body ?? "";
  return {
    method: http.method.toUpperCase(),
    path: event.rawPath ?? http.path ?? "/",
    headers,
    query,
    body: Buffer.from(raw, event.isBase64Encoded ? "base64" : "utf8"),
    ...(event.requestContext.requestId !== undefined && { requestId: event.requestContext.requestId }),
    ...(http.sourceIp !== undefined && { sourceIp: http.sourceIp }),
  };
}
