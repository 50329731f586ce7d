/**
 * SPIFFE trust bundle (SPIFFE_Trust_Domain_and_Bundle.md §4): a JWK Set with
 * `x509-svid` entries (one CA certificate in `x5c`) and `jwt-svid` entries (`kid`
 * required), plus `spiffe_sequence` and `spiffe_refresh_hint`. The parser is as
 * strict as SPIRE's federation decoder, so what we accept SPIRE would accept too,
 * and what we serve SPIRE can read.
 */
import { createPublicKey } from "node:crypto";
import { exportJWK, type JWK } from "jose";
import { JWT_SVID_ALGORITHMS, type JwtSvidAlgorithm } from "../crypto/algorithms.js";
import { publicJwk } from "../crypto/public-key.js";
import { assertSoundPublicKey } from "../crypto/sound-key.js";
import { X509Certificate } from "../crypto/x509.js";
import { BridgeError } from "../errors.js";
import type { TrustDomain } from "./spiffe-id.js";

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

export interface TrustBundleInit {
  trustDomain: TrustDomain;
  x509Authorities?: X509Certificate[];
  jwtAuthorities?: JwtAuthority[];
  sequence?: number;
  refreshHintSeconds?: number;
}

function malformed(message: string): never {
  throw new BridgeError("bundle_malformed", message);
}

export class TrustBundle {
  readonly trustDomain: TrustDomain;
  readonly x509Authorities: readonly X509Certificate[];
  readonly jwtAuthorities: readonly JwtAuthority[];
  readonly sequence: number | undefined;
  readonly refreshHintSeconds: number | undefined;

  constructor(init: TrustBundleInit) {
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

  /** The SPIFFE bundle document (what a bundle endpoint serves). */
  async toDocument(): Promise<SpiffeBundleDocument> {
    const keys: JWK[] = [];
    for (const cert of this.x509Authorities) {
      const jwk = publicJwk(
        await exportJWK(
          createPublicKey({ key: Buffer.from(cert.publicKey.rawData), format: "der", type: "spki" }),
        ),
      );
      keys.push({ ...jwk, use: "x509-svid", x5c: [Buffer.from(cert.rawData).toString("base64")] });
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
      .map((c) => c.toString("pem"))
      .join("\n")
      .concat(this.x509Authorities.length ? "\n" : "");
  }

  /** Parses a SPIFFE bundle document for `trustDomain`, rejecting what SPIRE's decoder rejects. */
  static async parse(trustDomain: TrustDomain, input: unknown): Promise<TrustBundle> {
    let doc: unknown = input;
    if (typeof input === "string" || input instanceof Uint8Array) {
      try {
        doc = JSON.parse(typeof input === "string" ? input : Buffer.from(input).toString("utf8"));
      } catch (cause) {
        throw new BridgeError("bundle_malformed", "bundle is not valid JSON", { cause });
      }
    }
    if (typeof doc !== "object" || doc === null || Array.isArray(doc))
      malformed("bundle must be a JSON object");
    const obj = doc as Record<string, unknown>;
    if (!Array.isArray(obj.keys)) malformed("bundle has no 'keys' array");
    const seq = obj.spiffe_sequence;
    if (seq !== undefined && !(Number.isSafeInteger(seq) && (seq as number) >= 0))
      malformed("spiffe_sequence must be a non-negative integer");
    const hint = obj.spiffe_refresh_hint;
    if (hint !== undefined && !(Number.isSafeInteger(hint) && (hint as number) >= 0))
      malformed("spiffe_refresh_hint must be a non-negative integer");

    const x509Authorities: X509Certificate[] = [];
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
        let cert: X509Certificate;
        try {
          cert = new X509Certificate(Buffer.from(key.x5c[0], "base64"));
        } catch (cause) {
          throw new BridgeError("bundle_malformed", `keys[${i}] x5c is not a certificate`, { cause });
        }
        const certKey = createPublicKey({
          key: Buffer.from(cert.publicKey.rawData),
          format: "der",
          type: "spki",
        });
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
    return new TrustBundle({
      trustDomain,
      x509Authorities,
      jwtAuthorities,
      ...(seq !== undefined && { sequence: seq as number }),
      ...(hint !== undefined && { refreshHintSeconds: hint as number }),
    });
  }
}

/** A set of bundles, one per trust domain; never merged across domains. */
export class BundleSet {
  readonly #byDomain = new Map<string, TrustBundle>();
  constructor(bundles: Iterable<TrustBundle> = []) {
    for (const b of bundles) this.#byDomain.set(b.trustDomain.name, b);
  }
  get(td: TrustDomain): TrustBundle | undefined {
    return this.#byDomain.get(td.name);
  }
  [Symbol.iterator](): Iterator<TrustBundle> {
    return this.#byDomain.values();
  }
}
