/**
 * Where `--out` writes, checked before anything is requested or read: a path that cannot
 * take the output is a usage error (exit 1) at once, not an SVID issued, audited and
 * thrown away. "Can take" is tried, not guessed: a probe directory is made and removed
 * (permission bits say nothing for root, nor for /proc or a read-only mount).
 *
 * Directories are made one level at a time: Node's recursive mkdir never returns on
 * /proc (it retries the parent forever).
 */
import { mkdir, mkdtemp, rmdir, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { UsageError } from "./exit-codes.js";

type Kind = "dir" | "other" | "none";

async function kindOf(path: string): Promise<Kind> {
  try {
    return (await stat(path)).isDirectory() ? "dir" : "other";
  } catch (error) {
    // ENOTDIR: a file on the way; the walk upward finds and names it.
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return "none";
    throw new UsageError(`cannot use ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

/** Creates and removes an entry in `dir`: the one proof that files can be made there. */
async function probeWritable(dir: string, flag: string): Promise<void> {
  try {
    await rmdir(await mkdtemp(join(dir, ".svid-bridge-probe-")));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new UsageError(`${flag}: cannot write in ${dir} (${code})`);
  }
}

/**
 * Makes `path` a directory the CLI can write files into: an existing, writable
 * directory, or one made (mode 0700) under the nearest existing, writable ancestor.
 * Returns the absolute path.
 */
export async function prepareOutDir(path: string, flag = "--out"): Promise<string> {
  const target = resolve(path);
  const missing: string[] = [];
  let existing = target;
  for (let kind = await kindOf(existing); kind !== "dir"; kind = await kindOf(existing)) {
    if (kind === "other")
      throw new UsageError(
        existing === target
          ? `${flag} ${path} is a file, not a directory`
          : `${flag} ${path}: ${existing} is not a directory`,
      );
    missing.unshift(existing);
    existing = dirname(existing);
  }
  await probeWritable(existing, flag);
  for (const dir of missing)
    await mkdir(dir, { mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "EEXIST") throw new UsageError(`${flag}: cannot make ${dir} (${error.code})`);
    });
  return target;
}

/** A file the CLI will write: not a directory, in an existing directory it can write to. */
export async function checkOutFile(path: string, flag = "--out"): Promise<string> {
  const target = resolve(path);
  if ((await kindOf(target)) === "dir") throw new UsageError(`${flag} ${path} is a directory, not a file`);
  const parent = dirname(target);
  const parentKind = await kindOf(parent);
  if (parentKind !== "dir")
    throw new UsageError(
      `${flag} ${path}: ${parent} ${parentKind === "none" ? "does not exist" : "is not a directory"}`,
    );
  await probeWritable(parent, flag);
  return target;
}
