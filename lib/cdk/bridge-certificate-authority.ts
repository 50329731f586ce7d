/**
 * An ACM Private CA made for the bridge, when the organisation has none to import.
 *
 * - `root`: a self-signed root in GENERAL_PURPOSE mode (its own certificate must outlive
 *   the 7-day ceiling of short-lived mode). About US$ 400 a month.
 * - `subordinate`: signed by an existing PCA (the organisation's root, say), in
 *   SHORT_LIVED_CERTIFICATE mode: everything it issues lives ≤ 7 days, which both modes
 *   respect (6-day intermediates, hour-long direct leaves). About US$ 50 a month. Its path
 *   length leaves room for exactly what the mode needs: one intermediate below it
 *   (PathLen1) in intermediate mode, leaves only (PathLen0) in direct mode.
 */
import { Duration, type RemovalPolicy, Stack } from "aws-cdk-lib";
import * as acmpca from "aws-cdk-lib/aws-acmpca";
import { Construct } from "constructs";
import type { CaMode, CreatePcaType } from "./options.js";

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
const SIGNING_ALGORITHM = "SHA256WITHECDSA";

export class BridgeCertificateAuthority extends Construct {
  readonly arn: string;
  /** Issuing before activation fails: whatever issues at deploy time depends on this. */
  readonly activation: acmpca.CfnCertificateAuthorityActivation;

  constructor(scope: Construct, id: string, props: BridgeCertificateAuthorityProps) {
    super(scope, id);
    const root = props.type === "root";
    if (!root && (!props.parentCaArn || !props.parentCertificateChainPem))
      throw new Error("createPca subordinate needs parentCaArn and parentCertificateChainPem");
    const template = (name: string) => `arn:${Stack.of(this).partition}:acm-pca:::template/${name}/V1`;

    const ca = new acmpca.CfnCertificateAuthority(this, "Authority", {
      type: root ? "ROOT" : "SUBORDINATE",
      keyAlgorithm: KEY_ALGORITHM,
      signingAlgorithm: SIGNING_ALGORITHM,
      usageMode: root ? "GENERAL_PURPOSE" : "SHORT_LIVED_CERTIFICATE",
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
      signingAlgorithm: SIGNING_ALGORITHM,
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
