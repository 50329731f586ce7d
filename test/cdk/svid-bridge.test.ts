/**
 * The SvidBridge construct, synthesized once for four deployments (one app with cdk.json's
 * feature flags, cdk-nag's AwsSolutions pack as a validation plugin), one per
 * configuration the README documents, and checked resource by resource, and above all
 * policy statement by policy statement:
 *   J: the documented default, trust domain only: JWT-SVIDs only (no PCA), kms keys;
 *   A: kms keys, intermediate CA mode, an imported PCA, the execute-api issuer URL;
 *   B: kms-wrapped keys, direct CA mode, a created subordinate PCA, a custom issuer
 *      domain in a hosted zone, a customer-managed table key, an Organization layer
 *      permission, and a consumer function with attachSvidBridge;
 *   C: kms-wrapped keys, intermediate CA mode, a created root PCA, a custom domain with
 *      an imported certificate, ES256, no reserved concurrency;
 *   D: kms keys, intermediate CA mode, a created subordinate PCA (general-purpose: it
 *      signs the bridge's intermediate), Google and AWS named as relying parties;
 *   E: kms keys, direct CA mode, an imported PCA.
 * Each Lambda's own config loader runs on the environment each template sets, and every
 * SDK command each Lambda's code can send is checked against its role (sdk-commands.ts).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, Duration, Stack, Validations } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { AwsSolutionsChecks } from "cdk-nag";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadDiscoveryConfig } from "../../lambdas/discovery/config.js";
import { loadExchangeConfig } from "../../lambdas/exchange/config.js";
import { loadRotationConfig } from "../../lambdas/rotation/config.js";
import { TRUST_DOMAIN_TAG } from "../../lib/aws/kms-key-manager.js";
import { usageModeFor } from "../../lib/cdk/bridge-certificate-authority.js";
import { LAMBDA_ENTRIES, PROJECT_ROOT } from "../../lib/cdk/bridge-function.js";
import { attachSvidBridge } from "../../lib/cdk/svid-bridge-layer.js";
import { SvidBridgeStack } from "../../lib/cdk/svid-bridge-stack.js";
import { buildLayer } from "../../scripts/build-layer.js";
import { sdkCallsFrom } from "./sdk-commands.js";

const PCA_A =
  "arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/11111111-2222-3333-4444-555555555555";
const PARENT_PCA =
  "arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/99999999-2222-3333-4444-555555555555";
const ENV = { account: "111122223333", region: "eu-west-1" };
const CERTIFICATE = "arn:aws:acm:eu-west-1:111122223333:certificate/12345678-1234-1234-1234-123456789012";
/** What `cdk synth` reads from cdk.json: the tests synthesize with the same feature flags. */
const CDK_CONTEXT = JSON.parse(readFileSync(join(PROJECT_ROOT, "cdk.json"), "utf8")).context;

type Statement = {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};
type Json = Record<string, unknown>;

/**
 * Where each SDK command a Lambda's code can send must be allowed, and in which
 * configurations it is sent; `never: …` says why a command in an imported file is not
 * sent by that Lambda. A command with no rule, or a rule no code matches, fails the test.
 */
type Target =
  | "any"
  | "pca"
  | "wrapping-key"
  | "signing-keys"
  | "table:KeySet"
  | "table:Replay"
  | "table:Registrations/index/by-caller";
type Configs = {
  exchange: { keyManager: string; caMode: string };
  discovery: { directModePcaArn: string | undefined };
  rotation: { keyManager: string; caMode: string };
};
interface SendRule {
  lambda: "exchange" | "discovery" | "rotation";
  file: string;
  actions: string[];
  target: Target | `never: ${string}`;
  when: (c: Configs) => boolean;
}
const always = () => true;
const never = always;
const KEY_SET = "lib/aws/dynamodb-key-set-store.ts";
const REGISTRATIONS = "lib/aws/dynamodb-registration-store.ts";
const WRAPPED_STORE = "lib/aws/dynamodb-wrapped-key-store.ts";
const KMS_KEYS = "lib/aws/kms-key-manager.ts";
const WRAPPED_KEYS = "lib/aws/kms-wrapped-key-manager.ts";
const PCA = "lib/aws/pca-issuance.ts";
const ALL_PCA = [
  "acm-pca:IssueCertificate",
  "acm-pca:GetCertificate",
  "acm-pca:GetCertificateAuthorityCertificate",
];
const SENDS: SendRule[] = [
  { lambda: "exchange", file: KEY_SET, actions: ["dynamodb:GetItem"], target: "table:KeySet", when: always },
  {
    lambda: "exchange",
    file: KEY_SET,
    actions: ["dynamodb:PutItem"],
    target: "never: only rotation writes the key set",
    when: never,
  },
  {
    lambda: "exchange",
    file: REGISTRATIONS,
    actions: ["dynamodb:Query"],
    target: "table:Registrations/index/by-caller",
    when: always,
  },
  {
    lambda: "exchange",
    file: REGISTRATIONS,
    actions: [
      "dynamodb:DeleteItem",
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:Scan",
      "dynamodb:UpdateItem",
    ],
    target: "never: registration administration is the CLI's; the exchange calls findByAccountAndRole only",
    when: never,
  },
  {
    lambda: "exchange",
    file: "lib/aws/dynamodb-replay-cache.ts",
    actions: ["dynamodb:PutItem"],
    target: "table:Replay",
    when: always,
  },
  {
    lambda: "exchange",
    file: WRAPPED_STORE,
    actions: ["dynamodb:GetItem"],
    target: "table:KeySet",
    when: (c) => c.exchange.keyManager === "kms-wrapped",
  },
  {
    lambda: "exchange",
    file: WRAPPED_STORE,
    actions: ["dynamodb:PutItem"],
    target: "never: the exchange creates no key",
    when: never,
  },
  {
    lambda: "exchange",
    file: KMS_KEYS,
    actions: ["kms:GetPublicKey", "kms:Sign"],
    target: "signing-keys",
    when: (c) => c.exchange.keyManager === "kms",
  },
  {
    lambda: "exchange",
    file: KMS_KEYS,
    actions: ["kms:CreateKey", "kms:ScheduleKeyDeletion"],
    target: "never: only rotation creates and retires keys",
    when: never,
  },
  {
    lambda: "exchange",
    file: WRAPPED_KEYS,
    actions: ["kms:Decrypt"],
    target: "wrapping-key",
    when: (c) => c.exchange.keyManager === "kms-wrapped",
  },
  {
    lambda: "exchange",
    file: WRAPPED_KEYS,
    actions: ["kms:GenerateDataKeyPair"],
    target: "never: the exchange creates no key",
    when: never,
  },
  {
    lambda: "exchange",
    file: PCA,
    actions: ALL_PCA,
    target: "pca",
    when: (c) => c.exchange.caMode === "direct",
  },
  { lambda: "discovery", file: KEY_SET, actions: ["dynamodb:GetItem"], target: "table:KeySet", when: always },
  {
    lambda: "discovery",
    file: KEY_SET,
    actions: ["dynamodb:PutItem"],
    target: "never: only rotation writes the key set",
    when: never,
  },
  {
    lambda: "discovery",
    file: PCA,
    actions: ["acm-pca:GetCertificateAuthorityCertificate"],
    target: "pca",
    when: (c) => c.discovery.directModePcaArn !== undefined,
  },
  {
    lambda: "discovery",
    file: PCA,
    actions: ["acm-pca:IssueCertificate", "acm-pca:GetCertificate"],
    target: "never: discovery calls fetchCaCertificates only",
    when: never,
  },
  {
    lambda: "rotation",
    file: KEY_SET,
    actions: ["dynamodb:GetItem", "dynamodb:PutItem"],
    target: "table:KeySet",
    when: always,
  },
  {
    lambda: "rotation",
    file: WRAPPED_STORE,
    actions: ["dynamodb:GetItem", "dynamodb:PutItem"],
    target: "table:KeySet",
    when: (c) => c.rotation.keyManager === "kms-wrapped",
  },
  {
    lambda: "rotation",
    file: KMS_KEYS,
    actions: ["kms:CreateKey"],
    target: "any",
    when: (c) => c.rotation.keyManager === "kms",
  },
  {
    lambda: "rotation",
    file: KMS_KEYS,
    actions: ["kms:GetPublicKey", "kms:Sign", "kms:ScheduleKeyDeletion"],
    target: "signing-keys",
    when: (c) => c.rotation.keyManager === "kms",
  },
  {
    lambda: "rotation",
    file: WRAPPED_KEYS,
    actions: ["kms:GenerateDataKeyPair"],
    target: "wrapping-key",
    when: (c) => c.rotation.keyManager === "kms-wrapped",
  },
  {
    lambda: "rotation",
    file: WRAPPED_KEYS,
    actions: ["kms:Decrypt"],
    target:
      "never: rotation signs only with a key it made in the same run (the new intermediate's CSR), held unwrapped",
    when: never,
  },
  {
    lambda: "rotation",
    file: PCA,
    actions: ALL_PCA,
    target: "pca",
    when: (c) => c.rotation.caMode === "intermediate",
  },
];

