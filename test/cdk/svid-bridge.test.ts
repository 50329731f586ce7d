/**
 * The SvidBridge construct, synthesized once for two deployments (one app, cdk-nag's
 * AwsSolutions pack as a validation plugin) and checked resource by resource, and above
 * all policy statement by policy statement:
 *   A: kms keys, intermediate CA mode, an imported PCA, the execute-api issuer URL;
 *   B: kms-wrapped keys, direct CA mode, a created subordinate PCA, a custom issuer
 *      domain in a hosted zone, a customer-managed table key, an Organization layer
 *      permission, and a consumer function with attachSvidBridge.
 */
import { mkdtempSync, rmSync } from "node:fs";
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
import { attachSvidBridge } from "../../lib/cdk/svid-bridge-layer.js";
import { SvidBridgeStack } from "../../lib/cdk/svid-bridge-stack.js";
import { buildLayer } from "../../scripts/build-layer.js";

const PCA_A =
  "arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/11111111-2222-3333-4444-555555555555";
const PARENT_PCA =
  "arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/99999999-2222-3333-4444-555555555555";
const ENV = { account: "111122223333", region: "eu-west-1" };

type Statement = {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};
type Json = Record<string, unknown>;

const list = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

describe("SvidBridge", () => {
  let outDir: string;
  let a: Template;
  let b: Template;
  let stackA: SvidBridgeStack;
  let stackB: SvidBridgeStack;

  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), "svid-bridge-cdk-"));
    const layer = await buildLayer(join(outDir, "layer"));
    const app = new App({ outdir: join(outDir, "cdk.out") });
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
    attachSvidBridge(consumer, stackB.bridge, { jwtAudiences: ["sts.amazonaws.com", "gcp"], x509: false });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    // One synth for every assertion below; it throws if cdk-nag finds anything unacknowledged.
    app.synth();
    a = Template.fromStack(stackA);
    b = Template.fromStack(stackB);
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
  const statements = (t: Template, fn: "Exchange" | "Discovery" | "Rotation") => {
    const r = role(t, fn);
    expect(r.Properties.Policies).toHaveLength(1);
    return r.Properties.Policies[0]!.PolicyDocument.Statement;
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
  const tagCondition = (td: string) => ({ StringEquals: { [`aws:ResourceTag/${TRUST_DOMAIN_TAG}`]: td } });

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
    it("has exactly: Sign/GetPublicKey on tagged keys, Query on by-caller, GetItem key set, PutItem replay, own logs", () => {
      const s = statements(a, "Exchange");
      expect(actions(s)).toEqual([
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "kms:GetPublicKey",
        "kms:Sign",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
      ]);
      const sid = bySid(s);
      expect(sid.SignWithTrustDomainKeys).toMatchObject({
        Effect: "Allow",
        Condition: tagCondition("example.org"),
        Resource: {
          "Fn::Join": ["", ["arn:", { Ref: "AWS::Partition" }, ":kms:eu-west-1:111122223333:key/*"]],
        },
      });
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

    it("adds IssueCertificate (APIPassthrough template only) and GetCertificate on the bridge's PCA", () => {
      const sid = bySid(statements(b, "Exchange"));
      expect(sid.IssueLeavesThroughPca).toMatchObject({
        Action: "acm-pca:IssueCertificate",
        Resource: { "Fn::GetAtt": [expect.stringMatching(/CertificateAuthority/), "Arn"] },
        Condition: {
          StringEquals: {
            "acm-pca:TemplateArn": {
              "Fn::Join": [
                "",
                [
                  "arn:",
                  { Ref: "AWS::Partition" },
                  ":acm-pca:::template/BlankEndEntityCertificate_APIPassthrough/V1",
                ],
              ],
            },
          },
        },
      });
      expect(sid.FetchIssuedLeaves).toMatchObject({ Action: "acm-pca:GetCertificate" });
      expect(actions(statements(b, "Exchange")).filter((x) => x.startsWith("acm-pca:"))).toEqual([
        "acm-pca:GetCertificate",
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
    it("A: creates only tagged SIGN_VERIFY keys of the bridge's specs, tags on create, uses and retires tagged keys", () => {
      const s = statements(a, "Rotation");
      expect(actions(s)).toEqual([
        "acm-pca:GetCertificate",
        "acm-pca:GetCertificateAuthorityCertificate",
        "acm-pca:IssueCertificate",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "kms:CreateKey",
        "kms:GetPublicKey",
        "kms:ScheduleKeyDeletion",
        "kms:Sign",
        "kms:TagResource",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
      ]);
      const sid = bySid(s);
      expect(sid.CreateTaggedSigningKeys).toEqual({
        Sid: "CreateTaggedSigningKeys",
        Effect: "Allow",
        Action: "kms:CreateKey",
        Resource: "*",
        Condition: {
          StringEquals: {
            [`aws:RequestTag/${TRUST_DOMAIN_TAG}`]: "example.org",
            "kms:KeyUsage": "SIGN_VERIFY",
          },
          "ForAllValues:StringEquals": {
            "aws:TagKeys": [TRUST_DOMAIN_TAG, "svid-bridge:alg"],
            "kms:KeySpec": ["RSA_2048", "ECC_NIST_P256", "ECC_NIST_P384"],
          },
          Bool: { "kms:BypassPolicyLockoutSafetyCheck": "false" },
        },
      });
      expect(sid.TagKeysOnCreate!.Condition).toMatchObject({
        StringEquals: { [`aws:RequestTag/${TRUST_DOMAIN_TAG}`]: "example.org" },
      });
      expect(sid.UseAndRetireTrustDomainKeys!.Condition).toEqual(tagCondition("example.org"));
      expect(sid.IssueIntermediateThroughPca).toMatchObject({
        Resource: PCA_A,
        Condition: {
          StringEquals: {
            "acm-pca:TemplateArn": {
              "Fn::Join": [
                "",
                [
                  "arn:",
                  { Ref: "AWS::Partition" },
                  ":acm-pca:::template/SubordinateCACertificate_PathLen0/V1",
                ],
              ],
            },
          },
        },
      });
      expect(sid.FetchIntermediateAndRoot!.Resource).toBe(PCA_A);
      expect(list(sid.ReadWriteKeySet!.Resource)).toHaveLength(1);
    });

    it("B (direct mode) may not touch the PCA; kms-wrapped adds GenerateDataKeyPair under the encryption context", () => {
      const s = statements(b, "Rotation");
      expect(actions(s).filter((x) => x.startsWith("acm-pca:"))).toEqual([]);
      const g = bySid(s).MakeWrappedKeyPairs!;
      expect(g.Action).toBe("kms:GenerateDataKeyPair");
      expect(g.Condition).toEqual({ Null: { "kms:EncryptionContext:svid-bridge:wrapped-key-id": "false" } });
      expect(bySid(s).CreateTaggedSigningKeys!.Condition!.StringEquals).toMatchObject({
        [`aws:RequestTag/${TRUST_DOMAIN_TAG}`]: "prod.example.com",
      });
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

    it("B: the wrapping key rotates, is retained, and denies Decrypt/GenerateDataKeyPair to untagged principals", () => {
      b.hasResource("AWS::KMS::Key", {
        DeletionPolicy: "Retain",
        Properties: {
          EnableKeyRotation: true,
          KeyPolicy: {
            Statement: Match.arrayWith([
              Match.objectLike({
                Sid: "OnlyThisBridgeUnwraps",
                Effect: "Deny",
                Principal: { AWS: "*" },
                Action: ["kms:Decrypt", "kms:GenerateDataKeyPair"],
                Condition: {
                  StringNotEquals: { [`aws:PrincipalTag/${TRUST_DOMAIN_TAG}`]: "prod.example.com" },
                },
              }),
            ]),
          },
        },
      });
      a.resourceCountIs("AWS::KMS::Key", 0);
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

    /** The env as the function sees it, with CloudFormation references replaced by plausible values. */
    const resolvedEnv = (t: Template, fn: string, refs: Record<string, string>) =>
      Object.fromEntries(
        Object.entries(fnResource(t, fn).Properties.Environment.Variables).map(([k, v]) => [
          k,
          typeof v === "string" ? v : (refs[k] ?? `resolved-${k.toLowerCase()}`),
        ]),
      );

    it("the exchange's own config loader accepts what either stack gives it", () => {
      const e = loadExchangeConfig(
        resolvedEnv(b, "Exchange", {
          SVID_BRIDGE_WRAPPING_KEY_ID: "arn:aws:kms:eu-west-1:111122223333:key/abc",
          SVID_BRIDGE_PCA_ARN: PARENT_PCA,
        }),
      );
      expect(e).toMatchObject({
        keyManager: "kms-wrapped",
        caMode: "direct",
        issuer: "https://spiffe.example.com",
        serverId: "https://spiffe.example.com",
        allowedRegions: ["eu-west-1"],
        maxJwtTtlSeconds: 1800,
        maxX509TtlSeconds: 3600,
      });
      const ea = loadExchangeConfig(
        resolvedEnv(a, "Exchange", {
          SVID_BRIDGE_ISSUER: "https://abc123.execute-api.eu-west-1.amazonaws.com",
          SVID_BRIDGE_SERVER_ID: "https://abc123.execute-api.eu-west-1.amazonaws.com",
        }),
      );
      expect(ea).toMatchObject({ keyManager: "kms", caMode: "intermediate", pcaArn: PCA_A });
    });

    it("discovery's and rotation's own config loaders accept what the stack gives them", () => {
      const issuer = "https://abc123.execute-api.eu-west-1.amazonaws.com";
      const d = loadDiscoveryConfig(resolvedEnv(a, "Discovery", { SVID_BRIDGE_ISSUER: issuer }));
      expect(d.issuer).toBe(issuer);
      expect(d.trustDomain.name).toBe("example.org");
      expect(d.cacheMaxAgeSeconds).toBe(300);
      const r = loadRotationConfig(resolvedEnv(a, "Rotation", {}));
      expect(r.keyManager).toBe("kms");
      expect(r.rotation).toMatchObject({
        alg: "RS256",
        maxJwtTtlSeconds: 3600,
        rotationPeriodSeconds: 86_400,
      });
      // Rotation and exchange must agree on the longest JWT lifetime (retention depends on it).
      const rb = fnResource(b, "Rotation").Properties.Environment.Variables;
      expect(rb.SVID_BRIDGE_MAX_JWT_TTL).toBe("1800");
      expect(rb).toMatchObject({
        SVID_BRIDGE_JWT_ALG: "ES256",
        SVID_BRIDGE_CA_MODE: "direct",
        SVID_BRIDGE_TRUST_DOMAIN: "prod.example.com",
        SVID_BRIDGE_KEY_MANAGER: "kms-wrapped",
      });
      expect(rb.SVID_BRIDGE_WRAPPING_KEY_ID).toBeDefined();
      expect(rb.SVID_BRIDGE_PCA_ARN).toBeDefined();
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

    it("B: the issuer is the custom domain (ACM certificate, A and AAAA aliases), execute-api disabled", () => {
      b.hasResourceProperties("AWS::CertificateManager::Certificate", {
        DomainName: "spiffe.example.com",
        ValidationMethod: "DNS",
      });
      b.hasResourceProperties("AWS::ApiGatewayV2::DomainName", { DomainName: "spiffe.example.com" });
      b.resourceCountIs("AWS::ApiGatewayV2::ApiMapping", 1);
      for (const type of ["A", "AAAA"])
        b.hasResourceProperties("AWS::Route53::RecordSet", {
          Name: "spiffe.example.com.",
          Type: type,
          HostedZoneId: "Z0123456789ABC",
        });
      b.hasResourceProperties("AWS::ApiGatewayV2::Api", { DisableExecuteApiEndpoint: true });
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
        TemplateArn: {
          "Fn::Join": [
            "",
            ["arn:", { Ref: "AWS::Partition" }, ":acm-pca:::template/SubordinateCACertificate_PathLen0/V1"],
          ],
        },
      });
      b.hasResourceProperties("AWS::ACMPCA::CertificateAuthorityActivation", {
        Status: "ACTIVE",
        CertificateChain: Match.stringLikeRegexp("BEGIN CERTIFICATE"),
      });
      a.resourceCountIs("AWS::ACMPCA::CertificateAuthority", 0);
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
