/**
 * The AWS JSON 1.1 wire (KMS, ACM PCA) as a loopback HTTP server, shared by FakeKms and
 * FakePca: `POST /`, operation in `X-Amz-Target: <Service>.<Op>`, JSON in and out,
 * errors as `{"__type": Name, "message": …}` with AWS's status code. The real AWS SDK
 * clients talk to it unchanged (endpoint = url(), static dummy credentials).
 *
 * SigV4 is not checked: the stand-ins test what the adapters send and receive, not the
 * SDK's signer (LocalSts, which proves identities, is where signatures are verified).
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** An AWS service error: `type` is what the SDK turns into the thrown error's `name`. */
export class AwsServiceError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

// biome-ignore lint/suspicious/noExplicitAny: wire input is untyped JSON; each handler checks its fields.
export type WireInput = Record<string, any>;
export type Handler = (input: WireInput) => unknown | Promise<unknown>;

interface Injection {
  error: AwsServiceError;
  remaining: number;
}

const MAX_BODY_BYTES = 1024 * 1024;

export class AwsJsonEndpoint {
  readonly #prefix: string;
  readonly #handlers: Record<string, Handler>;
  readonly #calls = new Map<string, number>();
  readonly #injections = new Map<string, Injection[]>();
  #server: Server | undefined;
  #url: string | undefined;

  constructor(targetPrefix: string, handlers: Record<string, Handler>) {
    this.#prefix = targetPrefix;
    this.#handlers = handlers;
  }

  get url(): string {
    if (!this.#url) throw new Error(`${this.#prefix} stand-in is not started`);
    return this.#url;
  }

  async start(): Promise<string> {
    const server = createServer((req, res) => void this.#serve(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.#server = server;
    this.#url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.#url;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** How many requests named `operation` reached the endpoint (injected failures included). */
  callCount(operation: string): number {
    return this.#calls.get(operation) ?? 0;
  }

  resetCounts(): void {
    this.#calls.clear();
  }

  /** The next `times` calls of `operation` fail with this error (e.g. ThrottlingException). */
  inject(
    operation: string,
    type: string,
    options: { times?: number; status?: number; message?: string } = {},
  ) {
    const list = this.#injections.get(operation) ?? [];
    list.push({
      error: new AwsServiceError(type, options.message ?? `injected ${type}`, options.status ?? 400),
      remaining: options.times ?? 1,
    });
    this.#injections.set(operation, list);
  }

  /** Drops every pending injected failure (of `operation`, or of all operations). */
  clearInjections(operation?: string): void {
    if (operation === undefined) this.#injections.clear();
    else this.#injections.delete(operation);
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const body = await readBody(req);
      if (req.method !== "POST" || (req.url ?? "/") !== "/")
        throw new AwsServiceError("UnknownOperationException", "only POST / is served", 404);
      const target = req.headers["x-amz-target"];
      if (typeof target !== "string" || !target.startsWith(`${this.#prefix}.`))
        throw new AwsServiceError("UnknownOperationException", "missing or foreign X-Amz-Target");
      const contentType = String(req.headers["content-type"] ?? "")
        .split(";")[0]!
        .trim();
      if (contentType !== "application/x-amz-json-1.1")
        throw new AwsServiceError(
          "SerializationException",
          `content type ${contentType} is not AWS JSON 1.1`,
        );
      const operation = target.slice(this.#prefix.length + 1);
      this.#calls.set(operation, (this.#calls.get(operation) ?? 0) + 1);
      const handler = Object.hasOwn(this.#handlers, operation) ? this.#handlers[operation] : undefined;
      if (!handler) throw new AwsServiceError("UnknownOperationException", `unknown operation ${operation}`);
      const injected = this.#takeInjection(operation);
      if (injected) throw injected;
      let input: WireInput;
      try {
        input = body.length === 0 ? {} : JSON.parse(body.toString("utf8"));
      } catch {
        throw new AwsServiceError("SerializationException", "the body is not JSON");
      }
      if (input === null || typeof input !== "object" || Array.isArray(input))
        throw new AwsServiceError("SerializationException", "the body is not a JSON object");
      const output = (await handler(input)) ?? {};
      send(res, 200, output);
    } catch (error) {
      if (error instanceof AwsServiceError)
        send(res, error.status, { __type: error.type, message: error.message });
      else send(res, 500, { __type: "InternalFailure", message: String(error) });
    }
  }

  #takeInjection(operation: string): AwsServiceError | undefined {
    const list = this.#injections.get(operation);
    const next = list?.[0];
    if (!next) return undefined;
    next.remaining -= 1;
    if (next.remaining <= 0) list.shift();
    return next.error;
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/x-amz-json-1.1",
    "content-length": Buffer.byteLength(text),
    "x-amzn-requestid": randomUUID(),
  });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES)
      throw new AwsServiceError("ValidationException", "request body too large", 413);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Field checks every handler needs; failures are the ValidationException AWS answers. */
export function requireString(input: WireInput, field: string): string {
  const value = input[field];
  if (typeof value !== "string" || value.length === 0)
    throw new AwsServiceError("ValidationException", `1 validation error detected: ${field} is required`);
  return value;
}

export function requireBlob(input: WireInput, field: string): Buffer {
  const text = requireString(input, field);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text))
    throw new AwsServiceError("SerializationException", `${field} is not base64`);
  return Buffer.from(text, "base64");
}
