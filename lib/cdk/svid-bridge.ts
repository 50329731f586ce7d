/**
 * SvidBridge: one trust domain's bridge. Three tables (registrations, key set, replay),
 * the exchange (Function URL), the discovery Lambda behind the issuer URL, the rotation
 * Lambda on a schedule and once at deploy, the extension's layer, least-privilege roles,
 * alarms. See README, "Deploying with CDK".
 */
import { Duration, RemovalPolicy, Stack } from "aws-cdk-lib";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as events from "aws-cdk-lib/aws-events";
import * as eventsTargets from "aws-cdk-lib/aws-events-targets";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import type * as sns from "aws-cdk-lib/aws-sns";
import { Construct } from "constructs";
import { keySetTableDefinition } from "../aws/dynamodb-key-set-store.js";
import { REGISTRATION_INDEXES, registrationTableDefinition } from "../aws/dynamodb-registration-store.js";
import { REPLAY_CACHE_TTL_ATTRIBUTE, replayCacheTableDefinition } from "../aws/dynamodb-replay-cache.js";
import { isSigningAlgorithm, type SigningAlgorithm } from "../crypto/algorithms.js";
import { checkCanonicalIssuer } from "../discovery/issuer-url.js";
import { TrustDomain } from "../spiffe/spiffe-id.js";
import { acknowledge } from "./acknowledge.js";
import { BridgeCertificateAuthority, type CreatePcaOptions } from "./bridge-certificate-authority.js";
import { BridgeFunction, LAMBDA_ENTRIES } from "./bridge-function.js";
import { BridgeConfigError, checkRelyingParties, type RelyingParty, resolveCaMode } from "./check-props.js";
import { FirstRotation } from "./first-rotation.js";
import { type IssuerDomainOptions, IssuerEndpoint } from "./issuer-endpoint.js";
import type { CaMode, KeyManagerMode, RuntimeCaMode } from "./options.js";
import {
  discoveryStatements,
  exchangeStatements,
  rotationStatements,
  wrappingKeyStatements,
} from "./policies.js";
import { type SvidBridgeEndpoint, SvidBridgeLayer } from "./svid-bridge-layer.js";
import { tableKeyProps } from "./table-from-definition.js";

