/**
 * SPIFFE trust bundle (SPIFFE_Trust_Domain_and_Bundle.md §4): a JWK Set with
 * `x509-svid` entries (one CA certificate in `x5c`) and `jwt-svid` entries (`kid`
 * required), plus `spiffe_sequence` and `spiffe_refresh_hint`. The parser is as
 * strict as SPIRE's federation decoder, so what we accept SPIRE would accept too,
 * and what we serve SPIRE can read.
 *
 * The X.509 authorities' type is a parameter: the bridge holds @peculiar/x509
 * certificates (chain validation reads them; lib/spiffe/parse-trust-bundle.ts), the
 * extension and the in-process client `DerCertificate`s, read by node:crypto. This module
 * needs only the DER of each and never names @peculiar/x509, not even in a dynamic import:
 * a function's single-file bundle (CDK's NodejsFunction, SAM) would hold all 364 KiB of it.
 */
import { createPublicKey, type KeyObject, X509Certificate as NodeX509Certificate } from "node:crypto";
import { exportJWK, type JWK } from "jose";
import { JWT_SVID_ALGORITHMS, type JwtSvidAlgorithm } from "../crypto/algorithms.js";
import { writePem } from "../crypto/pem.js";
import { publicJwk } from "../crypto/public-key.js";
import { assertSoundPublicKey } from "../crypto/sound-key.js";
import type { X509Certificate } from "../crypto/x509.js";
import { BridgeError } from "../errors.js";
import { findDuplicateMember } from "../strict-json.js";
import type { TrustDomain } from "./spiffe-id.js";

/** What a bundle needs of an X.509 authority: its DER (`rawData`). */
export interface X509Authority {
  readonly rawData: ArrayBuffer;
}

/** Reads one DER certificate (an `x5c` entry) into the bundle's certificate type; throws when it is none. */
export type CertificateReader<C extends X509Authority> = (der: Uint8Array) => C;

/**
 * A CA certificate read by node:crypto (OpenSSL): its DER and public key. Refused (throws)
 * when the bytes are not exactly one DER certificate: trailing bytes or a non-canonical
 * encoding (the DER OpenSSL writes back differs from what was read) are refused too.
 */
export class DerCertificate implements X509Authority {
  readonly rawData: ArrayBuffer;
  readonly publicKey: KeyObject;

  constructor(der: Uint8Array) {
    const input = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
    if (input[0] !== 0x30) throw new TypeError("not a DER certificate (no SEQUENCE)");
    const cert = new NodeX509Certificate(input);
    if (!cert.raw.equals(input)) throw new TypeError("not exactly one DER certificate");
    this.rawData = new Uint8Array(cert.raw).buffer;
    this.publicKey = cert.publicKey;
  }
}

/** The CertificateReader of `DerCertificate`s (node:crypto alone): what the extension uses. */
export const readDerCertificate: CertificateReader<DerCertificate> = (der) => new DerCertificate(der);

export interface JwtAuthority {
  kid: string;
  /** Public parameters only. */
  jwk: JWK;
  /** The algorithm tokens signed by this key use; published as `alg` in the OIDC JWKS. */
  alg?: JwtSvidAlgorithm;
}

export interface SpiffeBundleDocument {
  spiffe_sequence?: number;
  spiffe_refresh_hint?: number;
  keys: JWK[];
}

export interface TrustBundleInit<C extends X509Authority = X509Certificate> {
  trustDomain: TrustDomain;
  x509Authorities?: C[];
  jwtAuthorities?: JwtAuthority[];
  sequence?: number;
  refreshHintSeconds?: number;
}

function malformed(message: string): never {
  throw new BridgeError("bundle_malformed", message);
}

export class TrustBundle<C extends X509Authority = X509Certificate> {
  readonly trustDomain: TrustDomain;
  readonly x509Authorities: readonly C[];
  readonly jwtAuthorities: readonly JwtAuthority[];
  readonly sequence: number | undefined;
  readonly refreshHintSeconds: number | undefined;
  /** toDocument's answer, built on first use. */
  #document: Promise<SpiffeBundleDocument> | undefined;

