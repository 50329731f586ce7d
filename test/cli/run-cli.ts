/** Runs `node bin/svid-bridge.js` as a real process (async: dynalite serves from this one). */

import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { PATH_WITH_THIS_NODE } from "../support/this-node.js";

const BIN = fileURLToPath(new URL("../../bin/svid-bridge.js", import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], env: Record<string, string> = {}, stdin?: string): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      {
        env: {
          PATH: PATH_WITH_THIS_NODE,
          HOME: process.env.HOME ?? "",
          // Keep the operator's real AWS config out of the test.
          AWS_CONFIG_FILE: "/dev/null",
          AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
          AWS_EC2_METADATA_DISABLED: "true",
          NODE_NO_WARNINGS: "1",
          ...env,
        },
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        const code = error && typeof error.code === "number" ? error.code : error ? -1 : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (stdin !== undefined) child.stdin?.end(stdin);
    else child.stdin?.end();
  });
}