export interface SvidBridgeProps {
  /** The trust domain, e.g. `example.org`: every SPIFFE ID issued is `spiffe://<trustDomain>/…`. */
  trustDomain: string;
  /**
   * A custom domain for the issuer URL (`https://<domainName>`). The issuer is in every
   * JWT-SVID and in every relying party's trust configuration: it must never change.
   * @default - the HTTP API's execute-api URL (stable only as long as this stack's API lives)
   */
  issuerDomain?: IssuerDomainOptions;
  /**
   * An existing ACM PCA (the organisation's, or SPIRE's aws_pca upstream) that anchors X.509-SVIDs.
   * Not with createPca.
   * @default - createPca if given, else no PCA: the bridge issues JWT-SVIDs only
   */
  pcaArn?: string;
  /**
   * Create a PCA for the bridge. Not with pcaArn.
   * @default - none
   */
  createPca?: CreatePcaOptions;
  /**
   * `intermediate`: PCA signs an intermediate CA the bridge holds; leaves signed in ms.
   * `direct`: every leaf from PCA IssueCertificate. Either needs pcaArn or createPca.
   * @default "intermediate" with a PCA; without one the bridge issues JWT-SVIDs only
   */
  caMode?: CaMode;
  /**
   * `kms`: every signature is a KMS Sign. `kms-wrapped`: KMS-generated key pairs kept
   * encrypted under a symmetric KMS key, decrypted once per sandbox.
   * @default "kms"
   */
  keyManager?: KeyManagerMode;
  /**
   * JWT-SVID signing algorithm.
   * @default "RS256" (an RSA_2048 KMS Sign costs a fifth of an ECC one)
   */
  jwtAlg?: SigningAlgorithm;
  /**
   * The server-ID header value proofs must carry.
   * @default - the issuer URL
   */
  serverId?: string;
  /**
   * Regions whose STS endpoints the exchange forwards proofs to.
   * @default - this stack's region
   */
  allowedRegions?: string[];
  /** @default Duration.hours(1) */
  maxJwtTtl?: Duration;
  /**
   * The relying parties the bridge federates with: synth refuses a jwtAlg or maxJwtTtl one
   * of them would refuse (Google: RS256/ES256, exp < 48 h after iat; Microsoft: RS256, ≤ 25 h).
   * @default - none checked
   */
  relyingParties?: RelyingParty[];
  /** @default Duration.hours(1) */
  maxX509Ttl?: Duration;
  /**
   * How long an exchange sandbox keeps using the signing key it read.
   * @default Duration.seconds(60)
   */
  signingKeyCache?: Duration;
  /**
   * How long a JWT key signs before the next one takes over.
   * @default Duration.days(1)
   */
  rotationPeriod?: Duration;
  /**
   * How long a new key is published before it signs.
   * @default Duration.hours(1)
   */
  publicationLead?: Duration;
  /**
   * How often the rotation Lambda runs.
   * @default Duration.hours(1)
   */
  rotationSchedule?: Duration;
  /**
   * Item key of this bridge's key set in the key set table.
   * @default "default"
   */
  keySetId?: string;
  /**
   * Customer-managed KMS key for the tables.
   * @default - DynamoDB's AWS-owned key
   */
  tableEncryptionKey?: kms.IKey;
  /**
   * DynamoDB deletion protection on the tables.
   * @default true
   */
  deletionProtection?: boolean;
  /**
   * What happens to tables, the wrapping key, a created PCA and log groups when they leave the stack.
   * @default - RETAIN_ON_UPDATE_OR_DELETE (CloudFormation's RetainExceptOnCreate: a failed first
   * deploy removes them) for the wrapping key, a created PCA and log groups; RETAIN for the
   * tables (deletion protection would fail the rollback's delete; empty tables cost nothing)
   */
  removalPolicy?: RemovalPolicy;
  /** @default logs.RetentionDays.THREE_MONTHS */
  logRetention?: logs.RetentionDays;
  /**
   * Reserved concurrency per function. The exchange is public (auth NONE): its reservation
   * is also its ceiling, so unauthenticated traffic cannot take the account's unreserved
   * concurrency from other functions. `"none"` where the account's concurrency quota cannot
   * spare it (Lambda keeps at least 100 unreserved; new accounts may have a quota of 10).
   * @default - exchange 100 (about 2,000 exchanges a second at 50 ms); others: none
   */
  reservedConcurrency?: { exchange?: number | "none"; discovery?: number; rotation?: number };
  /** @default 256 */
  exchangeMemorySize?: number;
  /**
   * Throttle of the issuer's HTTP API stage.
   * @default { rateLimit: 50, burstLimit: 100 }
   */
  discoveryThrottle?: { rateLimit: number; burstLimit: number };
  /**
   * Cache-Control max-age of the discovery documents.
   * @default Duration.minutes(5)
   */
  discoveryCacheMaxAge?: Duration;
  /**
   * Where the alarms (errors and throttles of each function) notify.
   * @default - alarms with no action
   */
  alarmTopic?: sns.ITopic;
  /**
   * The built layer zip.
   * @default `dist/svid-bridge-layer.zip`
   */
  layerZipPath?: string;
  /**
   * Lets every account of this AWS Organization use the layer.
   * @default - this account only
   */
  layerOrganizationId?: string;
}

/** The exchange's default reserved concurrency (README, "Deploying with CDK"). */
export const DEFAULT_EXCHANGE_CONCURRENCY = 100;

