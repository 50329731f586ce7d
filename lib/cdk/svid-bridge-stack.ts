/**
 * The ready-made stack `cdk deploy` deploys (bin/cdk-app.ts): one SvidBridge and its
 * outputs, configured from context values (`-c trustDomain=… -c issuerDomain=…`).
 */
import { readFileSync } from "node:fs";
import { CfnOutput, Stack, type StackProps } from "aws-cdk-lib";
import * as acm from "aws-cdk-lib/aws-certificatemanager";
import * as route53 from "aws-cdk-lib/aws-route53";
import type { Construct, Node } from "constructs";
import { isSigningAlgorithm } from "../crypto/algorithms.js";
import type { CreatePcaOptions } from "./bridge-certificate-authority.js";
import type { IssuerDomainOptions } from "./issuer-endpoint.js";
import { CA_MODES, CREATE_PCA_TYPES, KEY_MANAGER_MODES } from "./options.js";
import { SvidBridge, type SvidBridgeProps } from "./svid-bridge.js";

/** Bridge props whose AWS objects (certificate, zone) are made inside the stack. */
export type SvidBridgeStackConfig = Omit<SvidBridgeProps, "issuerDomain"> & {
  issuerDomain?: string;
  certificateArn?: string;
  hostedZoneId?: string;
  hostedZoneName?: string;
};

export class SvidBridgeStack extends Stack {
  readonly bridge: SvidBridge;

  constructor(scope: Construct, id: string, config: SvidBridgeStackConfig, props: StackProps = {}) {
    super(scope, id, { description: `SVID Bridge for trust domain ${config.trustDomain}`, ...props });
    const { issuerDomain, certificateArn, hostedZoneId, hostedZoneName, ...bridgeProps } = config;
    let domain: IssuerDomainOptions | undefined;
    if (issuerDomain) {
      domain = { domainName: issuerDomain };
      if (certificateArn)
        domain.certificate = acm.Certificate.fromCertificateArn(this, "Certificate", certificateArn);
      if (hostedZoneId)
        domain.hostedZone = route53.HostedZone.fromHostedZoneAttributes(this, "Zone", {
          hostedZoneId,
          zoneName: hostedZoneName ?? issuerDomain.split(".").slice(1).join("."),
        });
    }
    this.bridge = new SvidBridge(this, "Bridge", { ...bridgeProps, ...(domain && { issuerDomain: domain }) });

    const out = (name: string, value: string, description: string) =>
      new CfnOutput(this, name, { value, description });
    out(
      "IssuerUrl",
      this.bridge.issuerUrl,
      "Issuer URL (OIDC discovery, JWKS, SPIFFE bundle): never change it",
    );
    out("ExchangeUrl", this.bridge.exchangeUrl, "Exchange base URL: the layer's SVID_BRIDGE_URL");
    out("ServerId", this.bridge.serverId, "Server ID proofs carry: the layer's SVID_BRIDGE_SERVER_ID");
    out("LayerArn", this.bridge.layer.layerVersionArn, "The extension's layer version");
    out(
      "RegistrationsTableName",
      this.bridge.registrationsTable.tableName,
      "Registrations (svid-bridge --table)",
    );
    out("KeySetTableName", this.bridge.keySetTable.tableName, "JWT key set and intermediate CA");
    out("ReplayTableName", this.bridge.replayTable.tableName, "Seen proofs (single use)");
  }
}

/** Reads the stack's configuration from CDK context; a bad value fails synth naming the key. */
export function configFromContext(node: Node): SvidBridgeStackConfig {
  const get = (key: string): string | undefined => {
    const value = node.tryGetContext(key);
    if (value === undefined || value === null || value === "") return undefined;
    return String(value).trim();
  };
  const oneOf = <T extends string>(key: string, allowed: readonly T[]): T | undefined => {
    const value = get(key);
    if (value !== undefined && !(allowed as readonly string[]).includes(value))
      throw new Error(`context ${key} must be one of ${allowed.join(", ")}, not ${value}`);
    return value as T | undefined;
  };
  const trustDomain = get("trustDomain");
  if (!trustDomain) throw new Error("context trustDomain is required: cdk deploy -c trustDomain=example.org");
  const jwtAlg = get("jwtAlg");
  if (jwtAlg !== undefined && !isSigningAlgorithm(jwtAlg))
    throw new Error(`context jwtAlg must be RS256, ES256 or ES384, not ${jwtAlg}`);
  const createPcaType = oneOf("createPca", CREATE_PCA_TYPES);
  let createPca: CreatePcaOptions | undefined;
  if (createPcaType) {
    createPca = { type: createPcaType };
    const parentCaArn = get("parentPcaArn");
    const chainFile = get("parentCaChainFile");
    if (parentCaArn) createPca.parentCaArn = parentCaArn;
    if (chainFile) createPca.parentCertificateChainPem = readFileSync(chainFile, "utf8");
  }
  const optional = <K extends string>(key: K, value: string | undefined) => (value ? { [key]: value } : {});
  return {
    trustDomain,
    ...optional("issuerDomain", get("issuerDomain")),
    ...optional("certificateArn", get("certificate")),
    ...optional("hostedZoneId", get("hostedZone")),
    ...optional("hostedZoneName", get("hostedZoneName")),
    ...optional("pcaArn", get("pcaArn")),
    ...(createPca && { createPca }),
    ...optional("caMode", oneOf("caMode", CA_MODES)),
    ...optional("keyManager", oneOf("keyManager", KEY_MANAGER_MODES)),
    ...(jwtAlg && isSigningAlgorithm(jwtAlg) && { jwtAlg }),
    ...optional("layerOrganizationId", get("layerOrganizationId")),
  };
}
