/**
 * The Workload API's Unix socket (SPIFFE Workload Endpoint §3-§4): a plain `net` server,
 * so a function or service that never connects never pays for gRPC. The first
 * connection loads grpc-server.ts (grpc-js, the proto) and hands itself over; later
 * ones go straight to the same HTTP/2 server.
 * - The socket is made with mode 0600 (umask 0177 while it binds, chmod after): only the
 *   process's user can connect, which on Lambda is the function and on a host is the
 *   agent's user.
 * - A file already at the path is replaced only when it is a socket that nobody answers
 *   on (a crashed predecessor's); a live socket or any other kind of file is an error.
 */
import { chmod, lstat, mkdir, rm } from "node:fs/promises";
import { connect, createServer, type Server, type Socket } from "node:net";
import { dirname } from "node:path";
import { BridgeError } from "../../../../lib/errors.js";
import { errorFields, type Logger, silentLogger } from "../log.js";
import type { SvidManager } from "../svid-manager.js";
import type { WorkloadGrpcServer } from "./grpc-server.js";

export interface WorkloadApiSocketOptions {
  path: string;
  manager: SvidManager;
  logger?: Logger;
  /** How gRPC is loaded on first connection. Default: import("./grpc-server.js"). */
  loadGrpc?: () => Promise<(manager: SvidManager, logger: Logger) => WorkloadGrpcServer>;
}

export class WorkloadApiSocket {
  readonly path: string;
  readonly #server: Server;
  readonly #options: WorkloadApiSocketOptions;
  readonly #log: Logger;
  #grpc: Promise<WorkloadGrpcServer> | undefined;
  readonly #connections = new Set<Socket>();

  private constructor(options: WorkloadApiSocketOptions) {
    this.#options = options;
    this.path = options.path;
    this.#log = options.logger ?? silentLogger;
    // Paused until gRPC owns it: nothing is read before the HTTP/2 server sees it.
    this.#server = createServer({ pauseOnConnect: true }, (socket) => this.#accept(socket));
  }

  /** Binds the socket (replacing a stale one), mode 0600. */
  static async listen(options: WorkloadApiSocketOptions): Promise<WorkloadApiSocket> {
    const socket = new WorkloadApiSocket(options);
    await mkdir(dirname(options.path), { recursive: true, mode: 0o700 });
    await removeStale(options.path);
    await socket.#bind();
    return socket;
  }

  /** True once a workload has connected and gRPC is loaded. */
  get grpcLoaded(): boolean {
    return this.#grpc !== undefined;
  }

  /** Stops accepting, ends gRPC sessions within `graceMs`, removes the socket file. */
  async close(graceMs = 1_000): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    const deadline = Date.now() + graceMs;
    const grpc = await this.#grpc?.catch(() => undefined);
    await grpc?.close(graceMs);
    // Sessions end their sockets gracefully (the last status still in flight): let them
    // flush, and cut only what is left at the deadline (a client that ignores GOAWAY).
    for (let wait = 5; this.#connections.size > 0 && Date.now() < deadline; wait *= 2)
      await new Promise((r) => setTimeout(r, Math.min(wait, deadline - Date.now())));
    for (const c of this.#connections) c.destroy();
    await closed;
    await rm(this.path, { force: true });
  }

  async #bind(): Promise<void> {
    const previous = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        this.#server.once("error", reject);
        this.#server.listen(this.path, () => {
          this.#server.off("error", reject);
          resolve();
        });
      });
    } finally {
      process.umask(previous);
    }
    await chmod(this.path, 0o600);
  }

  #accept(socket: Socket): void {
    this.#connections.add(socket);
    socket.once("close", () => this.#connections.delete(socket));
    this.#grpc ??= (this.#options.loadGrpc ?? defaultLoader)().then((create) =>
      create(this.#options.manager, this.#log),
    );
    this.#grpc.then(
      (grpc) => {
        grpc.inject(socket);
        // Accepted paused (pauseOnConnect); the HTTP/2 session reads only once resumed.
        socket.resume();
      },
      (error) => {
        this.#log.log("error", "Workload API: loading gRPC failed", errorFields(error));
        socket.destroy();
      },
    );
  }
}

async function defaultLoader() {
  return (await import("./grpc-server.js")).createWorkloadGrpcServer;
}

/** Removes a socket file nobody listens on; refuses a live socket and any other file. */
async function removeStale(path: string): Promise<void> {
  let kind: "socket" | "other";
  try {
    kind = (await lstat(path)).isSocket() ? "socket" : "other";
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  if (kind === "other")
    throw new BridgeError("config_invalid", `${path} exists and is not a socket: not replacing it`);
  if (await answers(path)) throw new BridgeError("config_invalid", `${path} is in use by another process`);
  await rm(path, { force: true });
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
}
