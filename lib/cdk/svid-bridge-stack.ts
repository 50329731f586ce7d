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
import {
  ACM_CERTIFICATE_ARN,
  BridgeConfigError,
  checkFormat,
  checkRelyingParties,
  HOSTED_ZONE_ID,
  ORGANIZATION_ID,
  PCA_ARN,
  RELYING_PARTIES,
  type RelyingParty,
  resolveCaMode,
} from "./check-props.js";
import type { IssuerDomainOptions } from "./issuer-endpoint.js";
import { CA_MODES, CREATE_PCA_TYPES, KEY_MANAGER_MODES, PCA_SIGNING_ALGORITHMS } from "./options.js";
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

/** Every context key the app reads (a key not listed here is reported as unknown). */
export const CONTEXT_KEYS = [
  "trustDomain",
  "issuerDomain",
  "certificate",
  "hostedZone",
  "hostedZoneName",
  "pcaArn",
  "createPca",
  "parentPcaArn",
  "parentCaChainFile",
  "parentSigningAlgorithm",
  "caMode",
  "keyManager",
  "jwtAlg",
  "exchangeConcurrency",
  "relyingParties",
  "layerOrganizationId",
  "stackName",
] as const;

/**
 * Reads the stack's configuration from CDK context. A bad or missing value throws a
 * BridgeConfigError naming the key (and, for unknown keys, the keys that exist).
 */
export function configFromContext(node: Node, given: readonly string[] = []): SvidBridgeStackConfig {
  const unknown = given.filter((k) => !(CONTEXT_KEYS as readonly string[]).includes(k));
  if (unknown.length > 0)
    throw new BridgeConfigError(
      `unknown context ${unknown.join(", ")}; the keys are ${CONTEXT_KEYS.join(", ")}`,
    );
  const get = (key: (typeof CONTEXT_KEYS)[number]): string | undefined => {
    const value = node.tryGetContext(key);
    if (value === undefined || value === null || value === "") return undefined;
    return String(value).trim();
  };
  const oneOf = <T extends string>(key: (typeof CONTEXT_KEYS)[number], allowed: readonly T[]) => {
    const value = get(key);
    if (value !== undefined && !(allowed as readonly string[]).includes(value))
      throw new BridgeConfigError(`context ${key} must be one of ${allowed.join(", ")}, not ${value}`);
    return value as T | undefined;
  };
  const trustDomain = get("trustDomain");
  if (!trustDomain)
    throw new BridgeConfigError("context trustDomain is required: cdk deploy -c trustDomain=example.org");
  const jwtAlg = get("jwtAlg");
  if (jwtAlg !== undefined && !isSigningAlgorithm(jwtAlg))
    throw new BridgeConfigError(`context jwtAlg must be RS256, ES256 or ES384, not ${jwtAlg}`);
  const checked = (key: (typeof CONTEXT_KEYS)[number], pattern: RegExp, example: string) => {
    const value = get(key);
    checkFormat(`context ${key}`, value, pattern, example);
    return value;
  };
  const config: SvidBridgeStackConfig = {
    trustDomain,
    ...optional("issuerDomain", checked("issuerDomain", HOST_NAME, "a DNS name such as spiffe.example.com")),
    ...optional(
      "certificateArn",
      checked("certificate", ACM_CERTIFICATE_ARN, "arn:aws:acm:<region>:<account>:certificate/<id>"),
    ),
    ...optional(
      "hostedZoneId",
      checked("hostedZone", HOSTED_ZONE_ID, "a Route 53 zone ID such as Z0123456789ABC"),
    ),
    ...optional("hostedZoneName", checked("hostedZoneName", HOST_NAME, "a DNS name such as example.com")),
    ...optional(
      "pcaArn",
      checked("pcaArn", PCA_ARN, "arn:aws:acm-pca:<region>:<account>:certificate-authority/<id>"),
    ),
    ...optional("caMode", oneOf("caMode", CA_MODES)),
    ...optional("keyManager", oneOf("keyManager", KEY_MANAGER_MODES)),
    ...(jwtAlg && isSigningAlgorithm(jwtAlg) && { jwtAlg }),
    ...optional(
      "layerOrganizationId",
      checked("layerOrganizationId", ORGANIZATION_ID, "o- and 10 to 32 letters or digits"),
    ),
  };
  const parties = get("relyingParties");
  if (parties !== undefined) {
    const list = parties
      .split(",")
      .map((p) => p.trim())
      .filter(Boolean);
    for (const p of list)
      if (!(RELYING_PARTIES as readonly string[]).includes(p))
        throw new BridgeConfigError(
          `context relyingParties: ${p} is not one of ${RELYING_PARTIES.join(", ")}`,
        );
    config.relyingParties = list as RelyingParty[];
    checkRelyingParties(list, config.jwtAlg ?? "RS256", 3600);
  }
  const createPca = createPcaFromContext(get, oneOf, checked);
  if (createPca) config.createPca = createPca;
  const concurrency = get("exchangeConcurrency");
  if (concurrency !== undefined) {
    if (concurrency !== "none" && !/^[1-9]\d{0,5}$/.test(concurrency))
      throw new BridgeConfigError(
        `context exchangeConcurrency must be a positive integer or none, not ${concurrency}`,
      );
    config.reservedConcurrency = { exchange: concurrency === "none" ? "none" : Number(concurrency) };
  }
  if ((config.certificateArn || config.hostedZoneId) && !config.issuerDomain)
    throw new BridgeConfigError("context certificate and hostedZone need issuerDomain");
  if (config.issuerDomain && !config.certificateArn && !config.hostedZoneId)
    throw new BridgeConfigError(
      `context issuerDomain ${config.issuerDomain} needs certificate (an ACM certificate ARN) or hostedZone (to validate one)`,
    );
  resolveCaMode(config);
  return config;
}

