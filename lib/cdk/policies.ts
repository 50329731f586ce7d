/**
 * The bridge's IAM statements, one function per role. Hand-written rather than
 * `grant*()`: each grant helper adds actions the bridge never calls (grantReadData adds
 * Scan, BatchGetItem, ConditionCheckItem, DescribeTable...), and these statements are the
 * security boundary the tests check statement by statement (test/cdk/sdk-permissions.test.ts
 * checks that every SDK command each Lambda can send has its statement here).
 *
 * KMS signing keys are made at run time by the rotation Lambda, so no key ARN exists at
 * deploy time. No IAM statement grants their use: each key is created with a key policy
 * (lib/aws/kms-key-policy.ts) naming the exchange and rotation roles, so neither tags nor
 * account-wide `kms:Sign` rights decide who signs as the bridge.
 */
import { ArnFormat, type Stack } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import { WRAPPED_KEY_CONTEXT } from "../aws/kms-wrapped-key-manager.js";
import { DIRECT_MODE_TEMPLATE_ARN } from "../aws/pca-direct-certificate-authority.js";
import { INTERMEDIATE_TEMPLATE_ARN } from "../aws/pca-intermediate.js";
import type { KeyManagerMode, RuntimeCaMode } from "./options.js";

/** KMS key specs the bridge signs with (RS256, ES256, ES384): the only ones rotation may create. */
export const SIGNING_KEY_SPECS = ["RSA_2048", "ECC_NIST_P256", "ECC_NIST_P384"] as const;

/**
 * The PCA template a role may issue with: a role of the bridge cannot mint any other kind
 * of certificate. The adapters send the template in the CA's own partition, as here.
 */
function pcaTemplate(templateArn: string, scope: Stack): string {
  return templateArn.replace(/^arn:aws:/, `arn:${scope.partition}:`);
}

/**
 * IssueCertificate on one CA with one template only, and reading back what it issued
 * (GetCertificate) and the CA's own certificate (GetCertificateAuthorityCertificate: the
 * PCA root the bundle and chains carry).
 */
function pcaStatements(
  scope: Stack,
  pcaArn: string,
  templateArn: string,
  sids: { issue: string; fetch: string },
): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: sids.issue,
      actions: ["acm-pca:IssueCertificate"],
      resources: [pcaArn],
      conditions: { StringEquals: { "acm-pca:TemplateArn": pcaTemplate(templateArn, scope) } },
    }),
    new iam.PolicyStatement({
      sid: sids.fetch,
      actions: ["acm-pca:GetCertificate", "acm-pca:GetCertificateAuthorityCertificate"],
      resources: [pcaArn],
    }),
  ];
}

/**
 * The wrapped-key manager binds every ciphertext to its record with this encryption
 * context: requiring it keeps the wrapping key from decrypting anything else for us.
 */
const boundToWrappedKeyRecord = { Null: { [`kms:EncryptionContext:${WRAPPED_KEY_CONTEXT}`]: "false" } };

export interface TableArns {
  registrations: string;
  keySet: string;
  replay: string;
}

export interface ExchangePolicyInput {
  trustDomain: string;
  tables: TableArns;
  /** The registrations table's `by-caller` index name. */
  byCallerIndex: string;
  caMode: RuntimeCaMode;
  pcaArn?: string;
}

/** Statements on resources that exist at deploy time; the wrapping key's are separate (see wrappingKeyStatements). */
export function exchangeStatements(scope: Stack, input: ExchangePolicyInput): iam.PolicyStatement[] {
  const statements = [
    new iam.PolicyStatement({
      sid: "FindRegistrationsByCaller",
      actions: ["dynamodb:Query"],
      resources: [`${input.tables.registrations}/index/${input.byCallerIndex}`],
    }),
    new iam.PolicyStatement({
      sid: "ReadKeySet",
      actions: ["dynamodb:GetItem"],
      resources: [input.tables.keySet],
    }),
    new iam.PolicyStatement({
      sid: "RememberProofs",
      actions: ["dynamodb:PutItem"],
      resources: [input.tables.replay],
    }),
  ];
  if (input.caMode === "direct" && input.pcaArn)
    statements.push(
      ...pcaStatements(scope, input.pcaArn, DIRECT_MODE_TEMPLATE_ARN, {
        issue: "IssueLeavesThroughPca",
        fetch: "FetchIssuedLeavesAndRoot",
      }),
    );
  return statements;
}

