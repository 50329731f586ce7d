/**
 * LambdaSandbox: runs a built layer the way Lambda does, on loopback.
 * - The Extensions API (2020-01-01): register (checks Lambda-Extension-Name against the
 *   executable's file name), event/next (INVOKE and SHUTDOWN payloads with deadlineMs),
 *   init/error, exit/error.
 * - Enough of the Runtime API (2018-06-01): invocation/next, invocation/{id}/response
 *   and /error, init/error; an in-process runtime polls it and runs the test's handler.
 * - Phases: init is done when every extension has called event/next; an invoke ends
 *   when the runtime has answered and every extension has called event/next again.
 *   Between invokes nothing answers event/next, and the extension processes are
 *   frozen with SIGSTOP (no timers, no CPU), as Lambda freezes the sandbox.
 * - Every file in <layer>/extensions/ starts as a child process with the environment
 *   Lambda gives extensions (credentials, region, function name, runtime API address).
 * - The function runs either in process (`invoke(handler)`: the test's own code, polling
 *   the Runtime API) or, with `runtime`, as its own process (`invokeEvent(event)`):
 *   lambda-runtime-bootstrap.mjs loads LAMBDA_TASK_ROOT/_HANDLER, started through
 *   AWS_LAMBDA_EXEC_WRAPPER when that is set, after every extension has registered (as
 *   Lambda's init phase orders it), and frozen with the extensions between invokes.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type DevPrincipal, makeDevRolePrincipal } from "./sts-server.js";

export interface LambdaSandboxOptions {
  /** The layer's unzipped tree (what Lambda mounts at /opt). */
  layerDir: string;
  /** Added to (and overriding) the environment Lambda sets. */
  env?: Record<string, string>;
  /**
   * Whose credentials Lambda puts in the environment (AWS_ACCESS_KEY_ID, …): give the
   * same principal to the LocalSts behind the exchange. Default: a fresh dev role session.
   */
  principal?: DevPrincipal;
  functionName?: string;
  /** Lambda's init budget for extensions. Default 10 s. */
  initTimeoutMs?: number;
  /** SIGSTOP extensions between invokes. Default true. */
  freeze?: boolean;
  /** Run the function as its own process: LAMBDA_TASK_ROOT and _HANDLER ("index.handler"). */
  runtime?: { taskRoot: string; handler?: string };
  /** Each chunk an extension or the function writes (stdout or stderr), as it comes. */
  onOutput?: (source: "extension" | "function", text: string) => void;
}

/** What the function answered: its JSON result, or Lambda's error shape. */
export type InvokeOutcome =
  | { ok: true; result: unknown }
  | { ok: false; errorType: string; errorMessage: string };

const BOOTSTRAP = fileURLToPath(new URL("./lambda-runtime-bootstrap.mjs", import.meta.url));

export type InitResult =
  | { ok: true; ms: number }
  | { ok: false; errorType: string; message: string; ms: number };

export interface ShutdownResult {
  exitedInTime: boolean;
  code: number | null;
  ms: number;
}

export interface InvokeContext {
  requestId: string;
  deadlineMs: number;
  env: Record<string, string>;
}

interface Extension {
  file: string;
  child: ChildProcess;
  id?: string;
  pendingNext?: ServerResponse;
  exited: boolean;
  exitCode: number | null;
  errors: { path: string; errorType: string; body: string }[];
}

interface RuntimeProcess {
  child: ChildProcess;
  exited: boolean;
  initError?: { errorType: string; body: string };
}

