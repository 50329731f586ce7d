/**
 * The Python Workload API client (workload_client.py) as a process: Debian's
 * python3-grpcio with stubs python3-grpc-tools compiles from the project's proto.
 * Under CI=true a missing python grpc is a failure, elsewhere a reported skip.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { protoPath } from "../../layers/extension/src/workload-api/grpc-server.js";

export const PYTHON = "/usr/bin/python3";
const SCRIPT = fileURLToPath(new URL("./workload_client.py", import.meta.url));

export function pythonGrpc(): { ok: true } | { ok: false; why: string } {
  try {
    execFileSync(PYTHON, ["-c", "import grpc, grpc_tools"], { stdio: "pipe" });
    return { ok: true };
  } catch (error) {
    return { ok: false, why: `python3-grpcio / python3-grpc-tools missing: ${(error as Error).message}` };
  }
}

/** Compiles workload.proto into a temp dir; returns the stubs' directory. */
export function compileStubs(): string {
  const out = mkdtempSync(join(tmpdir(), "svid-wl-stubs-"));
  const proto = protoPath();
  const dir = proto.slice(0, proto.lastIndexOf("/"));
  execFileSync(PYTHON, [
    "-m",
    "grpc_tools.protoc",
    `-I${dir}`,
    `--python_out=${out}`,
    `--grpc_python_out=${out}`,
    proto,
  ]);
  return out;
}

export interface PythonRun<T> {
  /** Resolves with the script's final `result`. */
  result: Promise<T>;
  /** Resolves when the script has printed this many stream messages. */
  messages(n: number): Promise<void>;
}

export function runPython<T>(stubs: string, socket: string, ...args: string[]): PythonRun<T> {
  const child = spawn(PYTHON, [SCRIPT, stubs, socket, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  let seen = 0;
  const waiters: { n: number; resolve: () => void }[] = [];
  child.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
    seen = (stdout.match(/"message": \d+/g) ?? []).length;
    for (const w of waiters.filter((x) => seen >= x.n)) w.resolve();
  });
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const result = new Promise<T>((resolve, reject) => {
    child.once("exit", (code) => {
      const last = stdout.trim().split("\n").at(-1) ?? "";
      try {
        resolve((JSON.parse(last) as { result: T }).result);
      } catch {
        reject(new Error(`workload_client.py exited ${code}:\n${stdout}\n${stderr}`));
      }
    });
  });
  return {
    result,
    messages: (n) =>
      seen >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve })),
  };
}