export interface RotationPolicyInput {
  keySetTable: string;
  keyManager: KeyManagerMode;
  caMode: RuntimeCaMode;
  pcaArn?: string;
}

export function rotationStatements(scope: Stack, input: RotationPolicyInput): iam.PolicyStatement[] {
  const statements = [
    new iam.PolicyStatement({
      sid: "ReadWriteKeySet",
      actions: ["dynamodb:GetItem", "dynamodb:PutItem"],
      resources: [input.keySetTable],
    }),
  ];
  // Use, retirement and policy of the keys it creates: the key policy each key is created with.
  if (input.keyManager === "kms")
    statements.push(
      new iam.PolicyStatement({
        sid: "CreateSigningKeys",
        actions: ["kms:CreateKey"],
        // kms:CreateKey acts on no existing resource, so IAM only accepts "*" here; the
        // conditions make it "a signing key of one of our specs, lockout check kept".
        resources: ["*"],
        conditions: {
          StringEquals: { "kms:KeyUsage": "SIGN_VERIFY", "kms:KeySpec": [...SIGNING_KEY_SPECS] },
          Bool: { "kms:BypassPolicyLockoutSafetyCheck": "false" },
        },
      }),
    );
  if (input.caMode === "intermediate" && input.pcaArn)
    statements.push(
      ...pcaStatements(scope, input.pcaArn, INTERMEDIATE_TEMPLATE_ARN, {
        issue: "IssueIntermediateThroughPca",
        fetch: "FetchIntermediateAndRoot",
      }),
    );
  return statements;
}

/**
 * The wrapping key's data-key operations (kms-wrapped mode), bound to the wrapped-key
 * encryption context: Decrypt for the exchange, GenerateDataKeyPair for rotation. Kept out of
 * the roles' inline policies because the key's policy names the roles (no reference cycle).
 */
export function wrappingKeyStatements(wrappingKeyArn: string, role: "exchange" | "rotation") {
  return [
    role === "exchange"
      ? new iam.PolicyStatement({
          sid: "UnwrapSigningKeys",
          actions: ["kms:Decrypt"],
          resources: [wrappingKeyArn],
          conditions: boundToWrappedKeyRecord,
        })
      : new iam.PolicyStatement({
          sid: "MakeWrappedKeyPairs",
          actions: ["kms:GenerateDataKeyPair"],
          resources: [wrappingKeyArn],
          conditions: boundToWrappedKeyRecord,
        }),
  ];
}

export function discoveryStatements(keySetTable: string, directModePcaArn?: string): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: "ReadKeySet",
      actions: ["dynamodb:GetItem"],
      resources: [keySetTable],
    }),
    // Direct mode: the bundle publishes the PCA root, read from PCA (no intermediate record).
    ...(directModePcaArn
      ? [
          new iam.PolicyStatement({
            sid: "ReadPcaRoot",
            actions: ["acm-pca:GetCertificateAuthorityCertificate"],
            resources: [directModePcaArn],
          }),
        ]
      : []),
  ];
}

/** Writing its own log group: what AWSLambdaBasicExecutionRole grants, without its `*` on every group. */
export function logStatements(scope: Stack, logGroupName: string): iam.PolicyStatement[] {
  const group = scope.formatArn({
    service: "logs",
    resource: "log-group",
    resourceName: logGroupName,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
  return [
    new iam.PolicyStatement({
      sid: "WriteOwnLogs",
      actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
      // Lambda names each stream at run time (`<group>:log-stream:<date>/[$LATEST]<id>`).
      resources: [group, `${group}:log-stream:*`],
    }),
  ];
}