const list = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

describe("SvidBridge", () => {
  let outDir: string;
  let a: Template;
  let b: Template;
  let c: Template;
  let d: Template;
  let e: Template;
  let j: Template;
  let stackA: SvidBridgeStack;
  let stackB: SvidBridgeStack;

  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), "svid-bridge-cdk-"));
    const layer = await buildLayer(join(outDir, "layer"));
    const app = new App({ outdir: join(outDir, "cdk.out"), context: CDK_CONTEXT });
    const stackJ = new SvidBridgeStack(
      app,
      "BridgeJ",
      { trustDomain: "jwt.example.org", layerZipPath: layer.zip },
      { env: ENV },
    );
    const stackD = new SvidBridgeStack(
      app,
      "BridgeD",
      {
        trustDomain: "d.example.org",
        createPca: {
          type: "subordinate",
          parentCaArn: PARENT_PCA,
          parentCertificateChainPem: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        },
        relyingParties: ["aws", "gcp"],
        jwtAlg: "ES256",
        layerZipPath: layer.zip,
      },
      { env: ENV },
    );
    const stackE = new SvidBridgeStack(
      app,
      "BridgeE",
      { trustDomain: "e.example.org", pcaArn: PCA_A, caMode: "direct", layerZipPath: layer.zip },
      { env: ENV },
    );
    const stackC = new SvidBridgeStack(
      app,
      "BridgeC",
      {
        trustDomain: "c.example.net",
        issuerDomain: "issuer.c.example.net",
        certificateArn: CERTIFICATE,
        createPca: { type: "root" },
        keyManager: "kms-wrapped",
        jwtAlg: "ES256",
        reservedConcurrency: { exchange: "none" },
        layerZipPath: layer.zip,
      },
      { env: ENV },
    );
    stackA = new SvidBridgeStack(
      app,
      "BridgeA",
      { trustDomain: "example.org", pcaArn: PCA_A, layerZipPath: layer.zip },
      { env: ENV },
    );
    const keyHolder = new Stack(app, "Keys", { env: ENV });
    const tableKey = new kms.Key(keyHolder, "TableKey", { enableKeyRotation: true });
    stackB = new SvidBridgeStack(
      app,
      "BridgeB",
      {
        trustDomain: "prod.example.com",
        issuerDomain: "spiffe.example.com",
        hostedZoneId: "Z0123456789ABC",
        keyManager: "kms-wrapped",
        caMode: "direct",
        jwtAlg: "ES256",
        createPca: {
          type: "subordinate",
          parentCaArn: PARENT_PCA,
          parentCertificateChainPem: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
          parentSigningAlgorithm: "SHA256WITHRSA",
        },
        tableEncryptionKey: tableKey,
        reservedConcurrency: { exchange: 20 },
        maxJwtTtl: Duration.minutes(30),
        layerZipPath: layer.zip,
        layerOrganizationId: "o-abcdefghij",
      },
      { env: ENV },
    );
    const consumer = new lambda.Function(stackB, "Consumer", {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: "index.handler",
      code: lambda.Code.fromInline("exports.handler = async () => {}"),
    });
    Validations.of(consumer).acknowledge({
      id: "AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
      reason: "test fixture: a consumer function, not part of the bridge",
    });
    Validations.of(consumer).acknowledge({
      id: "AwsSolutions::AwsSolutions-L1",
      reason: "test fixture: a consumer function on the bridge's supported runtime",
    });
    attachSvidBridge(consumer, stackB.bridge, {
      jwtAudiences: ["sts.amazonaws.com", "gcp"],
      x509: false,
      azure: {
        clientId: "11111111-2222-3333-4444-555555555555",
        tenantId: "66666666-7777-8888-9999-000000000000",
      },
    });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    // One synth for every assertion below; it throws if cdk-nag finds anything unacknowledged.
    app.synth();
    a = Template.fromStack(stackA);
    b = Template.fromStack(stackB);
    c = Template.fromStack(stackC);
    d = Template.fromStack(stackD);
    e = Template.fromStack(stackE);
    j = Template.fromStack(stackJ);
  }, 180_000);

  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  const role = (t: Template, fn: "Exchange" | "Discovery" | "Rotation") => {
    const roles = t.findResources("AWS::IAM::Role", {
      Properties: { Description: Match.stringLikeRegexp(`^SVID Bridge ${fn} `) },
    });
    const [only] = Object.values(roles);
    expect(Object.keys(roles)).toHaveLength(1);
    return only as {
      Properties: { Policies: { PolicyDocument: { Statement: Statement[] } }[]; Tags?: unknown[] };
    };
  };
  const roleId = (t: Template, fn: "Exchange" | "Discovery" | "Rotation") => {
    const roles = t.findResources("AWS::IAM::Role", {
      Properties: { Description: Match.stringLikeRegexp(`^SVID Bridge ${fn} `) },
    });
    return Object.keys(roles)[0]!;
  };
  /** The role's inline policy and every policy attached to it (the wrapping key's statements). */
  const statements = (t: Template, fn: "Exchange" | "Discovery" | "Rotation") => {
    const r = role(t, fn);
    expect(r.Properties.Policies).toHaveLength(1);
    const attached = Object.values(
      t.findResources("AWS::IAM::Policy", { Properties: { Roles: [{ Ref: roleId(t, fn) }] } }),
    ).flatMap(
      (p) =>
        (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument
          .Statement,
    );
    return [...r.Properties.Policies[0]!.PolicyDocument.Statement, ...attached];
  };
  const bySid = (s: Statement[]) => Object.fromEntries(s.map((x) => [x.Sid, x]));
  const actions = (s: Statement[]) => s.flatMap((x) => list(x.Action)).sort();
  const fnResource = (t: Template, fn: string) => {
    const fns = t.findResources("AWS::Lambda::Function", {
      Properties: { Description: Match.stringLikeRegexp(`^SVID Bridge ${fn.toLowerCase()} `) },
    });
    expect(Object.keys(fns)).toHaveLength(1);
    return Object.values(fns)[0] as {
      Properties: Json & { Environment: { Variables: Record<string, unknown> } };
    };
  };
  const stacks = (): [string, Template][] => [
    ["J", j],
    ["A", a],
    ["B", b],
    ["C", c],
    ["D", d],
    ["E", e],
  ];
  const roleArn = (t: Template, fn: "Exchange" | "Discovery" | "Rotation") =>
    `arn:aws:iam::${ENV.account}:role/${roleId(t, fn)}`;

  /** A CloudFormation value as the function would see it, references replaced by plausible values. */
  const resolve = (t: Template, v: unknown): string => {
    if (typeof v === "string") return v;
    const o = v as Json;
    if ("Ref" in o) {
      const id = o.Ref as string;
      const pseudo: Record<string, string> = {
        "AWS::Region": ENV.region,
        "AWS::AccountId": ENV.account,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
      };
      return pseudo[id] ?? id.toLowerCase().slice(0, 20);
    }
    if ("Fn::GetAtt" in o) {
      const [id, attr] = o["Fn::GetAtt"] as [string, string];
      const type = (t.toJSON().Resources as Record<string, { Type: string }>)[id]?.Type;
      if (attr === "Arn" && type === "AWS::IAM::Role") return `arn:aws:iam::${ENV.account}:role/${id}`;
      if (attr === "Arn" && type === "AWS::KMS::Key")
        return `arn:aws:kms:${ENV.region}:${ENV.account}:key/${id}`;
      if (attr === "Arn" && type === "AWS::ACMPCA::CertificateAuthority")
        return `arn:aws:acm-pca:${ENV.region}:${ENV.account}:certificate-authority/11111111-0000-4000-8000-000000000000`;
      return `${id.toLowerCase()}-${attr.toLowerCase()}`;
    }
    if ("Fn::Join" in o) {
      const [sep, parts] = o["Fn::Join"] as [string, unknown[]];
      return parts.map((part) => resolve(t, part)).join(sep);
    }
    throw new Error(`cannot resolve ${JSON.stringify(v)}`);
  };
  const envOf = (t: Template, fn: string) => ({
    AWS_REGION: ENV.region,
    ...Object.fromEntries(
      Object.entries(fnResource(t, fn).Properties.Environment.Variables).map(([k, v]) => [k, resolve(t, v)]),
    ),
  });
  /** Each Lambda's own config loader on the environment the template gives it. */
  const loadAll = (t: Template) => ({
    exchange: loadExchangeConfig(envOf(t, "Exchange")),
    discovery: loadDiscoveryConfig(envOf(t, "Discovery")),
    rotation: loadRotationConfig(envOf(t, "Rotation")),
  });

  const isAllowed = (
    t: Template,
    fn: "Exchange" | "Discovery" | "Rotation",
    action: string,
    target: Target,
    configs: ReturnType<typeof loadAll>,
  ): boolean => {
    if (target === "signing-keys") {
      const policy = JSON.parse(configs.rotation.keyPolicy ?? '{"Statement":[]}') as {
        Statement: (Statement & { Principal: { AWS: string | string[] } })[];
      };
      return policy.Statement.some(
        (x) =>
          x.Effect === "Allow" &&
          list(x.Principal.AWS).includes(roleArn(t, fn)) &&
          list(x.Action).includes(action),
      );
    }
    const resources = t.toJSON().Resources as Record<string, { Type: string }>;
    const matches = (resource: unknown): boolean => {
      const json = JSON.stringify(resource);
      if (target === "any") return json === '"*"';
      if (target === "pca")
        return (
          json === JSON.stringify(fnResource(t, fn).Properties.Environment.Variables.SVID_BRIDGE_PCA_ARN)
        );
      if (target === "wrapping-key") {
        const [keyId] = Object.keys(t.findResources("AWS::KMS::Key"));
        const deny = JSON.stringify(t.findResources("AWS::KMS::Key")[keyId!]);
        return (
          json === JSON.stringify({ "Fn::GetAtt": [keyId, "Arn"] }) &&
          deny.includes(JSON.stringify({ "Fn::GetAtt": [roleId(t, fn), "Arn"] }))
        );
      }
      const [table, index] = target.slice("table:".length).split("/index/");
      const tableId = Object.keys(resources).find(
        (id) => resources[id]!.Type === "AWS::DynamoDB::GlobalTable" && id.includes(table!),
      );
      return (
        json.includes(tableId!) && (index ? json.includes(`/index/${index}`) : !json.includes("/index/"))
      );
    };
    return statements(t, fn).some(
      (x) => x.Effect === "Allow" && list(x.Action).includes(action) && list(x.Resource).some(matches),
    );
  };

  describe("cdk-nag", () => {
    it("AwsSolutions finds nothing unacknowledged in either deployment (the synth above passed validation)", () => {
      expect(a.toJSON().Resources).toBeDefined();
      expect(b.toJSON().Resources).toBeDefined();
    });

    it("the plugin is live: an unacknowledged wildcard role fails synth", () => {
      const app = new App({ outdir: join(outDir, "nag-negative") });
      const stack = new Stack(app, "Bad");
      new iam.Role(stack, "Role", {
        assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
        inlinePolicies: {
          p: new iam.PolicyDocument({
            statements: [new iam.PolicyStatement({ actions: ["kms:Sign"], resources: ["*"] })],
          }),
        },
      });
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
      expect(() => app.synth()).toThrow(/AwsSolutions-IAM5\[Resource::\*\]/);
    });
  });

  describe("IAM: no wildcard actions, no wildcard resources but the one AWS requires", () => {
    it("no statement of any role in either stack has a '*' in an action", () => {
      for (const t of [a, b])
        for (const r of Object.values(t.findResources("AWS::IAM::Role")) as Json[]) {
          const docs =
            ((r.Properties as Json).Policies as { PolicyDocument: { Statement: Statement[] } }[]) ?? [];
          for (const s of docs.flatMap((d) => d.PolicyDocument.Statement))
            for (const action of list(s.Action)) expect(action).not.toContain("*");
        }
    });

    it("the only Resource '*' is rotation's kms:CreateKey", () => {
      for (const t of [a, b])
        for (const fn of ["Exchange", "Discovery", "Rotation"] as const)
          for (const s of statements(t, fn))
            if (list(s.Resource).includes("*")) expect([fn, s.Action]).toEqual(["Rotation", "kms:CreateKey"]);
    });
  });

  describe("exchange role (A: kms, intermediate)", () => {
    it("has exactly: Query on by-caller, GetItem key set, PutItem replay, own logs; no KMS right in IAM (item 6)", () => {
      const s = statements(a, "Exchange");
      expect(actions(s)).toEqual([
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
      ]);
      const sid = bySid(s);
      expect(JSON.stringify(sid.FindRegistrationsByCaller!.Resource)).toMatch(/"\/index\/by-caller"\]/);
      expect(JSON.stringify(sid.ReadKeySet!.Resource)).toMatch(/KeySet/);
      expect(JSON.stringify(sid.RememberProofs!.Resource)).toMatch(/Replay/);
    });

    it("in intermediate mode has no PCA permission at all", () => {
      expect(actions(statements(a, "Exchange")).filter((x) => x.startsWith("acm-pca:"))).toEqual([]);
    });
  });

  describe("exchange role (B: kms-wrapped, direct, CMK tables)", () => {
    it("adds Decrypt on the wrapping key only with the wrapped-key encryption context", () => {
      const d = bySid(statements(b, "Exchange")).UnwrapSigningKeys!;
      expect(d.Action).toBe("kms:Decrypt");
      expect(d.Resource).toEqual({ "Fn::GetAtt": [expect.stringMatching(/WrappingKey/), "Arn"] });
      expect(d.Condition).toEqual({ Null: { "kms:EncryptionContext:svid-bridge:wrapped-key-id": "false" } });
    });

    it("item 2: adds IssueCertificate (APIPassthrough template only), GetCertificate and GetCertificateAuthorityCertificate on the bridge's PCA", () => {
      const sid = bySid(statements(b, "Exchange"));
      expect(sid.IssueLeavesThroughPca).toMatchObject({
        Action: "acm-pca:IssueCertificate",
        Resource: { "Fn::GetAtt": [expect.stringMatching(/CertificateAuthority/), "Arn"] },
        Condition: {
          StringEquals: {
            "acm-pca:TemplateArn": "arn:aws:acm-pca:::template/BlankEndEntityCertificate_APIPassthrough/V1",
          },
        },
      });
      expect(actions(statements(b, "Exchange")).filter((x) => x.startsWith("acm-pca:"))).toEqual([
        "acm-pca:GetCertificate",
        "acm-pca:GetCertificateAuthorityCertificate",
        "acm-pca:IssueCertificate",
      ]);
    });

    it("uses the table key only through DynamoDB", () => {
      const k = bySid(statements(b, "Exchange")).TableKeyThroughDynamoDb!;
      expect(list(k.Action).sort()).toEqual(["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]);
      expect(k.Condition).toMatchObject({ StringEquals: { "kms:ViaService": expect.anything() } });
    });
  });

  describe("rotation role", () => {
    it("A: creates only SIGN_VERIFY keys of the bridge's specs (item 10: StringEquals on the single-valued KeySpec); no tagging, no key use in IAM (item 8)", () => {
      const s = statements(a, "Rotation");
      expect(actions(s)).toEqual([
        "acm-pca:GetCertificate",
        "acm-pca:GetCertificateAuthorityCertificate",
        "acm-pca:IssueCertificate",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "kms:CreateKey",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
      ]);
      const sid = bySid(s);
      expect(sid.CreateSigningKeys).toEqual({
        Sid: "CreateSigningKeys",
        Effect: "Allow",
        Action: "kms:CreateKey",
        Resource: "*",
        Condition: {
          StringEquals: {
            "kms:KeyUsage": "SIGN_VERIFY",
            "kms:KeySpec": ["RSA_2048", "ECC_NIST_P256", "ECC_NIST_P384"],
          },
          Bool: { "kms:BypassPolicyLockoutSafetyCheck": "false" },
        },
      });
      expect(sid.IssueIntermediateThroughPca).toMatchObject({
        Resource: PCA_A,
        Condition: {
          StringEquals: {
            "acm-pca:TemplateArn": "arn:aws:acm-pca:::template/SubordinateCACertificate_PathLen0/V1",
          },
        },
      });
      expect(sid.FetchIntermediateAndRoot!.Resource).toBe(PCA_A);
      expect(list(sid.ReadWriteKeySet!.Resource)).toHaveLength(1);
    });

    it("item 8: no role of any stack may tag, untag or re-policy a KMS key through IAM", () => {
      for (const t of [a, b, c, j])
        for (const fn of ["Exchange", "Discovery", "Rotation"] as const)
          expect(
            actions(statements(t, fn)).filter((x) =>
              ["kms:TagResource", "kms:UntagResource", "kms:PutKeyPolicy", "kms:CreateGrant"].includes(x),
            ),
          ).toEqual([]);
    });

    it("B (direct mode) may not touch the PCA; item 10: kms-wrapped creates, signs and deletes no KMS key, GenerateDataKeyPair only under the encryption context", () => {
      const s = statements(b, "Rotation");
      expect(actions(s).filter((x) => x.startsWith("acm-pca:"))).toEqual([]);
      // C: kms-wrapped with AWS-owned table keys, so every KMS action is the wrapping key's.
      expect(actions(statements(c, "Rotation")).filter((x) => x.startsWith("kms:"))).toEqual([
        "kms:GenerateDataKeyPair",
      ]);
      const g = bySid(s).MakeWrappedKeyPairs!;
      expect(g.Condition).toEqual({ Null: { "kms:EncryptionContext:svid-bridge:wrapped-key-id": "false" } });
    });
  });

  describe("discovery role", () => {
    it("reads the key set item and writes its logs, nothing else", () => {
      const s = statements(a, "Discovery");
      expect(actions(s)).toEqual(["dynamodb:GetItem", "logs:CreateLogStream", "logs:PutLogEvents"]);
      expect(JSON.stringify(bySid(s).ReadKeySet!.Resource)).toMatch(/KeySet/);
    });

    it("B (direct mode) also reads the PCA's own certificate, on that CA only, to publish its root", () => {
      const s = statements(b, "Discovery");
      expect(actions(s)).toContain("acm-pca:GetCertificateAuthorityCertificate");
      expect(JSON.stringify(bySid(s).ReadPcaRoot!.Resource)).not.toBe('"*"');
      const env = fnResource(b, "Discovery").Properties.Environment.Variables;
      expect(env.SVID_BRIDGE_CA_MODE).toBe("direct");
      expect(env.SVID_BRIDGE_PCA_ARN).toBeDefined();
    });
  });

  describe("roles are tagged with the trust domain; the wrapping key refuses everyone else", () => {
    it("every bridge role carries svid-bridge:trust-domain", () => {
      for (const fn of ["Exchange", "Discovery", "Rotation"] as const)
        expect(role(b, fn).Properties.Tags).toContainEqual({
          Key: TRUST_DOMAIN_TAG,
          Value: "prod.example.com",
        });
    });

    it("item 7: the wrapping key denies every data-key operation (ReEncrypt included) to all but the two roles, by ARN", () => {
      for (const t of [b, c]) {
        const keys = t.findResources("AWS::KMS::Key");
        expect(Object.keys(keys)).toHaveLength(1);
        const key = Object.values(keys)[0] as Json & {
          Properties: { EnableKeyRotation: boolean; KeyPolicy: { Statement: Statement[] } };
        };
        expect(key.DeletionPolicy).toBe("RetainExceptOnCreate");
        expect(key.Properties.EnableKeyRotation).toBe(true);
        const deny = key.Properties.KeyPolicy.Statement.find(
          (x) => x.Sid === "OnlyThisBridgeUsesWrappedKeys",
        )!;
        expect(deny).toMatchObject({ Effect: "Deny", Principal: { AWS: "*" }, Resource: "*" });
        expect(list(deny.Action).sort()).toEqual([
          "kms:Decrypt",
          "kms:GenerateDataKeyPair",
          "kms:GenerateDataKeyPairWithoutPlaintext",
          "kms:ReEncryptFrom",
          "kms:ReEncryptTo",
        ]);
        const allowed = (deny.Condition!.ArnNotEquals as Record<string, unknown[]>)["aws:PrincipalArn"]!;
        expect(allowed).toEqual([
          { "Fn::GetAtt": [roleId(t, "Exchange"), "Arn"] },
          { "Fn::GetAtt": [roleId(t, "Rotation"), "Arn"] },
        ]);
        expect(JSON.stringify(key.Properties.KeyPolicy)).not.toContain("PrincipalTag");
      }
      a.resourceCountIs("AWS::KMS::Key", 0);
      j.resourceCountIs("AWS::KMS::Key", 0);
    });
  });

  describe("tables", () => {
    it("three tables, on demand, PITR, deletion protection, retained", () => {
      const tables = a.findResources("AWS::DynamoDB::GlobalTable");
      expect(Object.keys(tables)).toHaveLength(3);
      for (const t of Object.values(tables) as Json[]) {
        expect(t.DeletionPolicy).toBe("Retain");
        expect(t.UpdateReplacePolicy).toBe("Retain");
        const p = t.Properties as Json;
        expect(p.BillingMode).toBe("PAY_PER_REQUEST");
        expect(p.Replicas).toEqual([
          expect.objectContaining({
            DeletionProtectionEnabled: true,
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          }),
        ]);
      }
    });

    it("the replay table expires records on its expiry attribute", () => {
      a.hasResourceProperties("AWS::DynamoDB::GlobalTable", {
        KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
        TimeToLiveSpecification: { AttributeName: "expiresAt", Enabled: true },
      });
      // ...and only that table has TTL.
      const ttl = Object.values(a.findResources("AWS::DynamoDB::GlobalTable")).filter(
        (t) => ((t as Json).Properties as Json).TimeToLiveSpecification,
      );
      expect(ttl).toHaveLength(1);
    });

    it("B: tables are encrypted with the customer-managed key", () => {
      for (const t of Object.values(b.findResources("AWS::DynamoDB::GlobalTable")) as Json[])
        expect((t.Properties as Json).SSESpecification).toMatchObject({ SSEEnabled: true, SSEType: "KMS" });
    });
  });

  describe("functions", () => {
    it("three bridge Lambdas: nodejs22.x, arm64, ESM bundle with source maps on", () => {
      for (const fn of ["Exchange", "Discovery", "Rotation"]) {
        const f = fnResource(a, fn).Properties;
        expect(f.Runtime).toBe("nodejs22.x");
        expect(f.Architectures).toEqual(["arm64"]);
        expect(f.Handler).toBe("index.handler");
        expect(f.Environment.Variables.NODE_OPTIONS).toBe("--enable-source-maps");
      }
    });

    it("the exchange gets exactly the contract's variables", () => {
      const vars = fnResource(b, "Exchange").Properties.Environment.Variables;
      expect(Object.keys(vars).sort()).toEqual(
        [
          "NODE_OPTIONS",
          "SVID_BRIDGE_ALLOWED_REGIONS",
          "SVID_BRIDGE_CA_MODE",
          "SVID_BRIDGE_ISSUER",
          "SVID_BRIDGE_KEY_MANAGER",
          "SVID_BRIDGE_KEY_SET_ID",
          "SVID_BRIDGE_KEY_SET_TABLE",
          "SVID_BRIDGE_MAX_JWT_TTL",
          "SVID_BRIDGE_MAX_X509_TTL",
          "SVID_BRIDGE_PCA_ARN",
          "SVID_BRIDGE_REGISTRATIONS_TABLE",
          "SVID_BRIDGE_REPLAY_TABLE",
          "SVID_BRIDGE_SERVER_ID",
          "SVID_BRIDGE_SIGNING_KEY_CACHE",
          "SVID_BRIDGE_TRUST_DOMAIN",
          "SVID_BRIDGE_WRAPPING_KEY_ID",
        ].sort(),
      );
      expect(vars).toMatchObject({
        SVID_BRIDGE_TRUST_DOMAIN: "prod.example.com",
        SVID_BRIDGE_ISSUER: "https://spiffe.example.com",
        SVID_BRIDGE_SERVER_ID: "https://spiffe.example.com",
        SVID_BRIDGE_KEY_MANAGER: "kms-wrapped",
        SVID_BRIDGE_CA_MODE: "direct",
        SVID_BRIDGE_ALLOWED_REGIONS: "eu-west-1",
        SVID_BRIDGE_MAX_JWT_TTL: "1800",
        SVID_BRIDGE_MAX_X509_TTL: "3600",
        SVID_BRIDGE_SIGNING_KEY_CACHE: "60",
        SVID_BRIDGE_KEY_SET_ID: "default",
      });
      expect(fnResource(b, "Exchange").Properties.ReservedConcurrentExecutions).toBe(20);
      const aVars = fnResource(a, "Exchange").Properties.Environment.Variables;
      expect(aVars.SVID_BRIDGE_WRAPPING_KEY_ID).toBeUndefined();
      expect(aVars.SVID_BRIDGE_PCA_ARN).toBe(PCA_A);
    });

    it("Done when: each Lambda's own config loader accepts the environment every documented configuration sets", () => {
      const configs = Object.fromEntries(stacks().map(([name, t]) => [name, loadAll(t)]));
      expect(configs.J).toMatchObject({
        exchange: { caMode: "none", keyManager: "kms", pcaArn: undefined },
        discovery: { directModePcaArn: undefined },
        rotation: { caMode: "none", keyManager: "kms", pcaArn: undefined },
      });
      expect(configs.J!.rotation.keyPolicy).toBeDefined();
      expect(configs.A).toMatchObject({
        exchange: { caMode: "intermediate", pcaArn: PCA_A },
        rotation: {
          caMode: "intermediate",
          pcaArn: PCA_A,
          rotation: { alg: "RS256", maxJwtTtlSeconds: 3600 },
        },
      });
      expect(configs.B).toMatchObject({
        exchange: {
          keyManager: "kms-wrapped",
          caMode: "direct",
          issuer: "https://spiffe.example.com",
          allowedRegions: ["eu-west-1"],
          maxJwtTtlSeconds: 1800,
          maxX509TtlSeconds: 3600,
        },
        discovery: { directModePcaArn: expect.stringMatching(/certificate-authority/) },
        // Rotation and exchange must agree on the longest JWT lifetime (retention depends on it).
        rotation: {
          caMode: "direct",
          keyManager: "kms-wrapped",
          rotation: { alg: "ES256", maxJwtTtlSeconds: 1800 },
        },
      });
      expect(configs.C).toMatchObject({
        exchange: {
          caMode: "intermediate",
          keyManager: "kms-wrapped",
          issuer: "https://issuer.c.example.net",
        },
        rotation: { caMode: "intermediate", pcaArn: expect.stringMatching(/certificate-authority/) },
      });
      expect(configs.B!.rotation.keyPolicy).toBeUndefined();
      expect(configs.D).toMatchObject({
        exchange: { caMode: "intermediate", keyManager: "kms" },
        rotation: { caMode: "intermediate", rotation: { alg: "ES256" } },
      });
      expect(configs.E).toMatchObject({
        exchange: { caMode: "direct", keyManager: "kms", pcaArn: PCA_A },
        discovery: { directModePcaArn: PCA_A },
        rotation: { caMode: "direct", pcaArn: PCA_A },
      });
    });

    it("item 1: the documented default (no PCA) tells every Lambda caMode none, and caMode without a PCA is refused at synth", () => {
      for (const fn of ["Exchange", "Discovery", "Rotation"])
        expect(fnResource(j, fn).Properties.Environment.Variables.SVID_BRIDGE_CA_MODE).toBe("none");
      expect(actions(statements(j, "Exchange")).filter((x) => x.startsWith("acm-pca:"))).toEqual([]);
      expect(actions(statements(j, "Rotation")).filter((x) => x.startsWith("acm-pca:"))).toEqual([]);
      j.hasResourceProperties("Custom::SvidBridgeFirstRotation", { caMode: "none", pca: "none" });
      const app = new App({ outdir: join(outDir, "refused") });
      for (const [props, message] of [
        [{ caMode: "direct" }, /caMode direct needs a PCA: add pcaArn or createPca/],
        [{ caMode: "intermediate" }, /caMode intermediate needs a PCA/],
        [{ pcaArn: PCA_A, createPca: { type: "root" } }, /pcaArn .* or createPca .*, not both/],
        [
          { pcaArn: "arn:aws:acm-pca:eu-west-1:1:ca/x" },
          /pcaArn "arn:aws:acm-pca:eu-west-1:1:ca\/x" is not valid/,
        ],
      ] as const)
        expect(
          () =>
            new SvidBridgeStack(app, `R${Math.random().toString(36).slice(2)}`, {
              trustDomain: "x.org",
              ...props,
            }),
        ).toThrow(
          expect.objectContaining({ name: "BridgeConfigError", message: expect.stringMatching(message) }),
        );
    });

    it("item 6: every signing key is created with a policy that lets only the bridge's roles sign and the account administer", () => {
      const policy = JSON.parse(loadAll(a).rotation.keyPolicy!) as {
        Statement: (Statement & { Principal: { AWS: unknown } })[];
      };
      const bySid_ = Object.fromEntries(policy.Statement.map((x) => [x.Sid, x]));
      expect(bySid_.ExchangeSigns).toMatchObject({
        Principal: { AWS: [roleArn(a, "Exchange")] },
        Action: ["kms:GetPublicKey", "kms:Sign"],
      });
      expect(bySid_.RotationUsesAndRetires).toMatchObject({ Principal: { AWS: roleArn(a, "Rotation") } });
      const account = bySid_.AccountAdministersButCannotUse!;
      expect(account.Principal).toEqual({ AWS: "arn:aws:iam::111122223333:root" });
      for (const use of ["kms:Sign", "kms:CreateGrant", "kms:PutKeyPolicy", "kms:*", "kms:Verify"])
        expect(list(account.Action)).not.toContain(use);
      // Only the two bridge roles and the account appear; no statement uses a tag.
      expect(JSON.stringify(policy)).not.toMatch(/Tag\//);
    });

    it("item 2 (mechanical): the check refuses what the roles do not allow (it can fail)", () => {
      const configsE = loadAll(e);
      expect(isAllowed(e, "Exchange", "acm-pca:GetCertificateAuthorityCertificate", "pca", configsE)).toBe(
        true,
      );
      expect(isAllowed(e, "Exchange", "acm-pca:DeleteCertificateAuthority", "pca", configsE)).toBe(false);
      expect(isAllowed(e, "Discovery", "acm-pca:IssueCertificate", "pca", configsE)).toBe(false);
      expect(isAllowed(e, "Exchange", "dynamodb:PutItem", "table:KeySet", configsE)).toBe(false);
      expect(isAllowed(a, "Discovery", "kms:Sign", "signing-keys", loadAll(a))).toBe(false);
      expect(isAllowed(b, "Exchange", "kms:Sign", "signing-keys", loadAll(b))).toBe(false);
      const dir = mkdtempSync(join(outDir, "scan-"));
      writeFileSync(join(dir, "entry.ts"), 'import { X } from "./x.js";\nexport const y = X;\n');
      writeFileSync(
        join(dir, "x.ts"),
        'import { PutItemCommand as P } from "@aws-sdk/client-dynamodb";\nexport const X = () => new P({});\n',
      );
      expect(sdkCallsFrom(join(dir, "entry.ts"), dir)).toEqual([
        { file: "x.ts", action: "dynamodb:PutItem" },
      ]);
      writeFileSync(join(dir, "x.ts"), "export const X = () => new DeleteTableCommand({});\n");
      expect(() => sdkCallsFrom(join(dir, "entry.ts"), dir)).toThrow(/not imported from an @aws-sdk client/);
    });

    it("item 2 (mechanical): every SDK command each Lambda's code can send is allowed to its role on the right resource", () => {
      const sent = { exchange: 0, discovery: 0, rotation: 0 };
      const used = new Set<SendRule>();
      for (const [name, t] of stacks()) {
        const configs = loadAll(t);
        for (const fn of ["Exchange", "Discovery", "Rotation"] as const) {
          const lambdaName = fn.toLowerCase() as keyof typeof sent;
          for (const call of sdkCallsFrom(LAMBDA_ENTRIES[lambdaName], PROJECT_ROOT)) {
            const rule = SENDS.find(
              (r) => r.lambda === lambdaName && r.file === call.file && r.actions.includes(call.action),
            );
            expect(
              rule,
              `${name} ${fn}: no rule says whether ${call.action} in ${call.file} is sent`,
            ).toBeDefined();
            used.add(rule!);
            if (typeof rule!.target === "string" && rule!.target.startsWith("never:")) continue;
            if (!rule!.when(configs)) continue;
            sent[lambdaName]++;
            expect(
              isAllowed(t, fn, call.action, rule!.target as Target, configs),
              `${name} ${fn}: ${call.action} (${call.file}) is not allowed on ${rule!.target}`,
            ).toBe(true);
          }
        }
      }
      expect(
        SENDS.filter((r) => !used.has(r)),
        "rules no code matches any more",
      ).toEqual([]);
      expect(sent.exchange).toBeGreaterThan(0);
      expect(sent.discovery).toBeGreaterThan(0);
      expect(sent.rotation).toBeGreaterThan(0);
    });

    it("alarms on Errors and Throttles for each of the three functions", () => {
      for (const metric of ["Errors", "Throttles"])
        expect(
          Object.keys(a.findResources("AWS::CloudWatch::Alarm", { Properties: { MetricName: metric } })),
        ).toHaveLength(3);
    });

    it("log groups have a retention and are retained", () => {
      for (const g of Object.values(a.findResources("AWS::Logs::LogGroup")) as Json[])
        expect((g.Properties as Json).RetentionInDays).toBe(90);
    });
  });

  describe("endpoints", () => {
    it("the exchange is a Function URL with auth NONE (the proof is the authentication)", () => {
      a.hasResourceProperties("AWS::Lambda::Url", {
        AuthType: "NONE",
        TargetFunctionArn: { "Fn::GetAtt": [Match.stringLikeRegexp("Exchange"), "Arn"] },
      });
      a.resourceCountIs("AWS::Lambda::Url", 1);
    });

    it("discovery: an HTTP API routing GET and HEAD of the three documents only, throttled and logged", () => {
      const routes = Object.values(a.findResources("AWS::ApiGatewayV2::Route")).map(
        (r) => ((r as Json).Properties as Json).RouteKey,
      );
      expect(routes.sort()).toEqual(
        [
          "GET /.well-known/jwks.json",
          "GET /.well-known/openid-configuration",
          "GET /bundle.json",
          "HEAD /.well-known/jwks.json",
          "HEAD /.well-known/openid-configuration",
          "HEAD /bundle.json",
        ].sort(),
      );
      a.hasResourceProperties("AWS::ApiGatewayV2::Stage", {
        StageName: "$default",
        AutoDeploy: true,
        DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
        AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue() }),
      });
      a.resourceCountIs("AWS::ApiGatewayV2::DomainName", 0);
    });

    it("B: the issuer is the custom domain (ACM certificate, an A alias only: item 10), execute-api disabled", () => {
      b.hasResourceProperties("AWS::CertificateManager::Certificate", {
        DomainName: "spiffe.example.com",
        ValidationMethod: "DNS",
      });
      b.hasResourceProperties("AWS::ApiGatewayV2::DomainName", { DomainName: "spiffe.example.com" });
      b.resourceCountIs("AWS::ApiGatewayV2::ApiMapping", 1);
      b.hasResourceProperties("AWS::Route53::RecordSet", {
        Name: "spiffe.example.com.",
        Type: "A",
        HostedZoneId: "Z0123456789ABC",
      });
      // The regional API domain answers over IPv4 only: an AAAA alias would resolve to nothing.
      b.resourceCountIs("AWS::Route53::RecordSet", 1);
      b.hasResourceProperties("AWS::ApiGatewayV2::Api", { DisableExecuteApiEndpoint: true });
      c.hasResourceProperties("AWS::ApiGatewayV2::DomainName", {
        DomainName: "issuer.c.example.net",
        DomainNameConfigurations: [Match.objectLike({ CertificateArn: CERTIFICATE })],
      });
    });
  });

  describe("rotation schedule and first run", () => {
    it("an EventBridge rule runs rotation every hour", () => {
      a.hasResourceProperties("AWS::Events::Rule", {
        ScheduleExpression: "rate(1 hour)",
        Targets: [Match.objectLike({ Arn: { "Fn::GetAtt": [Match.stringLikeRegexp("Rotation"), "Arn"] } })],
      });
    });

    it("a custom resource runs rotation once at deploy; B's waits for the created PCA's activation", () => {
      a.hasResourceProperties("Custom::SvidBridgeFirstRotation", {
        keyManager: "kms",
        jwtAlg: "RS256",
        caMode: "intermediate",
        pca: PCA_A,
      });
      const onEvent = Object.values(
        a.findResources("AWS::IAM::Role", {
          Properties: { Description: "SVID Bridge: invoke the rotation once at deploy" },
        }),
      )[0] as Json;
      const s = (onEvent.Properties as { Policies: { PolicyDocument: { Statement: Statement[] } }[] })
        .Policies[0]!.PolicyDocument.Statement;
      expect(bySid(s).InvokeRotation).toMatchObject({
        Action: "lambda:InvokeFunction",
        Resource: { "Fn::GetAtt": [expect.stringMatching(/Rotation/), "Arn"] },
      });
      const [run] = Object.values(b.findResources("Custom::SvidBridgeFirstRotation")) as Json[];
      expect(run!.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/Activation/)]));
    });
  });

  describe("PCA created by the bridge (B: subordinate)", () => {
    it("a short-lived-mode subordinate, signed by the parent with PathLen0 (direct mode), activated with the chain", () => {
      b.hasResourceProperties("AWS::ACMPCA::CertificateAuthority", {
        Type: "SUBORDINATE",
        UsageMode: "SHORT_LIVED_CERTIFICATE",
        KeyAlgorithm: "EC_prime256v1",
      });
      b.hasResourceProperties("AWS::ACMPCA::Certificate", {
        CertificateAuthorityArn: PARENT_PCA,
        TemplateArn: "arn:aws:acm-pca:::template/SubordinateCACertificate_PathLen0/V1",
      });
      b.hasResourceProperties("AWS::ACMPCA::CertificateAuthorityActivation", {
        Status: "ACTIVE",
        CertificateChain: Match.stringLikeRegexp("BEGIN CERTIFICATE"),
      });
      a.resourceCountIs("AWS::ACMPCA::CertificateAuthority", 0);
    });
  });

  describe("CA modes AWS allows, costs on failed creates, concurrency (items 3, 5, 9)", () => {
    it("item 3: the parent signs the subordinate with the parent's algorithm; a created root is general-purpose", () => {
      b.hasResourceProperties("AWS::ACMPCA::Certificate", {
        CertificateAuthorityArn: PARENT_PCA,
        SigningAlgorithm: "SHA256WITHRSA",
      });
      c.hasResourceProperties("AWS::ACMPCA::CertificateAuthority", {
        Type: "ROOT",
        UsageMode: "GENERAL_PURPOSE",
      });
      c.hasResourceProperties("AWS::ACMPCA::Certificate", { SigningAlgorithm: "SHA256WITHECDSA" });
    });

    it("item 3: short-lived mode only for the last CA: a subordinate that signs the bridge's intermediate is general-purpose", () => {
      d.hasResourceProperties("AWS::ACMPCA::CertificateAuthority", {
        Type: "SUBORDINATE",
        UsageMode: "GENERAL_PURPOSE",
      });
      d.hasResourceProperties("AWS::ACMPCA::Certificate", {
        TemplateArn: "arn:aws:acm-pca:::template/SubordinateCACertificate_PathLen1/V1",
      });
      expect(usageModeFor("subordinate", "direct")).toBe("SHORT_LIVED_CERTIFICATE");
      expect(usageModeFor("subordinate", "intermediate")).toBe("GENERAL_PURPOSE");
      expect(usageModeFor("root", "direct")).toBe("GENERAL_PURPOSE");
      expect(usageModeFor("root", "intermediate")).toBe("GENERAL_PURPOSE");
    });

    it("item 5: a failed first deploy removes the PCA, the wrapping key and log groups (RetainExceptOnCreate); tables stay (free when empty)", () => {
      for (const type of ["AWS::ACMPCA::CertificateAuthority", "AWS::KMS::Key", "AWS::Logs::LogGroup"])
        for (const t of [b, c])
          for (const [id, r] of Object.entries(t.findResources(type)) as [string, Json][])
            if (id.startsWith("Bridge"))
              expect([type, id, r.DeletionPolicy]).toEqual([type, id, "RetainExceptOnCreate"]);
      for (const r of Object.values(j.findResources("AWS::DynamoDB::GlobalTable")) as Json[])
        expect(r.DeletionPolicy).toBe("Retain");
    });

    it("item 9: the public exchange has a reserved concurrency of 100 by default, a given one, or none when asked", () => {
      expect(fnResource(j, "Exchange").Properties.ReservedConcurrentExecutions).toBe(100);
      expect(fnResource(a, "Exchange").Properties.ReservedConcurrentExecutions).toBe(100);
      expect(fnResource(b, "Exchange").Properties.ReservedConcurrentExecutions).toBe(20);
      expect(fnResource(c, "Exchange").Properties.ReservedConcurrentExecutions).toBeUndefined();
      expect(fnResource(j, "Discovery").Properties.ReservedConcurrentExecutions).toBeUndefined();
    });
  });

  describe("layer and attachSvidBridge", () => {
    it("the layer supports nodejs22.x/24.x on both architectures; B shares it with the Organization", () => {
      a.hasResourceProperties("AWS::Lambda::LayerVersion", {
        CompatibleRuntimes: ["nodejs22.x", "nodejs24.x"],
        CompatibleArchitectures: ["arm64", "x86_64"],
      });
      a.resourceCountIs("AWS::Lambda::LayerVersionPermission", 0);
      b.hasResourceProperties("AWS::Lambda::LayerVersionPermission", {
        Action: "lambda:GetLayerVersion",
        Principal: "*",
        OrganizationId: "o-abcdefghij",
      });
    });

    it("attachSvidBridge adds the layer and the extension's environment", () => {
      const [consumer] = Object.values(
        b.findResources("AWS::Lambda::Function", {
          Properties: { Handler: "index.handler", Runtime: "nodejs22.x" },
        }),
      ).filter((f) => !((f as Json).Properties as Json).Description) as Json[];
      const p = consumer!.Properties as {
        Layers: unknown[];
        Environment: { Variables: Record<string, unknown> };
      };
      expect(p.Layers).toEqual([{ Ref: expect.stringMatching(/Layer/) }]);
      expect(p.Environment.Variables).toMatchObject({
        SVID_BRIDGE_URL: { "Fn::GetAtt": [expect.stringMatching(/Exchange/), "FunctionUrl"] },
        SVID_BRIDGE_SERVER_ID: "https://spiffe.example.com",
        SVID_BRIDGE_JWT_AUDIENCES: "sts.amazonaws.com,gcp",
        SVID_BRIDGE_X509: "off",
        AWS_LAMBDA_EXEC_WRAPPER: "/opt/svid-bridge/svid-bridge-wrapper",
        // item 12: what the Azure SDKs need besides the token
        AZURE_CLIENT_ID: "11111111-2222-3333-4444-555555555555",
        AZURE_TENANT_ID: "66666666-7777-8888-9999-000000000000",
      });
    });
  });

  describe("outputs", () => {
    it("issuer URL, exchange URL, server ID, layer ARN and the three table names", () => {
      expect(Object.keys(a.findOutputs("*")).sort()).toEqual(
        [
          "ExchangeUrl",
          "IssuerUrl",
          "KeySetTableName",
          "LayerArn",
          "RegistrationsTableName",
          "ReplayTableName",
          "ServerId",
        ].sort(),
      );
      b.hasOutput("IssuerUrl", { Value: "https://spiffe.example.com" });
    });
  });
});
