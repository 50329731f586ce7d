import { describe, expect, it } from "vitest";
import { DEFAULT_HTTP_PORT, readConfig } from "../../layers/extension/src/config.js";
import { errorCodeOf } from "../../lib/errors.js";

const BASE = {
  SVID_BRIDGE_URL: "https://bridge.example.org",
  SVID_BRIDGE_SERVER_ID: "bridge.example.org",
  AWS_LAMBDA_RUNTIME_API: "127.0.0.1:9001",
  AWS_REGION: "eu-west-1",
  AWS_ACCESS_KEY_ID: "ASIAEXAMPLE",
  AWS_SECRET_ACCESS_KEY: "secret",
  AWS_SESSION_TOKEN: "session",
};

function refusal(env: Record<string, string | undefined>): string {
  try {
    readConfig(env);
  } catch (e) {
    expect(errorCodeOf(e)).toBe("config_invalid");
    return (e as Error).message;
  }
  throw new Error("readConfig accepted it");
}

describe("extension config", () => {
  it("has documented defaults and is frozen", () => {
    const c = readConfig(BASE);
    expect(c).toMatchObject({
      httpPort: DEFAULT_HTTP_PORT,
      initFailure: "fail",
      x509: true,
      filesDir: undefined,
      apiToken: "session",
      snapStart: false,
      jwtAudiences: [],
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it("names the variable in every refusal", () => {
    expect(refusal({ ...BASE, SVID_BRIDGE_URL: undefined })).toMatch(/^SVID_BRIDGE_URL/);
    expect(refusal({ ...BASE, SVID_BRIDGE_URL: "http://bridge.example.org" })).toMatch(
      /^SVID_BRIDGE_URL .*https/,
    );
    expect(refusal({ ...BASE, SVID_BRIDGE_URL: "https://b.example.org/?x=1" })).toMatch(/^SVID_BRIDGE_URL/);
    expect(refusal({ ...BASE, SVID_BRIDGE_SERVER_ID: "" })).toMatch(/^SVID_BRIDGE_SERVER_ID/);
    expect(refusal({ ...BASE, SVID_BRIDGE_HTTP_PORT: "70000" })).toMatch(/^SVID_BRIDGE_HTTP_PORT/);
    expect(refusal({ ...BASE, SVID_BRIDGE_HTTP_PORT: "12ab" })).toMatch(/^SVID_BRIDGE_HTTP_PORT/);
    expect(refusal({ ...BASE, SVID_BRIDGE_INIT_FAILURE: "maybe" })).toMatch(/^SVID_BRIDGE_INIT_FAILURE/);
    expect(refusal({ ...BASE, SVID_BRIDGE_FILES_DIR: "tmp/x" })).toMatch(/^SVID_BRIDGE_FILES_DIR/);
    expect(refusal({ ...BASE, SVID_BRIDGE_SPIFFE_ID: "spiffe://Bad/x" })).toMatch(/^SVID_BRIDGE_SPIFFE_ID/);
    expect(refusal({ ...BASE, AWS_WEB_IDENTITY_TOKEN_FILE: "tmp/t" })).toMatch(
      /^AWS_WEB_IDENTITY_TOKEN_FILE/,
    );
    expect(refusal({ ...BASE, SVID_BRIDGE_TOKEN_AUDIENCE: "sts.amazonaws.com" })).toMatch(
      /^SVID_BRIDGE_TOKEN_AUDIENCE is gone: .*SVID_BRIDGE_AWS_TOKEN_AUDIENCE and SVID_BRIDGE_AZURE_TOKEN_AUDIENCE/,
    );
    expect(refusal({ ...BASE, AWS_REGION: undefined })).toMatch(/^AWS_REGION/);
    expect(refusal({ ...BASE, AWS_ACCESS_KEY_ID: undefined })).toMatch(/^AWS_ACCESS_KEY_ID/);
  });

  it("allows plain http only to loopback", () => {
    expect(readConfig({ ...BASE, SVID_BRIDGE_URL: "http://127.0.0.1:8080/" }).bridgeUrl).toBe(
      "http://127.0.0.1:8080",
    );
  });

  it("uses the container credentials and their token as the guard under SnapStart", () => {
    const c = readConfig({
      ...BASE,
      AWS_ACCESS_KEY_ID: undefined,
      AWS_SECRET_ACCESS_KEY: undefined,
      AWS_SESSION_TOKEN: undefined,
      AWS_CONTAINER_CREDENTIALS_FULL_URI: "http://127.0.0.1:9001/2021-04-23/credentials",
      AWS_CONTAINER_AUTHORIZATION_TOKEN: "container-token",
      AWS_LAMBDA_INITIALIZATION_TYPE: "snap-start",
    });
    expect(c.apiToken).toBe("container-token");
    expect(c.snapStart).toBe(true);
    expect(c.credentials.container?.fullUri).toContain("/credentials");
  });

  it("reads audiences as a de-duplicated comma list and token files with their audience", () => {
    const c = readConfig({
      ...BASE,
      SVID_BRIDGE_JWT_AUDIENCES: " a, b ,a,,",
      AZURE_FEDERATED_TOKEN_FILE: "/tmp/azure-token",
    });
    expect(c.jwtAudiences).toEqual(["a", "b"]);
    expect(c.tokenFiles).toEqual([{ path: "/tmp/azure-token", audience: "api://AzureADTokenExchange" }]);
  });

  it("item 13: each token file has its own audience, defaulting to what its relying party expects", () => {
    const both = readConfig({
      ...BASE,
      AWS_WEB_IDENTITY_TOKEN_FILE: "/tmp/aws-token",
      AZURE_FEDERATED_TOKEN_FILE: "/tmp/azure-token",
    });
    expect(both.tokenFiles).toEqual([
      { path: "/tmp/aws-token", audience: "sts.amazonaws.com" },
      { path: "/tmp/azure-token", audience: "api://AzureADTokenExchange" },
    ]);
    const custom = readConfig({
      ...BASE,
      AWS_WEB_IDENTITY_TOKEN_FILE: "/tmp/aws-token",
      SVID_BRIDGE_AWS_TOKEN_AUDIENCE: "my-client-id",
    });
    expect(custom.tokenFiles).toEqual([{ path: "/tmp/aws-token", audience: "my-client-id" }]);
  });
});
