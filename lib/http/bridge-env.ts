/**
 * The variables more than one of the bridge's Lambdas read, each read one way (the
 * generic readers are ./env.ts). Every refusal is `config_invalid` naming the variable.
 */
import { checkCanonicalIssuer } from "../discovery/issuer-url.js";
import { TrustDomain } from "../spiffe/spiffe-id.js";
import { type Env, oneOf, optionalString, parsed, requiredString, requiredWhen } from "./env.js";

/** SVID_BRIDGE_CA_MODE: who signs X.509-SVIDs (`none`: JWT-SVIDs only). */
export const CA_MODES = ["intermediate", "direct", "none"] as const;
export type CaMode = (typeof CA_MODES)[number];

/** SVID_BRIDGE_TRUST_DOMAIN, required, parsed as a SPIFFE trust domain. */
export function trustDomainFrom(env: Env): TrustDomain {
  return parsed("SVID_BRIDGE_TRUST_DOMAIN", () =>
    TrustDomain.parse(requiredString(env, "SVID_BRIDGE_TRUST_DOMAIN")),
  );
}

/** SVID_BRIDGE_ISSUER, required: a canonical https issuer URL (lib/discovery/issuer-url.ts). */
export function issuerFrom(env: Env): string {
  const issuer = requiredString(env, "SVID_BRIDGE_ISSUER");
  parsed("SVID_BRIDGE_ISSUER", () => checkCanonicalIssuer(issuer));
  return issuer;
}

/** SVID_BRIDGE_KEY_SET_TABLE (required) and SVID_BRIDGE_KEY_SET_ID (default "default"). */
export function keySetLocationFrom(env: Env): { keySetTable: string; keySetId: string } {
  return {
    keySetTable: requiredString(env, "SVID_BRIDGE_KEY_SET_TABLE"),
    keySetId: optionalString(env, "SVID_BRIDGE_KEY_SET_ID") ?? "default",
  };
}

/** SVID_BRIDGE_CA_MODE, default `intermediate`. */
export function caModeFrom(env: Env): CaMode {
  return oneOf(env, "SVID_BRIDGE_CA_MODE", CA_MODES, "intermediate");
}

/** SVID_BRIDGE_PCA_ARN: required when `required` holds; `because` names the setting that requires it. */
export function pcaArnFrom(env: Env, required: boolean, because: string): string | undefined {
  return requiredWhen("SVID_BRIDGE_PCA_ARN", optionalString(env, "SVID_BRIDGE_PCA_ARN"), required, because);
}

/** SVID_BRIDGE_WRAPPING_KEY_ID: required when SVID_BRIDGE_KEY_MANAGER is kms-wrapped. */
export function wrappingKeyIdFrom(env: Env, keyManager: string): string | undefined {
  return requiredWhen(
    "SVID_BRIDGE_WRAPPING_KEY_ID",
    optionalString(env, "SVID_BRIDGE_WRAPPING_KEY_ID"),
    keyManager === "kms-wrapped",
    "SVID_BRIDGE_KEY_MANAGER=kms-wrapped",
  );
}
