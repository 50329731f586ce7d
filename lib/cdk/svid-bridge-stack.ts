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

type ContextKey = (typeof CONTEXT_KEYS)[number];

/** Typed, checked reads of CDK context values: each refusal names its key. */
interface ContextReader {
  get(key: ContextKey): string | undefined;
  oneOf<T extends string>(key: ContextKey, allowed: readonly T[]): T | undefined;
  checked(key: ContextKey, pattern: RegExp, example: string): string | undefined;
}

function contextReader(node: Node): ContextReader {
  const get = (key: ContextKey): string | undefined => {
    const value = node.tryGetContext(key);
    if (value === undefined || value === null || value === "") return undefined;
    return String(value).trim();
  };
  return {
    get,
    oneOf: <T extends string>(key: ContextKey, allowed: readonly T[]) => {
      const value = get(key);
      if (value !== undefined && !(allowed as readonly string[]).includes(value))
        throw new BridgeConfigError(`context ${key} must be one of ${allowed.join(", ")}, not ${value}`);
      return value as T | undefined;
    },
    checked: (key: ContextKey, pattern: RegExp, example: string) => {
      const value = get(key);
      checkFormat(`context ${key}`, value, pattern, example);
      return value;
    },
  };
}

const PCA_ARN_EXAMPLE = "arn:aws:acm-pca:<region>:<account>:certificate-authority/<id>";

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
  const ctx = contextReader(node);
  const trustDomain = ctx.get("trustDomain");
  if (!trustDomain)
    throw new BridgeConfigError("context trustDomain is required: cdk deploy -c trustDomain=example.org");
  const jwtAlg = ctx.get("jwtAlg");
  if (jwtAlg !== undefined && !isSigningAlgorithm(jwtAlg))
    throw new BridgeConfigError(`context jwtAlg must be RS256, ES256 or ES384, not ${jwtAlg}`);
  const config: SvidBridgeStackConfig = {
    trustDomain,
    ...issuerDomainFromContext(ctx),
    ...optional("pcaArn", ctx.checked("pcaArn", PCA_ARN, PCA_ARN_EXAMPLE)),
    ...optional("caMode", ctx.oneOf("caMode", CA_MODES)),
    ...optional("keyManager", ctx.oneOf("keyManager", KEY_MANAGER_MODES)),
    ...(jwtAlg && isSigningAlgorithm(jwtAlg) && { jwtAlg }),
    ...optional(
      "layerOrganizationId",
      ctx.checked("layerOrganizationId", ORGANIZATION_ID, "o- and 10 to 32 letters or digits"),
    ),
  };
  const relyingParties = relyingPartiesFromContext(ctx, config.jwtAlg ?? "RS256");
  if (relyingParties) config.relyingParties = relyingParties;
  const createPca = createPcaFromContext(ctx);
  if (createPca) config.createPca = createPca;
  const concurrency = ctx.get("exchangeConcurrency");
  if (concurrency !== undefined) {
    if (concurrency !== "none" && !/^[1-9]\d{0,5}$/.test(concurrency))
      throw new BridgeConfigError(
        `context exchangeConcurrency must be a positive integer or none, not ${concurrency}`,
      );
    config.reservedConcurrency = { exchange: concurrency === "none" ? "none" : Number(concurrency) };
  }
  resolveCaMode(config);
  return config;
}

function issuerDomainFromContext(ctx: ContextReader) {
  const domain = {
    ...optional(
      "issuerDomain",
      ctx.checked("issuerDomain", HOST_NAME, "a DNS name such as spiffe.example.com"),
    ),
    ...optional(
      "certificateArn",
      ctx.checked("certificate", ACM_CERTIFICATE_ARN, "arn:aws:acm:<region>:<account>:certificate/<id>"),
    ),
    ...optional(
      "hostedZoneId",
      ctx.checked("hostedZone", HOSTED_ZONE_ID, "a Route 53 zone ID such as Z0123456789ABC"),
    ),
    ...optional("hostedZoneName", ctx.checked("hostedZoneName", HOST_NAME, "a DNS name such as example.com")),
  };
  if ((domain.certificateArn || domain.hostedZoneId) && !domain.issuerDomain)
    throw new BridgeConfigError("context certificate and hostedZone need issuerDomain");
  if (domain.issuerDomain && !domain.certificateArn && !domain.hostedZoneId)
    throw new BridgeConfigError(
      `context issuerDomain ${domain.issuerDomain} needs certificate (an ACM certificate ARN) or hostedZone (to validate one)`,
    );
  return domain as Pick<
    SvidBridgeStackConfig,
    "issuerDomain" | "certificateArn" | "hostedZoneId" | "hostedZoneName"
  >;
}

function relyingPartiesFromContext(ctx: ContextReader, jwtAlg: string): RelyingParty[] | undefined {
  const parties = ctx.get("relyingParties");
  if (parties === undefined) return undefined;
  const list = parties
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
  for (const p of list)
    if (!(RELYING_PARTIES as readonly string[]).includes(p))
      throw new BridgeConfigError(`context relyingParties: ${p} is not one of ${RELYING_PARTIES.join(", ")}`);
  checkRelyingParties(list, jwtAlg, 3600);
  return list as RelyingParty[];
}

const HOST_NAME = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

function optional<K extends string, V extends string>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value ? ({ [key]: value } as Record<K, V>) : {};
}

function createPcaFromContext(ctx: ContextReader): CreatePcaOptions | undefined {
  const type = ctx.oneOf("createPca", CREATE_PCA_TYPES);
  const parentCaArn = ctx.checked("parentPcaArn", PCA_ARN, PCA_ARN_EXAMPLE);
  const chainFile = ctx.get("parentCaChainFile");
  const parentSigningAlgorithm = ctx.oneOf("parentSigningAlgorithm", PCA_SIGNING_ALGORITHMS);
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
