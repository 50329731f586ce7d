/**
 * One `svid-bridge dev` per --data-dir: dynalite's LevelDB (and the key files) cannot be
 * shared, and a second process would fail deep inside dynalite. One per --env-out file
 * too: a second dev must not overwrite the first one's env file, nor remove it when it
 * stops. A lock file holding the owner's pid turns either into a clear refusal; a lock
 * whose process is gone (a crash, kill -9) is taken over.
 */
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BridgeError } from "../errors.js";

export const LOCK_FILE = "dev.lock";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, it is someone else's.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Takes the directory's lock; resolves the function that gives it back. */
export function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  return lockFile(
    join(dataDir, LOCK_FILE),
    (owner) =>
      `--data-dir ${dataDir} is in use by another svid-bridge dev (pid ${owner}): stop it, or use another directory`,
  );
}

/**
 * Takes the lock `path` (a file holding this pid, mode 0600); resolves the function that
 * gives it back. A live owner is refused with config_invalid and `inUse(owner pid)`.
 */
export async function lockFile(path: string, inUse: (owner: number) => string): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(path, `${process.pid}\n`, { flag: "wx", mode: 0o600 });
      return () => rm(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const owner = Number.parseInt(await readFile(path, "utf8").catch(() => ""), 10);
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner))
      throw new BridgeError("config_invalid", inUse(owner));
    await rm(path, { force: true }); // stale: its owner is gone
  }
  throw new BridgeError("config_invalid", `cannot take the lock file ${path}`);
}
