/**
 * Files mode (spiffe-helper style), for programs that read PEM files or web-identity
 * token files: svid.pem (chain, leaf first), svid_key.pem (0600), bundle.pem, and the
 * JWT-SVID for one audience in every configured token file (AWS_WEB_IDENTITY_TOKEN_FILE,
 * AZURE_FEDERATED_TOKEN_FILE).
 *
 * The PEM files are swapped as one generation, the way Kubernetes' AtomicWriter updates
 * projected volumes (issue 14, fault 4: renaming the key and then the certificate let a
 * reader pair a new key with an old certificate, and a failed second write left it so):
 *
 *   DIR/..<time>-<random>/{svid.pem,svid_key.pem,bundle.pem}   one directory per generation
 *   DIR/..data -> ..<time>-<random>                            swapped by one rename(2)
 *   DIR/svid.pem -> ..data/svid.pem  (and the other two)       stable names, made once
 *
 * A generation is complete before `..data` points at it, so each name always resolves to
 * a file of the current generation or of the one before; a reader that resolves `..data`
 * once (realpath) reads a matching key and certificate. The previous generation is kept
 * until the next swap so such a reader can finish; older ones are removed. Token files
 * are single files: a temp file in the same directory, then a rename.
 */
import { randomBytes } from "node:crypto";
import { chmod, mkdir, readdir, readFile, readlink, rename, rm, symlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { JwtSvidView, SvidListener, X509SvidView } from "./svid-manager.js";

export const SVID_FILE = "svid.pem";
export const KEY_FILE = "svid_key.pem";
export const BUNDLE_FILE = "bundle.pem";
/** The symlink naming the current generation directory. */
export const DATA_LINK = "..data";
const STABLE = [SVID_FILE, KEY_FILE, BUNDLE_FILE] as const;

export interface FilesWriterOptions {
  /** PEM files go here when set. */
  dir?: string;
  /** Token files, each kept holding the JWT-SVID for its own audience. */
  tokenFiles: readonly { path: string; audience: string }[];
}

const tmpName = (dir: string) => join(dir, `.${randomBytes(6).toString("hex")}.tmp`);

export async function writeFileAtomic(path: string, data: string, mode: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = tmpName(dirname(path));
  try {
    // mode applies at creation; chmod again in case the umask narrowed or widened it.
    await writeFile(tmp, data, { mode, flag: "wx" });
    await chmod(tmp, mode);
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

/** Points `path` at `target` with one rename: a reader finds the old link or the new one. */
async function symlinkAtomic(target: string, path: string): Promise<void> {
  const tmp = tmpName(dirname(path));
  try {
    await symlink(target, tmp);
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

async function linkTarget(path: string): Promise<string | undefined> {
  try {
    return await readlink(path);
  } catch {
    return undefined; // absent, or a regular file from an older release
  }
}

const isGeneration = (name: string) => name.startsWith("..") && name !== DATA_LINK && !name.endsWith(".tmp");

export class FilesWriter implements SvidListener {
  // x509Changed and remove run one at a time: two swaps never interleave.
  #queue: Promise<unknown> = Promise.resolve();
  // Set by remove(): a refresh that finishes after SHUTDOWN must not write a key again.
  #closed = false;

  constructor(private readonly options: FilesWriterOptions) {}

  x509Changed(svid: X509SvidView): Promise<void> {
    const dir = this.options.dir;
    if (!dir || this.#closed) return Promise.resolve();
    return this.#serial(() => (this.#closed ? Promise.resolve() : this.#swap(dir, svid)));
  }

  async jwtChanged(svid: JwtSvidView): Promise<void> {
    if (this.#closed) return;
    const files = this.options.tokenFiles.filter((f) => f.audience === svid.audience);
    await Promise.all(files.map((f) => writeFileAtomic(f.path, svid.token, 0o600)));
  }

  /**
   * SHUTDOWN: the key and the bearer tokens go, in every generation; bundle.pem stays as a
   * plain file (trust anchors are public).
   */
  remove(): Promise<void> {
    this.#closed = true;
    return this.#serial(async () => {
      await Promise.all(this.options.tokenFiles.map((f) => rm(f.path, { force: true })));
      const dir = this.options.dir;
      if (!dir) return;
      const bundle = await readFile(join(dir, BUNDLE_FILE), "utf8").catch(() => undefined);
      await Promise.all([SVID_FILE, KEY_FILE, DATA_LINK].map((n) => rm(join(dir, n), { force: true })));
      if (bundle !== undefined) await writeFileAtomic(join(dir, BUNDLE_FILE), bundle, 0o644);
      await this.#removeGenerations(dir, new Set());
    });
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => {});
    return run;
  }

  async #swap(dir: string, svid: X509SvidView): Promise<void> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const previous = await linkTarget(join(dir, DATA_LINK));
    const generation = `..${Date.now()}-${randomBytes(4).toString("hex")}`;
    const path = join(dir, generation);
    try {
      await mkdir(path, { mode: 0o755 });
      await writeFileAtomic(join(path, KEY_FILE), svid.privateKeyPem, 0o600);
      await writeFileAtomic(join(path, SVID_FILE), svid.certificateChainPem, 0o644);
      await writeFileAtomic(join(path, BUNDLE_FILE), svid.bundlePem, 0o644);
    } catch (error) {
      await rm(path, { recursive: true, force: true }); // never swapped in: readers keep the old pair
      throw error;
    }
    await symlinkAtomic(generation, join(dir, DATA_LINK));
    for (const name of STABLE) {
      const target = join(DATA_LINK, name);
      if ((await linkTarget(join(dir, name))) !== target) await symlinkAtomic(target, join(dir, name));
    }
    await this.#removeGenerations(dir, new Set([generation, ...(previous ? [previous] : [])]));
  }

  async #removeGenerations(dir: string, keep: ReadonlySet<string>): Promise<void> {
    const names = await readdir(dir).catch(() => [] as string[]);
    await Promise.all(
      names
        .filter((n) => isGeneration(n) && !keep.has(n))
        .map((n) => rm(join(dir, n), { recursive: true, force: true })),
    );
  }
}
