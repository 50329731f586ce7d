/**
 * FaultProxy: an HTTP proxy on 127.0.0.1 in front of a stand-in (dynalite, LocalSts, a
 * fake AWS endpoint) that passes requests through unchanged, or, as a test's `policy`
 * decides per request, delays them, answers in the service's place (a throttling error,
 * a 500, garbage), never answers, or drops the connection. The real SDK clients and the
 * bridge's own STS forwarder talk to it as they would to the service.
 *
 *   const proxy = new FaultProxy(dynalite.endpoint);
 *   await proxy.start();
 *   proxy.policy = (r) => r.target === "DynamoDB_20120810.PutItem" ? throttle() : PASS;
 */
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface ProxiedRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  /** X-Amz-Target (AWS JSON protocols: DynamoDB, KMS, PCA), or "" */
  target: string;
  body: Buffer;
}

export type Fault =
  | { kind: "pass"; delayMs?: number }
  | {
      kind: "answer";
      status: number;
      headers?: Record<string, string>;
      body: string | Buffer;
      delayMs?: number;
    }
  /** Accept the request and never answer (until the proxy stops). */
  | { kind: "hang" }
  /** Close the connection without an answer. */
  | { kind: "reset" };

export const PASS: Fault = { kind: "pass" };

/** DynamoDB's answer when a table's throughput is exceeded (AWS JSON 1.0 error shape). */
export function dynamoDbThrottle(type = "ProvisionedThroughputExceededException"): Fault {
  return {
    kind: "answer",
    status: 400,
    headers: { "content-type": "application/x-amz-json-1.0", "x-amzn-errortype": type },
    body: JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message: "Rate exceeded" }),
  };
}

export class FaultProxy {
  policy: (request: ProxiedRequest) => Fault = () => PASS;
  /** Requests seen, by X-Amz-Target (or path), faulted or not. */
  readonly seen = new Map<string, number>();
  readonly #target: URL;
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;
  #url = "";

  constructor(target: string) {
    this.#target = new URL(target);
  }

  get url(): string {
    return this.#url;
  }

  async start(): Promise<string> {
    const server = createServer((req, res) => {
      this.#handle(req, res).catch(() => res.destroy());
    });
    server.on("connection", (socket) => {
      this.#sockets.add(socket);
      socket.on("close", () => this.#sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.#server = server;
    this.#url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.#url;
  }

  async stop(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }

  count(target: string): number {
    return this.seen.get(target) ?? 0;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const target = String(req.headers["x-amz-target"] ?? "");
    const proxied = {
      method: req.method ?? "GET",
      path: req.url ?? "/",
      headers: req.headers,
      target,
      body: Buffer.concat(chunks),
    };
    const key = target || proxied.path;
    this.seen.set(key, (this.seen.get(key) ?? 0) + 1);
    const fault = this.policy(proxied);
    if (fault.kind === "hang") return;
    if (fault.kind === "reset") {
      req.socket.destroy();
      return;
    }
    if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
    if (fault.kind === "answer") {
      res.writeHead(fault.status, fault.headers ?? {});
      res.end(fault.body);
      return;
    }
    await this.#forward(proxied, res);
  }

  #forward(proxied: ProxiedRequest, res: ServerResponse): Promise<void> {
    return new Promise((resolve) => {
      const upstream = httpRequest(
        {
          hostname: this.#target.hostname,
          port: this.#target.port,
          method: proxied.method,
          path: proxied.path,
          headers: proxied.headers,
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          answer.on("end", () => resolve());
        },
      );
      upstream.on("error", () => {
        res.destroy();
        resolve();
      });
      upstream.end(proxied.body);
    });
  }
}