export class SvidBridge extends Construct implements SvidBridgeEndpoint {
  readonly trustDomain: string;
  readonly issuerUrl: string;
  readonly serverId: string;
  readonly exchangeUrl: string;
  readonly registrationsTable: dynamodb.TableV2;
  readonly keySetTable: dynamodb.TableV2;
  readonly replayTable: dynamodb.TableV2;
  readonly exchange: BridgeFunction;
  readonly discovery: BridgeFunction;
  readonly rotation: BridgeFunction;
  readonly issuer: IssuerEndpoint;
  readonly layer: lambda.LayerVersion;
  readonly wrappingKey?: kms.Key;
  readonly pcaArn?: string;
  readonly firstRotation: FirstRotation;

  constructor(scope: Construct, id: string, props: SvidBridgeProps) {
    super(scope, id);
    this.trustDomain = TrustDomain.parse(props.trustDomain).name;
    // Every check that can fail runs here, before any construct (and any bundling).
    const r = resolveProps(props);

    const tables = this.#makeTables(props, r);
    this.registrationsTable = tables.registrations;
    this.keySetTable = tables.keySet;
    this.replayTable = tables.replay;

    // --- the symmetric key that wraps software key pairs (kms-wrapped mode)
    if (r.keyManager === "kms-wrapped")
      this.wrappingKey = new kms.Key(this, "WrappingKey", {
        description: `SVID Bridge ${this.trustDomain}: wraps JWT and CA key pairs kept in DynamoDB`,
        enableKeyRotation: true,
        removalPolicy: r.removalPolicy,
        pendingWindow: Duration.days(30),
      });

    // --- the PCA: imported, created, or none (JWT-SVIDs only)
    const pca =
      props.createPca && r.caMode !== "none"
        ? new BridgeCertificateAuthority(this, "CertificateAuthority", {
            ...props.createPca,
            trustDomain: this.trustDomain,
            caMode: r.caMode,
            removalPolicy: r.removalPolicy,
          })
        : undefined;
    this.pcaArn = props.pcaArn ?? pca?.arn;

    // --- the issuer URL (needed by the discovery and exchange environments)
    this.issuer = new IssuerEndpoint(this, "Issuer", {
      ...(props.issuerDomain && { domain: props.issuerDomain }),
      throttle: props.discoveryThrottle ?? { rateLimit: 50, burstLimit: 100 },
      logRetention: r.logRetention,
      logRemovalPolicy: r.removalPolicy,
    });
    this.issuerUrl = this.issuer.url;
    if (props.issuerDomain) checkCanonicalIssuer(this.issuerUrl);
    this.serverId = props.serverId ?? this.issuerUrl;

    this.exchange = this.#makeExchange(props, r);
    // auth NONE: the signed GetCallerIdentity proof in the body is the authentication.
    this.exchangeUrl = this.exchange.function.addFunctionUrl({
      authType: lambda.FunctionUrlAuthType.NONE,
    }).url;
    this.discovery = this.#makeDiscovery(props, r);
    this.issuer.serve(this.discovery.function);
    this.rotation = this.#makeRotation(props, r);
    this.#grantKeys(r.keyManager);

    new events.Rule(this, "RotationSchedule", {
      description: `SVID Bridge ${this.trustDomain}: rotate keys and renew the intermediate CA`,
      schedule: events.Schedule.rate(props.rotationSchedule ?? Duration.hours(1)),
      targets: [new eventsTargets.LambdaFunction(this.rotation.function, { retryAttempts: 2 })],
    });
    this.firstRotation = new FirstRotation(this, "FirstRotation", {
      rotation: this.rotation.function,
      trigger: {
        keyManager: r.keyManager,
        jwtAlg: r.jwtAlg,
        caMode: r.caMode,
        pca: this.pcaArn ?? "none",
        keySetId: props.keySetId ?? "default",
      },
      logRetention: r.logRetention,
      logRemovalPolicy: r.removalPolicy,
    });
    if (pca) this.firstRotation.node.addDependency(pca.activation);

    this.layer = new SvidBridgeLayer(this, "Layer", {
      ...(props.layerZipPath && { zipPath: props.layerZipPath }),
      ...(props.layerOrganizationId && { organizationId: props.layerOrganizationId }),
    }).layer;
  }

