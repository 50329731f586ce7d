/** The deployment choices shared by the construct, the policies and the CDK app's context. */
export const CA_MODES = ["intermediate", "direct"] as const;
export type CaMode = (typeof CA_MODES)[number];

export const KEY_MANAGER_MODES = ["kms", "kms-wrapped"] as const;
export type KeyManagerMode = (typeof KEY_MANAGER_MODES)[number];

export const CREATE_PCA_TYPES = ["root", "subordinate"] as const;
export type CreatePcaType = (typeof CREATE_PCA_TYPES)[number];
