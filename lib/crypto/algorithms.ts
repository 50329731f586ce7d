/**
 * The signing algorithms the bridge can mint with, and how each maps onto node:crypto,
 * WebCrypto (for @peculiar/x509) and KMS. RS256 is first because KMS bills an RSA_2048
 * sign at a fifth of an ECC sign; ES256 is first-class for everything else.
 */
import { BridgeError } from "../errors.js";

export const SIGNING_ALGORITHMS = ["RS256", "ES256", "ES384"] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

/** Every algorithm JWT-SVID.md §3 allows a validator to accept. */
export const JWT_SVID_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "ES256",
  "ES384",
  "ES512",
  "PS256",
  "PS384",
  "PS512",
] as const;
export type JwtSvidAlgorithm = (typeof JWT_SVID_ALGORITHMS)[number];

export interface AlgorithmProfile {
  alg: SigningAlgorithm;
  /** node:crypto digest name. */
  hash: "sha256" | "sha384";
  kty: "RSA" | "EC";
  crv?: "P-256" | "P-384";
  /** Length in bytes of one ECDSA integer in the raw (IEEE P1363 / JOSE) form. */
  ecIntegerBytes?: number;
  /** WebCrypto algorithm used when @peculiar/x509 signs a certificate with this key. */
  webCrypto: { name: "RSASSA-PKCS1-v1_5"; hash: "SHA-256" } | { name: "ECDSA"; hash: "SHA-256" | "SHA-384" };
}

const PROFILES: Record<SigningAlgorithm, AlgorithmProfile> = {
  RS256: {
    alg: "RS256",
    hash: "sha256",
    kty: "RSA",
    webCrypto: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
  },
  ES256: {
    alg: "ES256",
    hash: "sha256",
    kty: "EC",
    crv: "P-256",
    ecIntegerBytes: 32,
    webCrypto: { name: "ECDSA", hash: "SHA-256" },
  },
  ES384: {
    alg: "ES384",
    hash: "sha384",
    kty: "EC",
    crv: "P-384",
    ecIntegerBytes: 48,
    webCrypto: { name: "ECDSA", hash: "SHA-384" },
  },
};

export function isSigningAlgorithm(value: unknown): value is SigningAlgorithm {
  return typeof value === "string" && (SIGNING_ALGORITHMS as readonly string[]).includes(value);
}

export function algorithmProfile(alg: SigningAlgorithm): AlgorithmProfile {
  const profile = PROFILES[alg];
  if (!profile) throw new BridgeError("config_invalid", `unsupported signing algorithm ${String(alg)}`);
  return profile;
}