const HOST_NAME = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

function optional<K extends string>(key: K, value: string | undefined) {
  return value ? ({ [key]: value } as Record<K, string>) : {};
}

type Get = (key: (typeof CONTEXT_KEYS)[number]) => string | undefined;

function createPcaFromContext(
  get: Get,
  oneOf: <T extends string>(key: (typeof CONTEXT_KEYS)[number], allowed: readonly T[]) => T | undefined,
  checked: (key: (typeof CONTEXT_KEYS)[number], pattern: RegExp, example: string) => string | undefined,
): CreatePcaOptions | undefined {
  const type = oneOf("createPca", CREATE_PCA_TYPES);
  const parentCaArn = checked(
    "parentPcaArn",
    PCA_ARN,
    "arn:aws:acm-pca:<region>:<account>:certificate-authority/<id>",
  );
  const chainFile = get("parentCaChainFile");
  const parentSigningAlgorithm = oneOf("parentSigningAlgorithm", PCA_SIGNING_ALGORITHMS);
  if (!type) {
    if (parentCaArn || chainFile || parentSigningAlgorithm)
      throw new BridgeConfigError(
        "context parentPcaArn, parentCaChainFile and parentSigningAlgorithm need createPca=subordinate",
      );
    return undefined;
  }
  if (type === "root") {
    if (parentCaArn || chainFile)
      throw new BridgeConfigError("createPca=root takes no parentPcaArn or parentCaChainFile");
    return { type };
  }
  if (!parentCaArn || !chainFile)
    throw new BridgeConfigError(
      "createPca=subordinate needs context parentPcaArn (the parent CA's ARN) and parentCaChainFile (a PEM file of its chain)",
    );
  let pem: string;
  try {
    pem = readFileSync(chainFile, "utf8");
  } catch (error) {
    throw new BridgeConfigError(
      `context parentCaChainFile ${chainFile}: ${(error as NodeJS.ErrnoException).code ?? "unreadable"}`,
    );
  }
  if (!pem.includes("-----BEGIN CERTIFICATE-----"))
    throw new BridgeConfigError(`context parentCaChainFile ${chainFile} holds no PEM certificate`);
  return {
    type,
    parentCaArn,
    parentCertificateChainPem: pem,
    ...(parentSigningAlgorithm && { parentSigningAlgorithm }),
  };
}
