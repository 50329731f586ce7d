/**
 * The outside verifiers and servers that conformance tests run against (openssl, Debian's
 * python3 with PyJWT, Java for DynamoDB Local). On a developer's machine a missing tool
 * skips the tests that need it; under `CI=true` it fails the run instead, so a green CI
 * always means every conformance target ran (issue 17).
 */
import { spawnSync } from "node:child_process";

export interface ConformanceTool {
  /** Shown in the failure: what is missing and how CI installs it. */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
}

export const OPENSSL: ConformanceTool = {
  name: "openssl (Debian: openssl)",
  command: "openssl",
  args: ["version"],
};
export const PYJWT: ConformanceTool = {
  name: "Debian's python3 with PyJWT and cryptography (python3-jwt, python3-cryptography)",
  command: "/usr/bin/python3",
  args: ["-c", "import jwt, cryptography"],
};
export const JAVA: ConformanceTool = {
  name: "Java 17+ (openjdk-17-jre-headless)",
  command: "java",
  args: ["-version"],
};

const seen = new Map<ConformanceTool, boolean>();

/** Whether `tool` runs here, probed once per process. */
export function probeTool(tool: ConformanceTool): boolean {
  let ok = seen.get(tool);
  if (ok === undefined) {
    const run = spawnSync(tool.command, [...tool.args], { stdio: "ignore" });
    ok = run.error === undefined && run.status === 0;
    seen.set(tool, ok);
  }
  return ok;
}

/**
 * True when `tool` is available. False when it is not and the run is local; throws
 * when it is not and `env.CI` is "true" (or "1"), naming the tool.
 */
export function requireTool(tool: ConformanceTool, env: NodeJS.ProcessEnv = process.env): boolean {
  if (probeTool(tool)) return true;
  if (env.CI === "true" || env.CI === "1") {
    throw new Error(`conformance tool missing under CI: ${tool.name}; .ci/run installs it`);
  }
  return false;
}