  constructor(init: TrustBundleInit<C>) {
    this.trustDomain = init.trustDomain;
    this.x509Authorities = init.x509Authorities ?? [];
    this.jwtAuthorities = init.jwtAuthorities ?? [];
    this.sequence = init.sequence;
    this.refreshHintSeconds = init.refreshHintSeconds;
    const kids = new Set<string>();
    for (const a of this.jwtAuthorities) {
      if (!a.kid) malformed("a JWT authority has no kid");
      if (kids.has(a.kid)) malformed(`two JWT authorities share kid ${a.kid}`);
      kids.add(a.kid);
    }
  }

  findJwtAuthority(kid: string): JwtAuthority | undefined {
    return this.jwtAuthorities.find((a) => a.kid === kid);
  }

  /**
   * The SPIFFE bundle document (what a bundle endpoint serves). Built once per bundle
   * (a bundle does not change; the exchange hands one to every batch answer), and each
   * caller gets its own copy.
   */
  async toDocument(): Promise<SpiffeBundleDocument> {
    this.#document ??= this.#buildDocument();
    return structuredClone(await this.#document);
  }

  async #buildDocument(): Promise<SpiffeBundleDocument> {
    const keys: JWK[] = [];
    for (const cert of this.x509Authorities) {
      const der = Buffer.from(cert.rawData);
      const jwk = publicJwk(await exportJWK(new NodeX509Certificate(der).publicKey));
      keys.push({ ...jwk, use: "x509-svid", x5c: [der.toString("base64")] });
    }
    for (const a of this.jwtAuthorities) keys.push({ ...publicJwk(a.jwk), use: "jwt-svid", kid: a.kid });
    const doc: SpiffeBundleDocument = { keys };
    if (this.sequence !== undefined) doc.spiffe_sequence = this.sequence;
    if (this.refreshHintSeconds !== undefined) doc.spiffe_refresh_hint = this.refreshHintSeconds;
    // Key order: spiffe_* first, as the spec's examples show. JSON consumers do not care.
    return {
      ...(doc.spiffe_sequence !== undefined && { spiffe_sequence: doc.spiffe_sequence }),
      ...(doc.spiffe_refresh_hint !== undefined && { spiffe_refresh_hint: doc.spiffe_refresh_hint }),
      keys,
    };
  }

  /** X.509 authorities as concatenated PEM (bundle.pem). */
  toX509Pem(): string {
    return this.x509Authorities
      .map((c) => writePem("CERTIFICATE", new Uint8Array(c.rawData)).slice(0, -1))
      .join("\n")
      .concat(this.x509Authorities.length ? "\n" : "");
  }

