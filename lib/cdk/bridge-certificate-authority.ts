/**
 * An ACM Private CA made for the bridge, when the organisation has none to import.
 *
 * - `root`: a self-signed root in GENERAL_PURPOSE mode (its own certificate must outlive
 *   the 7-day ceiling of short-lived mode). About US$ 400 a month.
 * - `subordinate`: signed by an existing PCA (the organisation's root, say). Its usage mode
 *   follows its place in the hierarchy, because AWS allows a SHORT_LIVED_CERTIFICATE CA only
 *   as the last CA of a hierarchy (it may not sign CA certificates):
 *   - direct mode: it issues the leaves itself, so it is the last CA: SHORT_LIVED_CERTIFICATE
 *     (every leaf ≤ 7 days; about US$ 50 a month), path length 0;
 *   - intermediate mode: it signs the bridge's own intermediate CA, so it is not the last CA:
 *     GENERAL_PURPOSE (about US$ 400 a month), path length 1.
 *   Its certificate is signed by the parent, with the parent's key family:
 *   `parentSigningAlgorithm` (SHA256WITHRSA for an RSA parent).
 */
import { Duration, type RemovalPolicy, Stack } from "aws-cdk-lib";
import * as acmpca from "aws-cdk-lib/aws-acmpca";
import { Construct } from "constructs";
import { BridgeConfigError } from "./check-props.js";
import {
  type CaMode,
  type CreatePcaType,
  PCA_SIGNING_ALGORITHMS,
  type PcaSigningAlgorithm,
} from "./options.js";

export interface CreatePcaOptions {
  type: CreatePcaType;
  /**
   * The CA's subject common name.
   * @default `SVID Bridge <trust domain> root CA` or `… issuing CA`
   */
  commonName?: string;
  /**
   * The CA's subject organisation.
   * @default "SVID Bridge"
   */
  organization?: string;
  /** `subordinate` only: the ARN of the PCA that signs this CA's certificate. */
  parentCaArn?: string;
  /** `subordinate` only: PEM of the parent's certificate chain (the parent first, its root last). */
  parentCertificateChainPem?: string;
  /**
   * `subordinate` only: the algorithm the parent signs this CA's certificate with. It must
   * be of the parent's key family (ECDSA for an EC parent, RSA for an RSA one).
   * @default "SHA256WITHECDSA"
   */
  parentSigningAlgorithm?: PcaSigningAlgorithm;
  /**
   * Validity of the CA's own certificate.
   * @default 10 years for a root, 5 years for a subordinate
   */
  validity?: Duration;
}

export interface BridgeCertificateAuthorityProps extends CreatePcaOptions {
  trustDomain: string;
  caMode: CaMode;
  removalPolicy: RemovalPolicy;
}

const KEY_ALGORITHM = "EC_prime256v1";
/** The bridge CA's own key is EC P-256: what it signs, it signs with ECDSA. */
const SIGNING_ALGORITHM = "SHA256WITHECDSA";

/** GENERAL_PURPOSE unless the CA is the last of the hierarchy (see the module comment). */
export function usageModeFor(
  type: CreatePcaType,
  caMode: CaMode,
): "GENERAL_PURPOSE" | "SHORT_LIVED_CERTIFICATE" {
  return type === "subordinate" && caMode === "direct" ? "SHORT_LIVED_CERTIFICATE" : "GENERAL_PURPOSE";
}

export class BridgeCertificateAuthority extends Construct {
  readonly arn: string;
  /** Issuing before activation fails: whatever issues at deploy time depends on this. */
  readonly activation: acmpca.CfnCertificateAuthorityActivation;

  constructor(scope: Construct, id: string, props: BridgeCertificateAuthorityProps) {
    super(scope, id);
    const root = props.type === "root";
    if (!root && (!props.parentCaArn || !props.parentCertificateChainPem))
      throw new BridgeConfigError(
        "createPca subordinate needs parentCaArn and parentCertificateChainPem (context: parentPcaArn and parentCaChainFile)",
      );
    const parentSigning = props.parentSigningAlgorithm ?? SIGNING_ALGORITHM;
    if (!(PCA_SIGNING_ALGORITHMS as readonly string[]).includes(parentSigning))
      throw new BridgeConfigError(
        `parentSigningAlgorithm must be one of ${PCA_SIGNING_ALGORITHMS.join(", ")}, not ${parentSigning}`,
      );
    const template = (name: string) => `arn:${Stack.of(this).partition}:acm-pca:::template/${name}/V1`;

    const ca = new acmpca.CfnCertificateAuthority(this, "Authority", {
      type: root ? "ROOT" : "SUBORDINATE",
      keyAlgorithm: KEY_ALGORITHM,
      signingAlgorithm: SIGNING_ALGORITHM,
      usageMode: usageModeFor(props.type, props.caMode),
      subject: {
        commonName: props.commonName ?? `SVID Bridge ${props.trustDomain} ${root ? "root" : "issuing"} CA`,
        organization: props.organization ?? "SVID Bridge",
      },
    });
    ca.applyRemovalPolicy(props.removalPolicy);

    const days = (props.validity ?? Duration.days(root ? 3650 : 1825)).toDays();
    const certificate = new acmpca.CfnCertificate(this, "Certificate", {
      certificateAuthorityArn: root ? ca.attrArn : props.parentCaArn!,
      certificateSigningRequest: ca.attrCertificateSigningRequest,
      // A root signs its own certificate; a subordinate's is signed by its parent's key.
      signingAlgorithm: root ? SIGNING_ALGORITHM : parentSigning,
      templateArn: root
        ? template("RootCACertificate")
        : template(
            props.caMode === "intermediate"
              ? "SubordinateCACertificate_PathLen1"
              : "SubordinateCACertificate_PathLen0",
          ),
      validity: { type: "DAYS", value: days },
    });

    this.activation = new acmpca.CfnCertificateAuthorityActivation(this, "Activation", {
      certificateAuthorityArn: ca.attrArn,
      certificate: certificate.attrCertificate,
      status: "ACTIVE",
      ...(!root && { certificateChain: props.parentCertificateChainPem! }),
    });
    this.arn = ca.attrArn;
  }
}
