/**
 * The bridge's IAM statements, one function per role. Hand-written rather than
 * `grant*()`: each grant helper adds actions the bridge never calls (grantReadData adds
 * Scan, BatchGetItem, ConditionCheckItem, DescribeTable...), and these statements are the
 * security boundary the tests check statement by statement.
 *
 * KMS signing keys are made at run time by the rotation Lambda, so no key ARN exists at
 * deploy time: every key statement is scoped to this account's keys AND to the
 * trust-domain tag the KMS key manager puts on every key it makes (attribute-based
 * access control), so a role of this bridge can use no key of another bridge or of
 * anything else in the account.
 */
import { ArnFormat, type Stack } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import { ALGORITHM_TAG, TRUST_DOMAIN_TAG } from "../aws/kms-key-manager.js";
import { WRAPPED_KEY_CONTEXT } from "../aws/kms-wrapped-key-manager.js";
import { DIRECT_MODE_TEMPLATE_ARN } from "../aws/pca-direct-certificate-authority.js";
import { INTERMEDIATE_TEMPLATE_ARN } from "../aws/pca-intermediate.js";
import type { CaMode } from "./options.js";

/** KMS key specs the bridge signs with (RS256, ES256, ES384): the only ones rotation may create. */
export const SIGNING_KEY_SPECS = ["RSA_2048", "ECC_NIST_P256", "ECC_NIST_P384"] as const;

/** Any key in this account and region; only ever used under a trust-domain tag condition. */
function accountKeys(scope: Stack): string {
  return scope.formatArn({ service: "kms", resource: "key", resourceName: "*" });
}

function taggedFor(trustDomain: string) {
  return { StringEquals: { [`aws:ResourceTag/${TRUST_DOMAIN_TAG}`]: trustDomain } };
}

/** The PCA template a role may issue with: a role of the bridge cannot mint any other kind of certificate. */
function pcaTemplate(templateArn: string, scope: Stack): string {
  // The library's constants say `arn:aws:`; the template ARN carries the partition.
  return templateArn.replace(/^arn:aws:/, `arn:${scope.partition}:`);
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
  wrappingKeyArn?: string;
  caMode: CaMode;
  pcaArn?: string;
}

export function exchangeStatements(scope: Stack, input: ExchangePolicyInput): iam.PolicyStatement[] {
  const statements = [
    new iam.PolicyStatement({
      sid: "SignWithTrustDomainKeys",
      actions: ["kms:Sign", "kms:GetPublicKey"],
      resources: [accountKeys(scope)],
      conditions: taggedFor(input.trustDomain),
    }),
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
  if (input.wrappingKeyArn)
    statements.push(
      new iam.PolicyStatement({
        sid: "UnwrapSigningKeys",
        actions: ["kms:Decrypt"],
        resources: [input.wrappingKeyArn],
        conditions: boundToWrappedKeyRecord,
      }),
    );
  if (input.caMode === "direct" && input.pcaArn)
    statements.push(
      new iam.PolicyStatement({
        sid: "IssueLeavesThroughPca",
        actions: ["acm-pca:IssueCertificate"],
        resources: [input.pcaArn],
        conditions: { StringEquals: { "acm-pca:TemplateArn": pcaTemplate(DIRECT_MODE_TEMPLATE_ARN, scope) } },
      }),
      new iam.PolicyStatement({
        sid: "FetchIssuedLeaves",
        actions: ["acm-pca:GetCertificate"],
        resources: [input.pcaArn],
      }),
    );
  return statements;
}

export interface RotationPolicyInput {
  trustDomain: string;
  keySetTable: string;
  wrappingKeyArn?: string;
  caMode: CaMode;
  pcaArn?: string;
}

export function rotationStatements(scope: Stack, input: RotationPolicyInput): iam.PolicyStatement[] {
  const statements = [
    new iam.PolicyStatement({
      sid: "CreateTaggedSigningKeys",
      actions: ["kms:CreateKey"],
      // kms:CreateKey acts on no existing resource, so IAM only accepts "*" here; the
      // conditions make it "a signing key of one of our specs, tagged for this trust domain".
      resources: ["*"],
      conditions: {
        StringEquals: {
          [`aws:RequestTag/${TRUST_DOMAIN_TAG}`]: input.trustDomain,
          "kms:KeyUsage": "SIGN_VERIFY",
        },
        "ForAllValues:StringEquals": {
          "aws:TagKeys": [TRUST_DOMAIN_TAG, ALGORITHM_TAG],
          "kms:KeySpec": [...SIGNING_KEY_SPECS],
        },
        Bool: { "kms:BypassPolicyLockoutSafetyCheck": "false" },
      },
    }),
    new iam.PolicyStatement({
      sid: "TagKeysOnCreate",
      // CreateKey with Tags also needs kms:TagResource; only with the trust-domain tag.
      actions: ["kms:TagResource"],
      resources: [accountKeys(scope)],
      conditions: {
        StringEquals: { [`aws:RequestTag/${TRUST_DOMAIN_TAG}`]: input.trustDomain },
        "ForAllValues:StringEquals": { "aws:TagKeys": [TRUST_DOMAIN_TAG, ALGORITHM_TAG] },
      },
    }),
    new iam.PolicyStatement({
      sid: "UseAndRetireTrustDomainKeys",
      // Sign: the intermediate CA's CSR is signed with its own (KMS) key.
      actions: ["kms:GetPublicKey", "kms:Sign", "kms:ScheduleKeyDeletion"],
      resources: [accountKeys(scope)],
      conditions: taggedFor(input.trustDomain),
    }),
    new iam.PolicyStatement({
      sid: "ReadWriteKeySet",
      actions: ["dynamodb:GetItem", "dynamodb:PutItem"],
      resources: [input.keySetTable],
    }),
  ];
  if (input.wrappingKeyArn)
    statements.push(
      new iam.PolicyStatement({
        sid: "MakeWrappedKeyPairs",
        actions: ["kms:GenerateDataKeyPair"],
        resources: [input.wrappingKeyArn],
        conditions: boundToWrappedKeyRecord,
      }),
    );
  if (input.caMode === "intermediate" && input.pcaArn)
    statements.push(
      new iam.PolicyStatement({
        sid: "IssueIntermediateThroughPca",
        actions: ["acm-pca:IssueCertificate"],
        resources: [input.pcaArn],
        conditions: {
          StringEquals: { "acm-pca:TemplateArn": pcaTemplate(INTERMEDIATE_TEMPLATE_ARN, scope) },
        },
      }),
      new iam.PolicyStatement({
        sid: "FetchIntermediateAndRoot",
        actions: ["acm-pca:GetCertificate", "acm-pca:GetCertificateAuthorityCertificate"],
        resources: [input.pcaArn],
      }),
    );
  return statements;
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
