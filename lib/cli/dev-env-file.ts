/**
 * `svid-bridge dev --env-out FILE` (default .svid-bridge/env): the export lines, for
 * `source`. One dev per file: the file is claimed (FILE.lock holds the owner's pid)
 * before anything starts, so a second dev is refused, naming the first one's pid, and
 * never overwrites the first one's file or removes it when it stops. A lock left by a
 * crashed dev is taken over.
 */
import { rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { lockFile } from "../dev/data-dir-lock.js";
import { BridgeError } from "../errors.js";
import { UsageError } from "./exit-codes.js";
import { checkOutFile, prepareOutDir } from "./out-path.js";

export interface ClaimedEnvFile {
  path: string;
  /** Writes the lines (mode 0600). */
  write(text: string): Promise<void>;
  /** Removes the file and gives the claim back. */
  release(): Promise<void>;
}

export async function claimEnvFile(envOut: string): Promise<ClaimedEnvFile> {
  await prepareOutDir(dirname(envOut), "--env-out");
  const path = await checkOutFile(envOut, "--env-out");
  const unlock = await lockFile(
    `${path}.lock`,
    (owner) =>
      `--env-out ${envOut} belongs to another svid-bridge dev (pid ${owner}): stop it, or give this one its own file (--env-out PATH)`,
  ).catch((error: unknown) => {
    if (error instanceof BridgeError && error.code === "config_invalid") throw new UsageError(error.message);
    throw error;
  });
  return {
    path,
    write: (text) => writeFile(path, text, { mode: 0o600 }),
    async release() {
      await rm(path, { force: true });
      await unlock();
    },
  };
}
