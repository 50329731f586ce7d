/**
 * Files mode (spiffe-helper style), for programs that read PEM files or web-identity
 * token files: svid.pem (chain, leaf first), svid_key.pem (0600), bundle.pem, and the
 * JWT-SVID for one audience in every configured token file (AWS_WEB_IDENTITY_TOKEN_FILE,
 * AZURE_FEDERATED_TOKEN_FILE). Every write is a temp file in the same directory, then a
 * rename: a reader sees the old file or the new one, never half of one.
 */
import { randomBytes } from "node:crypto";
import { chmod, mkdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { JwtSvidView, SvidListener, X509SvidView } from "./svid-manager.js";

export const SVID_FILE = "svid.pem";
export const KEY_FILE = "svid_key.pem";
export const BUNDLE_FILE = "bundle.pem";

export interface FilesWriterOptions {
  /** PEM files go here when set. */
  dir?: string;
  /** Token files, each kept holding the JWT-SVID for its own audience. */
  tokenFiles: readonly { path: string; audience: string }[];
}

export async function writeFileAtomic(path: string, data: string, mode: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = join(dirname(path), `.${randomBytes(6).toString("hex")}.tmp`);
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

export class FilesWriter implements SvidListener {
  constructor(private readonly options: FilesWriterOptions) {}

  async x509Changed(svid: X509SvidView): Promise<void> {
    const dir = this.options.dir;
    if (!dir) return;
    // Key first: a reader that sees the new certificate finds its key already there.
    await writeFileAtomic(join(dir, KEY_FILE), svid.privateKeyPem, 0o600);
    await writeFileAtomic(join(dir, SVID_FILE), svid.certificateChainPem, 0o644);
    await writeFileAtomic(join(dir, BUNDLE_FILE), svid.bundlePem, 0o644);
  }

  async jwtChanged(svid: JwtSvidView): Promise<void> {
    const files = this.options.tokenFiles.filter((f) => f.audience === svid.audience);
    await Promise.all(files.map((f) => writeFileAtomic(f.path, svid.token, 0o600)));
  }

  /** SHUTDOWN: the key and the bearer tokens go; certificates are public. */
  async remove(): Promise<void> {
    const paths = this.options.tokenFiles.map((f) => f.path);
    if (this.options.dir) paths.push(join(this.options.dir, KEY_FILE), join(this.options.dir, SVID_FILE));
    await Promise.all(paths.map((p) => rm(p, { force: true })));
  }
}
