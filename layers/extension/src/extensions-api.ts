/**
 * The Lambda Extensions API client (2020-01-01): register, event/next, init/error,
 * exit/error. Each call is one plain HTTP request to AWS_LAMBDA_RUNTIME_API; event/next
 * has no timeout on purpose, since it blocks for as long as the sandbox is idle.
 */
import { request } from "node:http";

export const EXTENSION_NAME = "svid-bridge";

export interface InvokeEvent {
  eventType: "INVOKE";
  /** Epoch milliseconds of the function's timeout. */
  deadlineMs: number;
  requestId: string;
  invokedFunctionArn: string;
}

export interface ShutdownEvent {
  eventType: "SHUTDOWN";
  shutdownReason: "SPINDOWN" | "TIMEOUT" | "FAILURE" | string;
  deadlineMs: number;
}

export type ExtensionEvent = InvokeEvent | ShutdownEvent;

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(
  runtimeApi: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<RawResponse> {
  const [host, port] = runtimeApi.split(":");
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host,
        port: port ? Number(port) : 80,
        method,
        path: `/2020-01-01/extension${path}`,
        headers: { ...headers, ...(body !== undefined && { "content-type": "application/json" }) },
        // A fresh connection per call: pooled sockets may be dead after a freeze.
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

export class ExtensionsApiClient {
  #id: string | undefined;
  constructor(private readonly runtimeApi: string) {}

  get extensionId(): string | undefined {
    return this.#id;
  }

  async register(name = EXTENSION_NAME): Promise<{ functionName?: string; functionVersion?: string }> {
    const res = await call(
      this.runtimeApi,
      "POST",
      "/register",
      { "Lambda-Extension-Name": name },
      JSON.stringify({ events: ["INVOKE", "SHUTDOWN"] }),
    );
    const id = res.headers["lambda-extension-identifier"];
    if (res.status !== 200 || typeof id !== "string")
      throw new Error(`register failed: HTTP ${res.status} ${res.body.slice(0, 200)}`);
    this.#id = id;
    return JSON.parse(res.body || "{}");
  }

  /** Tells Lambda this phase's work is done and blocks until the next event. */
  async next(): Promise<ExtensionEvent> {
    const res = await call(this.runtimeApi, "GET", "/event/next", this.#headers());
    if (res.status !== 200)
      throw new Error(`event/next failed: HTTP ${res.status} ${res.body.slice(0, 200)}`);
    return JSON.parse(res.body) as ExtensionEvent;
  }

  initError(errorType: string, message: string): Promise<void> {
    return this.#reportError("/init/error", errorType, message);
  }

  exitError(errorType: string, message: string): Promise<void> {
    return this.#reportError("/exit/error", errorType, message);
  }

  async #reportError(path: string, errorType: string, message: string): Promise<void> {
    await call(
      this.runtimeApi,
      "POST",
      path,
      { ...this.#headers(), "Lambda-Extension-Function-Error-Type": errorType },
      JSON.stringify({ errorMessage: message, errorType, stackTrace: [] }),
    );
  }

  #headers(): Record<string, string> {
    if (!this.#id) throw new Error("the extension is not registered");
    return { "Lambda-Extension-Identifier": this.#id };
  }
}