  /**
   * Parses a SPIFFE bundle document (an object, or its JSON as text or bytes) for
   * `trustDomain`, rejecting what SPIRE's decoder rejects (BridgeError bundle_malformed),
   * with the X.509 authorities read by `read` (`readDerCertificate` here, node:crypto's;
   * `parseTrustBundle` in lib/spiffe/parse-trust-bundle.ts reads them as @peculiar/x509
   * certificates, for chain validation on the bridge's side).
   */
  static async parseWith<C extends X509Authority>(
    trustDomain: TrustDomain,
    input: unknown,
    read: CertificateReader<C>,
  ): Promise<TrustBundle<C>> {
    const obj = bundleObject(input);
    if (!Array.isArray(obj.keys)) malformed("bundle has no 'keys' array");
    const seq = obj.spiffe_sequence;
    if (seq !== undefined && !(Number.isSafeInteger(seq) && (seq as number) >= 0))
      malformed("spiffe_sequence must be a non-negative integer");
    const hint = obj.spiffe_refresh_hint;
    if (hint !== undefined && !(Number.isSafeInteger(hint) && (hint as number) >= 0))
      malformed("spiffe_refresh_hint must be a non-negative integer");

    const x509Authorities: C[] = [];
    const jwtAuthorities: JwtAuthority[] = [];
    for (const [i, raw] of (obj.keys as unknown[]).entries()) {
      if (typeof raw !== "object" || raw === null) malformed(`keys[${i}] is not an object`);
      const key = raw as JWK & { use?: unknown };
      if (key.kty !== "RSA" && key.kty !== "EC")
        malformed(`keys[${i}] has unsupported kty ${String(key.kty)}`);
      let keyObject: ReturnType<typeof createPublicKey>;
      try {
        keyObject = createPublicKey({
          key: publicJwk(key) as import("node:crypto").JsonWebKey,
          format: "jwk",
        });
      } catch (cause) {
        throw new BridgeError("bundle_malformed", `keys[${i}] is not a valid ${key.kty} public key`, {
          cause,
        });
      }
      assertSoundPublicKey(keyObject, "bundle_malformed", `keys[${i}]: `);
      if (key.use === "x509-svid") {
        if (!Array.isArray(key.x5c) || key.x5c.length !== 1 || typeof key.x5c[0] !== "string")
          malformed(`keys[${i}] (x509-svid) must carry exactly one certificate in x5c`);
        let cert: C;
        let certKey: KeyObject;
        try {
          cert = read(new Uint8Array(Buffer.from(key.x5c[0], "base64")));
          certKey =
            cert instanceof DerCertificate
              ? cert.publicKey
              : new NodeX509Certificate(Buffer.from(cert.rawData)).publicKey;
        } catch (cause) {
          throw new BridgeError("bundle_malformed", `keys[${i}] x5c is not a certificate`, { cause });
        }
        if (!certKey.equals(keyObject)) malformed(`keys[${i}] x5c certificate does not match the JWK`);
        x509Authorities.push(cert);
      } else if (key.use === "jwt-svid") {
        if (typeof key.kid !== "string" || key.kid === "") malformed(`keys[${i}] (jwt-svid) has no kid`);
        const alg =
          typeof key.alg === "string" && (JWT_SVID_ALGORITHMS as readonly string[]).includes(key.alg)
            ? (key.alg as JwtSvidAlgorithm)
            : undefined;
        jwtAuthorities.push({ kid: key.kid, jwk: publicJwk(key), ...(alg && { alg }) });
      } else {
        malformed(`keys[${i}] has missing or unknown use ${JSON.stringify(key.use)}`);
      }
    }
    return new TrustBundle<C>({
      trustDomain,
      x509Authorities,
      jwtAuthorities,
      ...(seq !== undefined && { sequence: seq as number }),
      ...(hint !== undefined && { refreshHintSeconds: hint as number }),
    });
  }
}

/** The bundle document as an object: parsed (strictly: no repeated member) when given as text or bytes. */
function bundleObject(input: unknown): Record<string, unknown> {
  let doc: unknown = input;
  if (typeof input === "string" || input instanceof Uint8Array) {
    const text = typeof input === "string" ? input : Buffer.from(input).toString("utf8");
    try {
      doc = JSON.parse(text);
    } catch (cause) {
      throw new BridgeError("bundle_malformed", "bundle is not valid JSON", { cause });
    }
    // A bundle read from outside is as strict as a token (issue 14, fault 6's kind).
    const repeated = findDuplicateMember(text);
    if (repeated !== undefined) malformed(`member ${JSON.stringify(repeated)} appears twice`);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc))
    malformed("bundle must be a JSON object");
  return doc as Record<string, unknown>;
}

/** A set of bundles, one per trust domain; never merged across domains. */
export class BundleSet<C extends X509Authority = X509Certificate> {
  readonly #byDomain = new Map<string, TrustBundle<C>>();
  constructor(bundles: Iterable<TrustBundle<C>> = []) {
    for (const b of bundles) this.#byDomain.set(b.trustDomain.name, b);
  }
  get(td: TrustDomain): TrustBundle<C> | undefined {
    return this.#byDomain.get(td.name);
  }
  [Symbol.iterator](): Iterator<TrustBundle<C>> {
    return this.#byDomain.values();
  }
}
