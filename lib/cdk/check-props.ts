/**
 * Synth-time checks of a bridge's configuration, run before any construct (and so before
 * any bundling): an invalid combination fails `cdk synth` with one line naming what to
 * change, instead of deploying something that fails at run time. Values that are tokens
 * (known only at deploy time) are not checked here.
 */
import { Token } from "aws-cdk-lib";
import type { RuntimeCaMode } from "./options.js";

/** A synth-time configuration error: bin/cdk-app.ts prints its message alone, no stack trace. */
export class BridgeConfigError extends Error {
  override readonly name = "BridgeConfigError";
}

const PARTITION = "aws(?:-cn|-us-gov|-iso|-iso-b|-iso-e|-iso-f|-eusc)?";
const REGION = "[a-z]{2}(?:-[a-z]+)+-\\d";

/** `arn:<partition>:acm-pca:<region>:<account>:certificate-authority/<uuid>` */
export const PCA_ARN = new RegExp(
  `^arn:${PARTITION}:acm-pca:${REGION}:\\d{12}:certificate-authority/[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}$`,
);
/** `arn:<partition>:acm:<region>:<account>:certificate/<uuid>` */
export const ACM_CERTIFICATE_ARN = new RegExp(
  `^arn:${PARTITION}:acm:${REGION}:\\d{12}:certificate/[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}$`,
);
/** Route 53 hosted zone IDs: `Z` and up to 31 upper-case letters and digits. */
export const HOSTED_ZONE_ID = /^Z[A-Z0-9]{1,31}$/;
/** AWS Organizations IDs: `o-` and 10 to 32 lower-case letters and digits. */
export const ORGANIZATION_ID = /^o-[a-z0-9]{10,32}$/;

/** Throws BridgeConfigError unless `value` (when given and not a token) matches `pattern`. */
export function checkFormat(what: string, value: string | undefined, pattern: RegExp, example: string): void {
  if (value === undefined || Token.isUnresolved(value) || pattern.test(value)) return;
  throw new BridgeConfigError(`${what} ${JSON.stringify(value)} is not valid: expected ${example}`);
}

export interface CaChoice {
  pcaArn?: string | undefined;
  createPca?: { type: string } | undefined;
  caMode?: string | undefined;
}

/**
 * The CA mode the Lambdas run in. No PCA (neither pcaArn nor createPca): `none`, JWT-SVIDs
 * only, and asking for a caMode then is an error (either mode needs a PCA).
 */
export function resolveCaMode(choice: CaChoice): RuntimeCaMode {
  if (choice.pcaArn && choice.createPca)
    throw new BridgeConfigError("give pcaArn (an existing PCA) or createPca (a new one), not both");
  checkFormat(
    "pcaArn",
    choice.pcaArn,
    PCA_ARN,
    "arn:aws:acm-pca:<region>:<account>:certificate-authority/<id>",
  );
  const hasPca = Boolean(choice.pcaArn || choice.createPca);
  if (!hasPca) {
    if (choice.caMode)
      throw new BridgeConfigError(
        `caMode ${choice.caMode} needs a PCA: add pcaArn or createPca, or drop caMode for a JWT-SVID-only bridge`,
      );
    return "none";
  }
  if (choice.caMode !== undefined && choice.caMode !== "intermediate" && choice.caMode !== "direct")
    throw new BridgeConfigError(`caMode must be intermediate or direct, not ${choice.caMode}`);
  return (choice.caMode as RuntimeCaMode | undefined) ?? "intermediate";
}

/** The relying parties whose limits a bridge can be checked against at synth. */
export const RELYING_PARTIES = ["aws", "gcp", "azure", "spire"] as const;
export type RelyingParty = (typeof RELYING_PARTIES)[number];

/**
 * What each relying party accepts of a JWT-SVID (docs/federation-*.md): the algorithms and
 * the longest lifetime (`exp - iat`, seconds). AWS IAM takes RS/ES 256-512; Google STS
 * takes RS256 and ES256 and wants `exp` less than 48 h after `iat`; Microsoft Entra ID
 * documents and tests RS256 and caps assertions at 25 h (we keep under, not at, each cap).
 */
export const RELYING_PARTY_LIMITS: Record<RelyingParty, { algs: readonly string[]; maxTtlSeconds: number }> =
  {
    aws: { algs: ["RS256", "ES256", "ES384"], maxTtlSeconds: 48 * 3600 },
    gcp: { algs: ["RS256", "ES256"], maxTtlSeconds: 48 * 3600 - 1 },
    azure: { algs: ["RS256"], maxTtlSeconds: 25 * 3600 },
    spire: { algs: ["RS256", "ES256", "ES384"], maxTtlSeconds: 48 * 3600 },
  };

/** Refuses a JWT algorithm or lifetime ceiling that a configured relying party would refuse. */
export function checkRelyingParties(
  parties: readonly string[],
  jwtAlg: string,
  maxJwtTtlSeconds: number,
): void {
  for (const party of parties) {
    const limits = RELYING_PARTY_LIMITS[party as RelyingParty];
    if (!limits)
      throw new BridgeConfigError(`relyingParties: ${party} is not one of ${RELYING_PARTIES.join(", ")}`);
    if (!limits.algs.includes(jwtAlg))
      throw new BridgeConfigError(
        `jwtAlg ${jwtAlg} is refused by ${party}, which accepts ${limits.algs.join(", ")}`,
      );
    if (maxJwtTtlSeconds > limits.maxTtlSeconds)
      throw new BridgeConfigError(
        `maxJwtTtl ${maxJwtTtlSeconds} s is longer than ${party} accepts (${limits.maxTtlSeconds} s)`,
      );
  }
}
