/**
 * A Lambda Function URL on loopback: node:http in front of a payload-v2 handler. Each
 * request becomes the event a Function URL would send, the handler's answer becomes the
 * HTTP response. Used by the discovery tests, the exchange tests and `svid-bridge dev`.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { localLambdaContext } from "./lambda-context.js";

export type FunctionUrlHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2 | string | undefined>;

export interface RunningFunctionUrl {
  /** http://127.0.0.1:port, no trailing slash. */
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

export async function startFunctionUrlServer(
  handler: FunctionUrlHandler,
  options: { port?: number; host?: string; functionName?: string } = {},
): Promise<RunningFunctionUrl> {
  const host = options.host ?? "127.0.0.1";
  const functionName = options.functionName ?? "svid-bridge-local";
  const server = createServer(async (req, res) => {
    try {
      const body = await readBody(req);
      const event = toEvent(req, body, host);
      const result = await handler(event, lambdaContext(functionName, event.requestContext.requestId));
      const structured: APIGatewayProxyStructuredResultV2 =
        typeof result === "string" || result === undefined
          ? { statusCode: 200, headers: { "content-type": "application/json" }, body: result ?? "" }
          : result;
      const payload = Buffer.from(structured.body ?? "", structured.isBase64Encoded ? "base64" : "utf8");
      res.statusCode = structured.statusCode ?? 200;
      for (const [name, value] of Object.entries(structured.headers ?? {}))
        res.setHeader(name, String(value));
      if (structured.cookies?.length) res.setHeader("set-cookie", structured.cookies);
      res.end(payload);
    } catch {
      // What a Function URL answers when the function itself fails.
      res.statusCode = 502;
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ message: "Internal Server Error" }));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** The payload v2 event a Function URL builds for this request. */
export function toEvent(req: IncomingMessage, body: Buffer, host: string): APIGatewayProxyEventV2 {
  const url = new URL(req.url ?? "/", `http://${host}`);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || name === "cookie") continue;
    headers[name] = Array.isArray(value) ? value.join(",") : value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) query[name] = query[name] ? `${query[name]},${value}` : value;
  const now = new Date();
  const requestId = randomUUID();
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    ...(req.headers.cookie && { cookies: req.headers.cookie.split(/;\s*/) }),
    headers,
    ...(Object.keys(query).length > 0 && { queryStringParameters: query }),
    requestContext: {
      accountId: "anonymous",
      apiId: "local",
      domainName: headers.host ?? host,
      domainPrefix: "local",
      http: {
        method: req.method ?? "GET",
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? "127.0.0.1",
        userAgent: headers["user-agent"] ?? "",
      },
      requestId,
      routeKey: "$default",
      stage: "$default",
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.byteLength > 0 && { body: body.toString("base64") }),
    isBase64Encoded: body.byteLength > 0,
  };
}

function lambdaContext(functionName: string, requestId: string): Context {
  const deadline = Date.now() + 30_000;
  return localLambdaContext(functionName, requestId, () => Math.max(0, deadline - Date.now()));
}