  /** Keys and indexes come from the adapters' own CreateTable definitions. */
  #makeTables(props: SvidBridgeProps, r: ResolvedProps) {
    const table = (tableId: string, definition: Parameters<typeof tableKeyProps>[0], ttl?: string) =>
      new dynamodb.TableV2(this, tableId, {
        ...tableKeyProps(definition),
        billing: dynamodb.Billing.onDemand(),
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        deletionProtection: props.deletionProtection ?? true,
        encryption: props.tableEncryptionKey
          ? dynamodb.TableEncryptionV2.customerManagedKey(props.tableEncryptionKey)
          : dynamodb.TableEncryptionV2.dynamoOwnedKey(),
        removalPolicy: r.tableRemovalPolicy,
        ...(ttl && { timeToLiveAttribute: ttl }),
      });
    return {
      registrations: table("Registrations", registrationTableDefinition("registrations")),
      keySet: table("KeySet", keySetTableDefinition("key-set")),
      // Expired replay records are ignored on read; TTL only keeps the table small.
      replay: table("Replay", replayCacheTableDefinition("replay"), REPLAY_CACHE_TTL_ATTRIBUTE),
    };
  }

  /** What every function shares: its role's trust domain, logs, alarms, and the key set's location. */
  #common(props: SvidBridgeProps, r: ResolvedProps) {
    return {
      trustDomain: this.trustDomain,
      logRetention: r.logRetention,
      logRemovalPolicy: r.removalPolicy,
      ...(props.alarmTopic && { alarmTopic: props.alarmTopic }),
    };
  }

  #sharedEnvironment(props: SvidBridgeProps) {
    return {
      SVID_BRIDGE_TRUST_DOMAIN: this.trustDomain,
      SVID_BRIDGE_KEY_SET_TABLE: this.keySetTable.tableName,
      SVID_BRIDGE_KEY_SET_ID: props.keySetId ?? "default",
    };
  }

  /** The key and CA settings the exchange and rotation must agree on. */
  #keyEnvironment(props: SvidBridgeProps, r: ResolvedProps) {
    return {
      SVID_BRIDGE_KEY_MANAGER: r.keyManager,
      ...(this.wrappingKey && { SVID_BRIDGE_WRAPPING_KEY_ID: this.wrappingKey.keyArn }),
      SVID_BRIDGE_CA_MODE: r.caMode,
      ...(this.pcaArn && { SVID_BRIDGE_PCA_ARN: this.pcaArn }),
      SVID_BRIDGE_MAX_JWT_TTL: seconds(props.maxJwtTtl, Duration.hours(1)),
      SVID_BRIDGE_SIGNING_KEY_CACHE: seconds(props.signingKeyCache, Duration.seconds(60)),
    };
  }

  #makeExchange(props: SvidBridgeProps, r: ResolvedProps): BridgeFunction {
    const stack = Stack.of(this);
    return new BridgeFunction(this, "Exchange", {
      ...this.#common(props, r),
      entry: LAMBDA_ENTRIES.exchange,
      description: `SVID Bridge exchange (${this.trustDomain}): IAM proof in, SVIDs out`,
      memorySize: props.exchangeMemorySize ?? 256,
      timeout: Duration.seconds(15),
      ...(r.exchangeConcurrency !== undefined && { reservedConcurrentExecutions: r.exchangeConcurrency }),
      environment: {
        ...this.#sharedEnvironment(props),
        ...this.#keyEnvironment(props, r),
        SVID_BRIDGE_ISSUER: this.issuerUrl,
        SVID_BRIDGE_SERVER_ID: this.serverId,
        SVID_BRIDGE_REGISTRATIONS_TABLE: this.registrationsTable.tableName,
        SVID_BRIDGE_REPLAY_TABLE: this.replayTable.tableName,
        SVID_BRIDGE_ALLOWED_REGIONS: (props.allowedRegions ?? [stack.region]).join(","),
        SVID_BRIDGE_MAX_X509_TTL: seconds(props.maxX509Ttl, Duration.hours(1)),
      },
      statements: [
        ...exchangeStatements(stack, {
          trustDomain: this.trustDomain,
          tables: {
            registrations: this.registrationsTable.tableArn,
            keySet: this.keySetTable.tableArn,
            replay: this.replayTable.tableArn,
          },
          byCallerIndex: REGISTRATION_INDEXES.byCaller,
          caMode: r.caMode,
          ...(this.pcaArn && { pcaArn: this.pcaArn }),
        }),
        ...tableKeyStatements(props.tableEncryptionKey, stack, "write"),
      ],
    });
  }

  #makeDiscovery(props: SvidBridgeProps, r: ResolvedProps): BridgeFunction {
    const directPca = r.caMode === "direct" ? this.pcaArn : undefined;
    return new BridgeFunction(this, "Discovery", {
      ...this.#common(props, r),
      entry: LAMBDA_ENTRIES.discovery,
      description: `SVID Bridge discovery (${this.trustDomain}): OIDC discovery, JWKS, SPIFFE bundle`,
      memorySize: 256,
      timeout: Duration.seconds(10),
      reservedConcurrentExecutions: props.reservedConcurrency?.discovery,
      environment: {
        ...this.#sharedEnvironment(props),
        SVID_BRIDGE_ISSUER: this.issuerUrl,
        SVID_BRIDGE_CACHE_MAX_AGE: seconds(props.discoveryCacheMaxAge, Duration.minutes(5)),
        SVID_BRIDGE_CA_MODE: r.caMode,
        ...(directPca && { SVID_BRIDGE_PCA_ARN: directPca }),
      },
      statements: [
        ...discoveryStatements(this.keySetTable.tableArn, directPca),
        ...tableKeyStatements(props.tableEncryptionKey, Stack.of(this), "read"),
      ],
    });
  }

  #makeRotation(props: SvidBridgeProps, r: ResolvedProps): BridgeFunction {
    return new BridgeFunction(this, "Rotation", {
      ...this.#common(props, r),
      entry: LAMBDA_ENTRIES.rotation,
      description: `SVID Bridge rotation (${this.trustDomain}): JWT keys and the intermediate CA`,
      memorySize: 256,
      // An intermediate from PCA is issued asynchronously: the adapter polls up to a minute.
      timeout: Duration.minutes(2),
      reservedConcurrentExecutions: props.reservedConcurrency?.rotation,
      environment: {
        ...this.#sharedEnvironment(props),
        ...this.#keyEnvironment(props, r),
        SVID_BRIDGE_JWT_ALG: r.jwtAlg,
        SVID_BRIDGE_ROTATION_PERIOD: seconds(props.rotationPeriod, Duration.days(1)),
        SVID_BRIDGE_PUBLICATION_LEAD: seconds(props.publicationLead, Duration.hours(1)),
      },
      statements: [
        ...rotationStatements(Stack.of(this), {
          keySetTable: this.keySetTable.tableArn,
          keyManager: r.keyManager,
          caMode: r.caMode,
          ...(this.pcaArn && { pcaArn: this.pcaArn }),
        }),
        ...tableKeyStatements(props.tableEncryptionKey, Stack.of(this), "write"),
      ],
    });
  }

  /**
   * Who may use the bridge's KMS keys. kms: every signing key is created with a key policy
   * naming the exchange and rotation roles (the rotation Lambda reads their ARNs). kms-wrapped:
   * the wrapping key's policy refuses its data-key operations (ReEncrypt included, which
   * could move a wrapped key under another key) to every principal but the two roles, by
   * ARN; the roles' own statements are in a separate policy, as the key names the roles.
   */
  #grantKeys(keyManager: KeyManagerMode): void {
    const exchangeRole = this.exchange.role.roleArn;
    const rotationRole = this.rotation.role.roleArn;
    if (keyManager === "kms") {
      this.rotation.function.addEnvironment("SVID_BRIDGE_ROTATION_ROLE_ARN", rotationRole);
      this.rotation.function.addEnvironment("SVID_BRIDGE_SIGNER_ROLE_ARNS", exchangeRole);
      acknowledge(
        this.rotation.role,
        "IAM5[Resource::*]",
        "kms:CreateKey acts on no existing resource, so IAM accepts only '*'; the statement requires SIGN_VERIFY usage, one of the bridge's key specs and the lockout safety check",
      );
      return;
    }
    const key = this.wrappingKey!;
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: "OnlyThisBridgeUsesWrappedKeys",
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: [...WRAPPING_KEY_DATA_ACTIONS],
        resources: ["*"], // in a key policy, "*" is this key
        conditions: { ArnNotEquals: { "aws:PrincipalArn": [exchangeRole, rotationRole] } },
      }),
    );
    for (const statement of wrappingKeyStatements(key.keyArn, "exchange"))
      this.exchange.role.addToPrincipalPolicy(statement);
    for (const statement of wrappingKeyStatements(key.keyArn, "rotation"))
      this.rotation.role.addToPrincipalPolicy(statement);
  }
}

