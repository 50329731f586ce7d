/** The deployment choices shared by the construct, the policies and the CDK app's context. */
export const CA_MODES = ["intermediate", "direct"] as const;
export type CaMode = (typeof CA_MODES)[number];

export const KEY_MANAGER_MODES = ["kms", "kms-wrapped"] as const;
export type KeyManagerMode = (typeof KEY_MANAGER_MODES)[number];

export const CREATE_PCA_TYPES = ["root", "subordinate"] as const;
export type CreatePcaType = (typeof CREATE_PCA_TYPES)[number];

/** What the Lambdas are told (SVID_BRIDGE_CA_MODE): `none` when the bridge has no PCA (JWT-SVIDs only). */
export type RuntimeCaMode = CaMode | "none";

/** ACM PCA signing algorithms, by the family of the signing CA's key. */
export const PCA_SIGNING_ALGORITHMS = [
  "SHA256WITHECDSA",
  "SHA384WITHECDSA",
  "SHA512WITHECDSA",
  "SHA256WITHRSA",
  "SHA384WITHRSA",
  "SHA512WITHRSA",
] as const;
export type PcaSigningAlgorithm = (typeof PCA_SIGNING_ALGORITHMS)[number];
