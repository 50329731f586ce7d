/**
 * KeyManager for `svid-bridge dev`: the keys are InMemoryKeyManager's, and with a data
 * directory each private key is also written there as PKCS#8 PEM (mode 0600, one file
 * per key, `<keyId>.<alg>.key.pem`) and loaded again at the next start, so the JWKS, the
 * root CA and every SVID issued before a restart stay valid. DEV ONLY: in AWS the keys
 * are in KMS and never touch a disk.
 */
import { createPrivateKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { algorithmProfile, isSigningAlgorithm, type SigningAlgorithm } from "../crypto/algorithms.js";
import { InMemoryKeyManager } from "../local/in-memory-key-manager.js";
import type { CreateKeyOptions, KeyManager, PublicKeyInfo } from "../ports/key-manager.js";

const KEY_FILE = /^([A-Za-z0-9-]{1,64})\.(RS256|ES256|ES384)\.key\.pem$/;

export class DevKeyManager implements KeyManager {
  readonly #keys = new InMemoryKeyManager();
  readonly #dir: string | undefined;

  private constructor(dir: string | undefined) {
    this.#dir = dir;
  }

  /** In memory only (no `dir`), or backed by `dir`, loading the keys already there. */
  static async open(dir?: string): Promise<DevKeyManager> {
    const manager = new DevKeyManager(dir);
    if (dir === undefined) return manager;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    for (const name of await readdir(dir)) {
      const m = KEY_FILE.exec(name);
      if (!m || !isSigningAlgorithm(m[2])) continue;
      const key = createPrivateKey(await readFile(join(dir, name), "utf8"));
      await manager.#keys.importKey(m[2], key, m[1]!);
    }
    return manager;
  }

  async createKey(alg: SigningAlgorithm, _options?: CreateKeyOptions): Promise<PublicKeyInfo> {
    const profile = algorithmProfile(alg);
    const { privateKey } =
      profile.kty === "RSA"
        ? generateKeyPairSync("rsa", { modulusLength: 2048 })
        : generateKeyPairSync("ec", { namedCurve: profile.crv === "P-256" ? "prime256v1" : "secp384r1" });
    const info = await this.#keys.importKey(alg, privateKey);
    if (this.#dir !== undefined) await this.#persist(info, privateKey);
    return info;
  }

  getPublicKey(keyId: string): Promise<PublicKeyInfo> {
    return this.#keys.getPublicKey(keyId);
  }

  sign(keyId: string, data: Uint8Array): Promise<Uint8Array> {
    return this.#keys.sign(keyId, data);
  }

  /** The rotation dropped the key: its file goes (the copy in memory is gone at the next start). */
  async scheduleDeletion(keyId: string): Promise<void> {
    if (this.#dir === undefined) return;
    const info = await this.#keys.getPublicKey(keyId).catch(() => undefined);
    if (info) await rm(join(this.#dir, `${keyId}.${info.alg}.key.pem`), { force: true });
  }

  async #persist(info: PublicKeyInfo, privateKey: KeyObject): Promise<void> {
    const pem = privateKey.export({ format: "pem", type: "pkcs8" }) as string;
    // wx: never overwrite; mode 0600 at creation, so the key is never readable by others.
    await writeFile(join(this.#dir!, `${info.keyId}.${info.alg}.key.pem`), pem, { mode: 0o600, flag: "wx" });
  }
}
