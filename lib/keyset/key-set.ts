/**
 * The key set: every JWT signing key the bridge publishes, and the X.509 authority the
 * exchange issues leaves with. It changes only as a whole, through a KeySetStore's
 * conditional write, and every change raises `sequence` (published as the bundle's
 * `spiffe_sequence`, and the optimistic-lock version of the set).
 *
 * Timestamps are integer seconds since the epoch: the rotation does arithmetic on them
 * and the documents served publish integers.
 */
import type { JWK } from "jose";
import type { SigningAlgorithm } from "../crypto/algorithms.js";
import { BridgeError } from "../errors.js";

export type JwtKeyState = "prepared" | "active" | "retired";

export interface JwtSigningKey {
  /** RFC 7638 thumbprint of the public key: the published `kid`. */
  kid: string;
  /** The KeyManager's handle (KMS key ARN, local id). Never published. */
  keyId: string;
  alg: SigningAlgorithm;
  /** Public parameters only. */
  jwk: JWK;
  state: JwtKeyState;
  createdAt: number;
  /** A prepared key may not become active before this instant (it is published from createdAt). */
  activateAfter: number;
  activatedAt?: number;
  retiredAt?: number;
  /** A retired key is published until then: every token it signed has expired by then. */
  publishUntil?: number;
}

/** The X.509 side the exchange reads in intermediate mode. */
export interface X509AuthorityRecord {
  /** The intermediate CA certificate that signs leaves (PEM). */
  certificatePem: string;
  /** Certificates between the intermediate and the trust anchor, excluding both (PEM, may be ""). */
  chainPem: string;
  /** The KeyManager's handle for the intermediate's private key. Never published. */
  keyId: string;
  /** The roots relying parties trust: the bundle's X.509 authorities (PEM). */
  trustAnchorsPem: string;
  notBefore: number;
  notAfter: number;
}

export interface KeySet {
  /** 0 for a set never written; +1 on every write. */
  sequence: number;
  jwtKeys: JwtSigningKey[];
  x509?: X509AuthorityRecord;
  updatedAt: number;
}

export const EMPTY_KEY_SET: Readonly<KeySet> = Object.freeze({ sequence: 0, jwtKeys: [], updatedAt: 0 });

export function activeKey(set: KeySet): JwtSigningKey | undefined {
  return set.jwtKeys.find((k) => k.state === "active");
}

export function preparedKeys(set: KeySet): JwtSigningKey[] {
  return set.jwtKeys.filter((k) => k.state === "prepared");
}

/**
 * The invariants every stored set keeps; a store refuses to write a set that breaks them,
 * so no code path (rotation, CLI, a bug) can publish two active keys.
 */
export function assertKeySetInvariants(set: KeySet): void {
  const fail = (message: string): never => {
    throw new BridgeError("internal_error", `key set invariant broken: ${message}`);
  };
  if (!Number.isSafeInteger(set.sequence) || set.sequence < 0)
    fail("sequence must be a non-negative integer");
  const active = set.jwtKeys.filter((k) => k.state === "active");
  if (active.length > 1) fail(`${active.length} active keys`);
  const kids = new Set<string>();
  const keyIds = new Set<string>();
  for (const k of set.jwtKeys) {
    if (!k.kid || !k.keyId) fail("a key has no kid or keyId");
    if (kids.has(k.kid)) fail(`kid ${k.kid} appears twice`);
    if (keyIds.has(k.keyId)) fail(`keyId ${k.keyId} appears twice`);
    kids.add(k.kid);
    keyIds.add(k.keyId);
    if (k.state === "active" && k.activatedAt === undefined) fail(`active key ${k.kid} has no activatedAt`);
    if (k.state === "retired" && (k.retiredAt === undefined || k.publishUntil === undefined))
      fail(`retired key ${k.kid} has no retiredAt or publishUntil`);
    if ("d" in k.jwk) fail(`key ${k.kid} carries private parameters`);
  }
}