/** A port that was free a moment ago: for the extension's local API (it takes a fixed port). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

export class LambdaSandbox {
  readonly extensions: Extension[] = [];
  readonly functionName: string;
  /** The function's credentials; its session token is what the extension's local API wants. */
  readonly principal: DevPrincipal;
  initResult: InitResult | undefined;
  logs = "";
  #server: Server;
  #address = "";
  #options: LambdaSandboxOptions;
  #waiters: (() => void)[] = [];
  #invocations: { id: string; deadlineMs: number; payload: string }[] = [];
  #runtimeNext: ServerResponse | undefined;
  #responses = new Map<string, (r: { ok: boolean; body: string }) => void>();
  #frozen = false;
  #functionEnv: Record<string, string> = {};
  #runtime: RuntimeProcess | undefined;
  /** Kills every child if this process exits first: a frozen (SIGSTOPped) child would outlive it. */
  readonly #onExit = () => this.killNow();
  /** This sandbox's own /tmp stand-in: sandboxes on one host must not share the Workload API socket. */
  readonly #tmp = mkdtempSync(join(tmpdir(), "svid-sandbox-"));

  private constructor(options: LambdaSandboxOptions) {
    this.#options = options;
    this.functionName = options.functionName ?? "svid-bridge-test-fn";
    this.principal =
      options.principal ??
      makeDevRolePrincipal({
        account: "111122223333",
        roleName: "svid-bridge-test-role",
        sessionName: this.functionName,
      });
    this.#server = createHttpServer((req, res) => {
      this.#route(req, res).catch((e) => {
        res.writeHead(500).end(String(e));
      });
    });
  }

  /** Starts the API, launches every extension in the layer, and waits for the init phase to end. */
  static async start(options: LambdaSandboxOptions): Promise<LambdaSandbox> {
    const rt = new LambdaSandbox(options);
    await new Promise<void>((r) => rt.#server.listen(0, "127.0.0.1", r));
    rt.#address = `127.0.0.1:${(rt.#server.address() as AddressInfo).port}`;
    process.on("exit", rt.#onExit);
    const started = Date.now();
    const env = rt.#lambdaEnv();
    rt.#functionEnv = { ...env };
    for (const name of readdirSync(join(options.layerDir, "extensions"))) {
      const file = join(options.layerDir, "extensions", name);
      const child = spawn(file, [], { env, stdio: ["ignore", "pipe", "pipe"] });
      const ext: Extension = { file, child, exited: false, exitCode: null, errors: [] };
      for (const stream of [child.stdout, child.stderr])
        stream?.on("data", (d: Buffer) => {
          rt.logs += d.toString();
          options.onOutput?.("extension", d.toString());
        });
      child.on("exit", (code) => {
        ext.exited = true;
        ext.exitCode = code;
        rt.#wake();
      });
      rt.extensions.push(ext);
    }
    const budget = options.initTimeoutMs ?? 10_000;
    if (options.runtime) {
      // Lambda starts the runtime once every extension has registered.
      await rt.#until(() => rt.extensions.every((e) => e.id || e.exited || e.errors.length), budget);
      rt.#startRuntime(options.runtime);
    }
    const runtimeReady = () =>
      !rt.#runtime || rt.#runtimeNext !== undefined || rt.#runtime.exited || !!rt.#runtime.initError;
    const done = await rt.#until(
      () => rt.extensions.every((e) => e.pendingNext || e.exited || e.errors.length) && runtimeReady(),
      Math.max(0, budget - (Date.now() - started)),
    );
    const ms = Date.now() - started;
    // After init/error an extension is expected to exit; give it a moment to.
    if (rt.extensions.some((e) => e.errors.length))
      await rt.#until(() => rt.extensions.every((e) => e.exited || !e.errors.length), 1_000);
    const failed = rt.extensions.find((e) => e.errors.length || e.exited);
    if (!done)
      rt.initResult = { ok: false, errorType: "Extension.InitTimeout", message: "init timed out", ms };
    else if (failed)
      rt.initResult = {
        ok: false,
        errorType: failed.errors[0]?.errorType ?? "Extension.Crash",
        message: failed.errors[0]?.body ?? `exited with ${failed.exitCode}`,
        ms,
      };
    else if (rt.#runtime && (rt.#runtime.initError || rt.#runtime.exited))
      rt.initResult = {
        ok: false,
        errorType: rt.#runtime.initError?.errorType || "Runtime.ExitError",
        message: rt.#runtime.initError?.body ?? "the runtime exited during init",
        ms,
      };
    else rt.initResult = { ok: true, ms };
    if (rt.initResult.ok) rt.#freeze();
    return rt;
  }

  /** The environment the function's runtime sees (for the handler). */
  get functionEnv(): Record<string, string> {
    return this.#functionEnv;
  }

  /**
   * One invoke: the runtime gets the event, every extension gets INVOKE; resolves with
   * the handler's result once the handler has answered and every extension is done.
   */
  async invoke<T>(handler: (ctx: InvokeContext) => Promise<T>, timeoutMs = 10_000): Promise<T> {
    if (this.#runtime) throw new Error("this sandbox runs its function as a process: use invokeEvent");
    const { deadlineMs, answered } = this.#beginInvoke("{}", timeoutMs);
    // The in-process runtime: polls invocation/next over HTTP, runs the handler, answers.
    const base = `http://${this.#address}/2018-06-01/runtime`;
    const next = await fetch(`${base}/invocation/next`);
    const id = next.headers.get("lambda-runtime-aws-request-id")!;
    await next.text();
    let outcome: { ok: boolean; value?: T; error?: unknown };
    try {
      outcome = {
        ok: true,
        value: await handler({ requestId: id, deadlineMs, env: this.#functionEnv }),
      };
    } catch (error) {
      outcome = { ok: false, error };
    }
    await fetch(`${base}/invocation/${id}/${outcome.ok ? "response" : "error"}`, {
      method: "POST",
      body: JSON.stringify(outcome.ok ? (outcome.value ?? null) : { errorMessage: String(outcome.error) }),
    });
    await answered;
    await this.#endInvoke(deadlineMs);
    if (!outcome.ok) throw outcome.error;
    return outcome.value as T;
  }

  /**
   * One invoke of the function process (`runtime` option) with this event: resolves with
   * what the function answered once it and every extension are done.
   */
  async invokeEvent(event: unknown, timeoutMs = 10_000): Promise<InvokeOutcome> {
    if (!this.#runtime) throw new Error("no function process: start with the runtime option");
    const { deadlineMs, answered } = this.#beginInvoke(JSON.stringify(event ?? {}), timeoutMs);
    const timedOut = new Promise<undefined>((r) => setTimeout(() => r(undefined), timeoutMs).unref());
    const answer = await Promise.race([answered, timedOut]);
    if (!answer) throw new Error(`the function did not answer within ${timeoutMs} ms`);
    await this.#endInvoke(deadlineMs);
    const parsed = (() => {
      try {
        return JSON.parse(answer.body) as unknown;
      } catch {
        return answer.body;
      }
    })();
    if (answer.ok) return { ok: true, result: parsed };
    const error = (parsed ?? {}) as { errorType?: unknown; errorMessage?: unknown };
    return {
      ok: false,
      errorType: typeof error.errorType === "string" ? error.errorType : "Error",
      errorMessage: typeof error.errorMessage === "string" ? error.errorMessage : String(answer.body),
    };
  }

  #beginInvoke(payload: string, timeoutMs: number) {
    if (!this.initResult?.ok) throw new Error("init did not succeed");
    this.#thaw();
    const requestId = randomUUID();
    const deadlineMs = Date.now() + timeoutMs;
    for (const ext of this.extensions) {
      if (!ext.pendingNext) throw new Error(`${ext.file} is not waiting for an event`);
      this.#deliver(ext, {
        eventType: "INVOKE",
        deadlineMs,
        requestId,
        invokedFunctionArn: `arn:aws:lambda:us-east-1:111122223333:function:${this.functionName}`,
        tracing: { type: "X-Amzn-Trace-Id", value: `Root=1-${Date.now().toString(16)}-${requestId}` },
      });
    }
    this.#invocations.push({ id: requestId, deadlineMs, payload });
    this.#flushRuntime();
    const answered = new Promise<{ ok: boolean; body: string }>((r) => this.#responses.set(requestId, r));
    return { requestId, deadlineMs, answered };
  }

  /** The invoke ends when every extension has asked for its next event; then the sandbox freezes. */
  async #endInvoke(deadlineMs: number): Promise<void> {
    const finished = await this.#until(
      () => this.extensions.every((e) => e.pendingNext || e.exited),
      Math.max(0, deadlineMs - Date.now()),
    );
    if (!finished) throw new Error("an extension did not finish the invoke before the deadline");
    this.#freeze();
  }

  /** SHUTDOWN with Lambda's deadline (2 s with external extensions); SIGKILL after it. */
  async shutdown(reason = "SPINDOWN", budgetMs = 2_000): Promise<ShutdownResult> {
    this.#thaw();
    const start = Date.now();
    const deadlineMs = start + budgetMs;
    for (const ext of this.extensions)
      if (ext.pendingNext) this.#deliver(ext, { eventType: "SHUTDOWN", shutdownReason: reason, deadlineMs });
    // The runtime gets no SHUTDOWN event: Lambda stops it, then waits for the extensions.
    this.#stopRuntime();
    const exited = await this.#until(() => this.extensions.every((e) => e.exited), budgetMs);
    for (const ext of this.extensions) if (!ext.exited) ext.child.kill("SIGKILL");
    return { exitedInTime: exited, code: this.extensions[0]?.exitCode ?? null, ms: Date.now() - start };
  }

  /** SIGKILL to every live child, synchronously (for exit hooks). */
  killNow(): void {
    for (const ext of this.extensions) if (!ext.exited) ext.child.kill("SIGKILL");
    this.#stopRuntime();
  }

  async close(): Promise<void> {
    process.off("exit", this.#onExit);
    this.#thaw();
    this.#stopRuntime();
    for (const ext of this.extensions) if (!ext.exited) ext.child.kill("SIGKILL");
    await this.#until(() => this.extensions.every((e) => e.exited) && !this.#runtimeAlive(), 2_000);
    this.#server.closeAllConnections();
    await new Promise<void>((r) => this.#server.close(() => r()));
    rmSync(this.#tmp, { recursive: true, force: true });
  }

  /** The extension's Workload API socket path (SVID_BRIDGE_WORKLOAD_SOCKET), per sandbox. */
  get workloadSocket(): string {
    return this.#functionEnv.SVID_BRIDGE_WORKLOAD_SOCKET ?? join(this.#tmp, "workload.sock");
  }

  // ---------------------------------------------------------------- internals

  #lambdaEnv(): Record<string, string> {
    return {
      PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin:/opt/bin`,
      LANG: "en_US.UTF-8",
      TZ: ":UTC",
      AWS_LAMBDA_RUNTIME_API: this.#address,
      AWS_REGION: "us-east-1",
      AWS_DEFAULT_REGION: "us-east-1",
      AWS_LAMBDA_FUNCTION_NAME: this.functionName,
      AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "128",
      AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
      AWS_ACCESS_KEY_ID: this.principal.accessKeyId,
      AWS_SECRET_ACCESS_KEY: this.principal.secretAccessKey,
      ...(this.principal.sessionToken && { AWS_SESSION_TOKEN: this.principal.sessionToken }),
      SVID_BRIDGE_WORKLOAD_SOCKET: join(this.#tmp, "workload.sock"),
      ...this.#options.env,
    };
  }

  #startRuntime(runtime: { taskRoot: string; handler?: string }): void {
    const env: Record<string, string> = {
      ...this.#functionEnv,
      LAMBDA_TASK_ROOT: runtime.taskRoot,
      _HANDLER: runtime.handler ?? "index.handler",
    };
    this.#functionEnv = env;
    // As Lambda does: the wrapper gets the runtime's command line as its arguments.
    const wrapper = env.AWS_LAMBDA_EXEC_WRAPPER;
    const command = [process.execPath, BOOTSTRAP];
    const child = wrapper
      ? spawn(wrapper, command, { env, cwd: runtime.taskRoot, stdio: ["ignore", "pipe", "pipe"] })
      : spawn(command[0]!, command.slice(1), {
          env,
          cwd: runtime.taskRoot,
          stdio: ["ignore", "pipe", "pipe"],
        });
    const state: RuntimeProcess = { child, exited: false };
    for (const stream of [child.stdout, child.stderr])
      stream?.on("data", (d: Buffer) => {
        this.logs += d.toString();
        this.#options.onOutput?.("function", d.toString());
      });
    child.on("exit", () => {
      state.exited = true;
      this.#wake();
    });
    child.on("error", (error) => {
      state.initError = { errorType: "Runtime.StartError", body: error.message };
      state.exited = true;
      this.#wake();
    });
    this.#runtime = state;
  }

  #runtimeAlive(): boolean {
    return this.#runtime !== undefined && !this.#runtime.exited;
  }

  #stopRuntime(): void {
    if (this.#runtimeAlive()) this.#runtime!.child.kill("SIGKILL");
  }

  #deliver(ext: Extension, event: Record<string, unknown>): void {
    const res = ext.pendingNext!;
    ext.pendingNext = undefined;
    res.writeHead(200, {
      "content-type": "application/json",
      "lambda-extension-event-identifier": randomUUID(),
    });
    res.end(JSON.stringify(event));
  }

  #freeze(): void {
    if (this.#options.freeze === false || this.#frozen) return;
    for (const ext of this.extensions) if (!ext.exited) ext.child.kill("SIGSTOP");
    if (this.#runtimeAlive()) this.#runtime!.child.kill("SIGSTOP");
    this.#frozen = true;
  }

  #thaw(): void {
    if (!this.#frozen) return;
    for (const ext of this.extensions) if (!ext.exited) ext.child.kill("SIGCONT");
    if (this.#runtimeAlive()) this.#runtime!.child.kill("SIGCONT");
    this.#frozen = false;
  }

  #flushRuntime(): void {
    if (!this.#runtimeNext) return;
    const inv = this.#invocations.shift();
    if (!inv) return;
    const res = this.#runtimeNext;
    this.#runtimeNext = undefined;
    res.writeHead(200, {
      "content-type": "application/json",
      "lambda-runtime-aws-request-id": inv.id,
      "lambda-runtime-deadline-ms": String(inv.deadlineMs),
      "lambda-runtime-invoked-function-arn": `arn:aws:lambda:us-east-1:111122223333:function:${this.functionName}`,
    });
    res.end(inv.payload);
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Resolves true when `cond` holds (re-checked on every API call or exit), false at the timeout. */
  async #until(cond: () => boolean, ms: number): Promise<boolean> {
    const end = Date.now() + ms;
    while (!cond()) {
      const left = end - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return true;
  }

  async #route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
    const body = Buffer.concat(chunks).toString("utf8");
    const path = req.url ?? "/";
    const ext = this.extensions.find((e) => e.id && e.id === req.headers["lambda-extension-identifier"]);
    try {
      if (path === "/2020-01-01/extension/register" && req.method === "POST") {
        const name = req.headers["lambda-extension-name"];
        // Lambda matches the name against the executable's file name.
        const target = this.extensions.find((e) => !e.id && e.file.endsWith(`/${name}`));
        const events = (JSON.parse(body || "{}") as { events?: unknown }).events;
        if (!target || !Array.isArray(events) || !events.includes("SHUTDOWN")) {
          res.writeHead(403, { "content-type": "application/json" });
          res.end(JSON.stringify({ errorType: "Extension.InvalidName", errorMessage: "bad register" }));
          return;
        }
        target.id = randomUUID();
        res.writeHead(200, { "content-type": "application/json", "lambda-extension-identifier": target.id });
        res.end(
          JSON.stringify({
            functionName: this.functionName,
            functionVersion: "$LATEST",
            handler: "index.handler",
          }),
        );
        return;
      }
      if (path.startsWith("/2020-01-01/extension/")) {
        if (!ext) {
          res.writeHead(403).end(JSON.stringify({ errorType: "Extension.Unknown" }));
          return;
        }
        if (path.endsWith("/event/next") && req.method === "GET") {
          // Held open: answered when the next event comes (never while frozen).
          ext.pendingNext = res;
          return;
        }
        if ((path.endsWith("/init/error") || path.endsWith("/exit/error")) && req.method === "POST") {
          ext.errors.push({
            path,
            errorType: String(req.headers["lambda-extension-function-error-type"] ?? ""),
            body,
          });
          res.writeHead(202, { "content-type": "application/json" }).end(JSON.stringify({ status: "OK" }));
          return;
        }
      }
      if (path === "/2018-06-01/runtime/invocation/next" && req.method === "GET") {
        this.#runtimeNext = res;
        this.#flushRuntime();
        return;
      }
      const m = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(path);
      if (m && req.method === "POST") {
        this.#responses.get(m[1]!)?.({ ok: m[2] === "response", body });
        this.#responses.delete(m[1]!);
        res.writeHead(202).end(JSON.stringify({ status: "OK" }));
        return;
      }
      if (path === "/2018-06-01/runtime/init/error" && req.method === "POST") {
        if (this.#runtime)
          this.#runtime.initError = {
            errorType: String(req.headers["lambda-runtime-function-error-type"] ?? "Runtime.Unknown"),
            body,
          };
        res.writeHead(202).end();
        return;
      }
      res.writeHead(404).end();
    } finally {
      this.#wake();
    }
  }
}
