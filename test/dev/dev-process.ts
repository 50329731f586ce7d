/**
 * Runs `svid-bridge dev` as a real process (as a newcomer does) and reads its export
 * lines. No imports from lib/: the tests that use this talk to the bridge over HTTP and
 * through the CLI only.
 */

import { type ChildProcess, execFile, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { PATH_WITH_THIS_NODE } from "../support/this-node.js";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const BIN = fileURLToPath(new URL("../../bin/svid-bridge.js", import.meta.url));

/** The environment a fresh shell has: no AWS config of the operator's leaks in. */
export const CLEAN_ENV: Record<string, string> = {
  PATH: PATH_WITH_THIS_NODE,
  HOME: process.env.HOME ?? "",
  AWS_CONFIG_FILE: "/dev/null",
  AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
  AWS_EC2_METADATA_DISABLED: "true",
  NODE_NO_WARNINGS: "1",
};

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** One `svid-bridge` command as a process, from the project root, in CLEAN_ENV plus `env`. */
export function runSvidBridge(args: string[], env: Record<string, string | undefined> = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: ROOT, env: { ...CLEAN_ENV, ...env }, timeout: 60_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === "number" ? error.code : -1) : 0, stdout, stderr }),
    );
  });
}

export interface RunningDev {
  env: Record<string, string>;
  stdout: string;
  stderr(): string;
  /** SIGINT, as Ctrl-C; resolves the exit code. */
  stop(): Promise<number | null>;
  child: ChildProcess;
}

/** Parses `export NAME='value'` lines (the format dev prints). */
export function parseExports(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^export ([A-Z_][A-Z0-9_]*)='(.*)'$/.exec(line);
    if (m) env[m[1]!] = m[2]!.replaceAll(`'\\''`, "'");
  }
  return env;
}

export function startDev(args: string[], options: { cwd?: string } = {}): Promise<RunningDev> {
  const child = spawn(process.execPath, [BIN, "dev", ...args], {
    cwd: options.cwd ?? ROOT,
    env: CLEAN_ENV,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stderr!.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`svid-bridge dev did not print its environment in time:\n${stderr}`));
    }, 60_000);
    const early = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`svid-bridge dev exited (${code}) before it was ready:\n${stderr}`));
    };
    child.once("exit", early);
    child.stdout!.on("data", (c: Buffer) => {
      stdout += c.toString();
      if (!stdout.includes("SVID_BRIDGE_DEV_TOKEN=")) return;
      clearTimeout(timer);
      child.off("exit", early);
      resolve({
        env: parseExports(stdout),
        stdout,
        stderr: () => stderr,
        child,
        stop: async () => {
          if (child.exitCode === null) child.kill("SIGINT");
          return exited;
        },
      });
    });
  });
}
