/**
 * The two Lambdas as deployed: handler.ts modules loaded with their environment, talking
 * to DynamoDB (dynalite) through the real SDK client, fed the sample events in events/.
 */
import { readFileSync } from "node:fs";
import { CreateTableCommand } from "@aws-sdk/client-dynamodb";
import type { APIGatewayProxyEventV2, Context } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadDiscoveryConfig } from "../../lambdas/discovery/config.js";
import { loadRotationConfig } from "../../lambdas/rotation/config.js";
import { keySetTableDefinition } from "../../lib/aws/dynamodb-key-set-store.js";
import {
  DYNAMODB_TEST_CREDENTIALS,
  type RunningDynamoDb,
  startDynalite,
} from "../../lib/local/dynamodb-server.js";

const event = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../events/${name}.json`, import.meta.url), "utf8"));
const context = {
  functionName: "test",
  awsRequestId: "r",
  getRemainingTimeInMillis: () => 30_000,
} as Context;

let dynamo: RunningDynamoDb;
const saved = { ...process.env };

beforeAll(async () => {
  dynamo = await startDynalite();
  await dynamo.client.send(new CreateTableCommand(keySetTableDefinition("svid-bridge-keys")));
  Object.assign(process.env, {
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: DYNAMODB_TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: DYNAMODB_TEST_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    POWERTOOLS_LOG_LEVEL: "SILENT",
    SVID_BRIDGE_ISSUER: "https://bridge.example.com",
    SVID_BRIDGE_TRUST_DOMAIN: "bridge.example.com",
    SVID_BRIDGE_KEY_SET_TABLE: "svid-bridge-keys",
    SVID_BRIDGE_KEY_MANAGER: "memory",
    SVID_BRIDGE_JWT_ALG: "ES256",
  });
});

afterAll(async () => {
  process.env = saved;
  await dynamo.stop();
});

describe("rotation and discovery Lambdas on DynamoDB", () => {
  it("the scheduled rotation creates the first key and discovery serves it for every sample event", async () => {
    const rotation = await import("../../lambdas/rotation/handler.js");
    const result = await rotation.handler(event("rotation-scheduled"), context);
    expect(result.changed).toBe(true);
    expect((await rotation.handler(event("rotation-scheduled"), context)).changed).toBe(false);

    const discovery = await import("../../lambdas/discovery/handler.js");
    const call = (name: string) => discovery.handler(event(name) as APIGatewayProxyEventV2, context);

    const config = await call("discovery-openid-configuration");
    expect(config.statusCode).toBe(200);
    expect(JSON.parse(config.body).issuer).toBe("https://bridge.example.com");
    const jwks = await call("discovery-jwks");
    expect(JSON.parse(jwks.body).keys.map((k: { kid: string }) => k.kid)).toEqual([result.activeKid]);
    expect((await call("discovery-jwks-if-none-match")).statusCode).toBe(200);
    const bundle = await call("discovery-bundle");
    expect(JSON.parse(bundle.body).spiffe_sequence).toBe(result.sequence);
    const head = await call("discovery-head-bundle");
    expect([head.statusCode, head.body, head.headers.etag]).toEqual([200, "", bundle.headers.etag]);
    expect((await call("discovery-not-found")).statusCode).toBe(404);
    expect((await call("discovery-post")).statusCode).toBe(405);
  });
});

describe("Lambda configuration", () => {
  const base = {
    SVID_BRIDGE_ISSUER: "https://bridge.example.com",
    SVID_BRIDGE_TRUST_DOMAIN: "bridge.example.com",
    SVID_BRIDGE_KEY_SET_TABLE: "t",
  };

  it("discovery: defaults, frozen", () => {
    const config = loadDiscoveryConfig(base);
    expect(config).toMatchObject({ cacheMaxAgeSeconds: 300, refreshHintSeconds: 300, keySetCacheSeconds: 5 });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it.each([
    [{ SVID_BRIDGE_ISSUER: undefined }, "SVID_BRIDGE_ISSUER"],
    [{ SVID_BRIDGE_ISSUER: "https://bridge.example.com/" }, "SVID_BRIDGE_ISSUER"],
    [{ SVID_BRIDGE_ISSUER: "http://bridge.example.com" }, "SVID_BRIDGE_ISSUER"],
    [{ SVID_BRIDGE_TRUST_DOMAIN: "Bad Domain" }, "SVID_BRIDGE_TRUST_DOMAIN"],
    [{ SVID_BRIDGE_KEY_SET_TABLE: "" }, "SVID_BRIDGE_KEY_SET_TABLE"],
    [{ SVID_BRIDGE_CACHE_MAX_AGE: "5m" }, "SVID_BRIDGE_CACHE_MAX_AGE"],
    [{ SVID_BRIDGE_ISSUER: "https://bridge.example.com:443" }, "SVID_BRIDGE_ISSUER"],
    [{ SVID_BRIDGE_ISSUER: "https://bridge.example.com?" }, "SVID_BRIDGE_ISSUER"],
    [{ SVID_BRIDGE_CACHE_MAX_AGE: "86400" }, "SVID_BRIDGE_CACHE_MAX_AGE"],
    [{ SVID_BRIDGE_BUNDLE_REFRESH_HINT: "0" }, "SVID_BRIDGE_BUNDLE_REFRESH_HINT"],
  ])("discovery refuses %o naming %s", (change, name) => {
    expect(() => loadDiscoveryConfig({ ...base, ...change })).toThrow(
      expect.objectContaining({ code: "config_invalid", message: expect.stringContaining(name) }),
    );
  });

  it("rotation: defaults (24 h period, 1 h lead, RS256, KMS), frozen", () => {
    const config = loadRotationConfig({
      SVID_BRIDGE_KEY_SET_TABLE: "t",
      SVID_BRIDGE_TRUST_DOMAIN: "example.org",
      SVID_BRIDGE_ROTATION_ROLE_ARN: "arn:aws:iam::111122223333:role/rotation",
      SVID_BRIDGE_SIGNER_ROLE_ARNS: "arn:aws:iam::111122223333:role/exchange",
      SVID_BRIDGE_PCA_ARN: "arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/x",
    });
    expect(config.keyManager).toBe("kms");
    expect(config.caMode).toBe("intermediate");
    expect(config.rotation).toMatchObject({
      alg: "RS256",
      rotationPeriodSeconds: 86_400,
      publicationLeadSeconds: 3600,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it.each([
    [{ SVID_BRIDGE_KEY_SET_TABLE: undefined }, "SVID_BRIDGE_KEY_SET_TABLE"],
    [{ SVID_BRIDGE_JWT_ALG: "HS256" }, "SVID_BRIDGE_JWT_ALG"],
    [{ SVID_BRIDGE_KEY_MANAGER: "vault" }, "SVID_BRIDGE_KEY_MANAGER"],
    [{ SVID_BRIDGE_ROTATION_PERIOD: "-1" }, "SVID_BRIDGE_ROTATION_PERIOD"],
    [{ SVID_BRIDGE_PUBLICATION_LEAD: "90000" }, "SVID_BRIDGE_PUBLICATION_LEAD"],
    [{ SVID_BRIDGE_MAX_JWT_TTL: "200000" }, "SVID_BRIDGE_MAX_JWT_TTL"],
  ])("rotation refuses %o naming %s", (change, name) => {
    expect(() =>
      loadRotationConfig({ SVID_BRIDGE_KEY_SET_TABLE: "t", SVID_BRIDGE_KEY_MANAGER: "memory", ...change }),
    ).toThrow(expect.objectContaining({ code: "config_invalid", message: expect.stringContaining(name) }));
  });

  it.each([
    [{ SVID_BRIDGE_TRUST_DOMAIN: undefined }, "SVID_BRIDGE_TRUST_DOMAIN"],
    [{ SVID_BRIDGE_TRUST_DOMAIN: "Bad.Domain" }, "SVID_BRIDGE_TRUST_DOMAIN"],
    [{ SVID_BRIDGE_PCA_ARN: undefined }, "SVID_BRIDGE_PCA_ARN"],
    [{ SVID_BRIDGE_KEY_MANAGER: "kms-wrapped" }, "SVID_BRIDGE_WRAPPING_KEY_ID"],
    [{ SVID_BRIDGE_ROTATION_ROLE_ARN: undefined }, "SVID_BRIDGE_ROTATION_ROLE_ARN"],
    [{ SVID_BRIDGE_SIGNER_ROLE_ARNS: undefined }, "SVID_BRIDGE_SIGNER_ROLE_ARNS"],
    [{ SVID_BRIDGE_SIGNER_ROLE_ARNS: "arn:aws:iam::999999999999:role/x" }, "SVID_BRIDGE_SIGNER_ROLE_ARNS"],
    [{ SVID_BRIDGE_ROTATION_ROLE_ARN: "arn:aws:iam::111122223333:user/u" }, "SVID_BRIDGE_ROTATION_ROLE_ARN"],
    [{ SVID_BRIDGE_CA_MODE: "none" }, "SVID_BRIDGE_PCA_ARN"],
  ])("rotation with KMS keys refuses %o naming %s", (change, name) => {
    const env = {
      SVID_BRIDGE_KEY_SET_TABLE: "t",
      SVID_BRIDGE_TRUST_DOMAIN: "example.org",
      SVID_BRIDGE_ROTATION_ROLE_ARN: "arn:aws:iam::111122223333:role/rotation",
      SVID_BRIDGE_SIGNER_ROLE_ARNS: "arn:aws:iam::111122223333:role/exchange",
      SVID_BRIDGE_PCA_ARN: "arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/x",
      ...change,
    };
    expect(() => loadRotationConfig(env)).toThrow(
      expect.objectContaining({ code: "config_invalid", message: expect.stringContaining(name) }),
    );
  });

  it("wires the KMS and KMS-wrapped key managers", async () => {
    const { keyManagerFactories } = await import("../../lambdas/rotation/key-managers.js");
    const { KMSClient } = await import("@aws-sdk/client-kms");
    const { KmsKeyManager } = await import("../../lib/aws/kms-key-manager.js");
    const { KmsWrappedKeyManager } = await import("../../lib/aws/kms-wrapped-key-manager.js");
    const env = {
      SVID_BRIDGE_KEY_SET_TABLE: "t",
      SVID_BRIDGE_TRUST_DOMAIN: "example.org",
      SVID_BRIDGE_CA_MODE: "direct",
      SVID_BRIDGE_ROTATION_ROLE_ARN: "arn:aws:iam::111122223333:role/rotation",
      SVID_BRIDGE_SIGNER_ROLE_ARNS: "arn:aws:iam::111122223333:role/exchange",
    };
    const kms = () => new KMSClient({ region: "us-east-1" });
    expect(keyManagerFactories.kms(loadRotationConfig(env), { dynamodb: dynamo.client, kms })).toBeInstanceOf(
      KmsKeyManager,
    );
    const wrapped = loadRotationConfig({
      ...env,
      SVID_BRIDGE_KEY_MANAGER: "kms-wrapped",
      SVID_BRIDGE_WRAPPING_KEY_ID: "alias/wrap",
    });
    expect(keyManagerFactories["kms-wrapped"](wrapped, { dynamodb: dynamo.client, kms })).toBeInstanceOf(
      KmsWrappedKeyManager,
    );
  });
});