/** Every wrapping-key operation that yields or moves key material. */
export const WRAPPING_KEY_DATA_ACTIONS = [
  "kms:Decrypt",
  "kms:GenerateDataKeyPair",
  "kms:GenerateDataKeyPairWithoutPlaintext",
  "kms:ReEncryptFrom",
  "kms:ReEncryptTo",
] as const;

const seconds = (d: Duration | undefined, fallback: Duration) => String((d ?? fallback).toSeconds());

interface ResolvedProps {
  caMode: RuntimeCaMode;
  keyManager: KeyManagerMode;
  jwtAlg: SigningAlgorithm;
  exchangeConcurrency: number | undefined;
  removalPolicy: RemovalPolicy;
  tableRemovalPolicy: RemovalPolicy;
  logRetention: logs.RetentionDays;
}

/** The props' defaults, and every synth-time refusal (BridgeConfigError, one line). */
function resolveProps(props: SvidBridgeProps): ResolvedProps {
  const caMode = resolveCaMode(props);
  const jwtAlg = props.jwtAlg ?? "RS256";
  if (!isSigningAlgorithm(jwtAlg))
    throw new BridgeConfigError(`jwtAlg must be RS256, ES256 or ES384, not ${String(jwtAlg)}`);
  checkRelyingParties(props.relyingParties ?? [], jwtAlg, (props.maxJwtTtl ?? Duration.hours(1)).toSeconds());
  return {
    caMode,
    keyManager: props.keyManager ?? "kms",
    jwtAlg,
    exchangeConcurrency: checkExchangeConcurrency(props.reservedConcurrency?.exchange),
    removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    tableRemovalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    logRetention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
  };
}

/** The exchange's reserved concurrency: 100 unless given; "none" for no reservation. */
function checkExchangeConcurrency(value: number | "none" | undefined): number | undefined {
  if (value === "none") return undefined;
  if (value === undefined) return DEFAULT_EXCHANGE_CONCURRENCY;
  if (!Number.isInteger(value) || value < 1)
    throw new BridgeConfigError(
      `reservedConcurrency.exchange must be a positive integer or "none", not ${value}`,
    );
  return value;
}

/**
 * With a customer-managed table key, DynamoDB uses the key on the caller's behalf: the
 * caller needs the key, and only through DynamoDB (kms:ViaService).
 */
function tableKeyStatements(key: kms.IKey | undefined, stack: Stack, access: "read" | "write") {
  if (!key) return [];
  return [
    new iam.PolicyStatement({
      sid: "TableKeyThroughDynamoDb",
      actions: access === "read" ? ["kms:Decrypt"] : ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
      resources: [key.keyArn],
      conditions: { StringEquals: { "kms:ViaService": `dynamodb.${stack.region}.${stack.urlSuffix}` } },
    }),
  ];
}
