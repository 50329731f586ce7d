import { describe, expect, it } from "vitest";
import { loadExchangeConfig } from "../../lambdas/exchange/config.js";

const base = {
  SVID_BRIDGE_TRUST_DOMAIN: "example.org",
  SVID_BRIDGE_ISSUER: "https://oidc.example.org",
  SVID_BRIDGE_REGISTRATIONS_TABLE: "r",
  SVID_BRIDGE_KEY_SET_TABLE: "k",
  SVID_BRIDGE_REPLAY_TABLE: "p",
  AWS_REGION: "eu-west-1",
};

describe("exchange configuration", () => {
  it("defaults: KMS keys, intermediate CA, server ID = issuer, the function's region, frozen", () => {
    const c = loadExchangeConfig(base);
    expect(c).toMatchObject({
      keyManager: "kms",
      caMode: "intermediate",
      serverId: "https://oidc.example.org",
      allowedRegions: ["eu-west-1"],
      allowIamUsers: false,
      maxJwtTtlSeconds: 3600,
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it.each([
    [{ SVID_BRIDGE_TRUST_DOMAIN: "Example.org" }, "SVID_BRIDGE_TRUST_DOMAIN"],
    [{ SVID_BRIDGE_ISSUER: "http://oidc.example.org" }, "SVID_BRIDGE_ISSUER"],
    [{ SVID_BRIDGE_REPLAY_TABLE: undefined }, "SVID_BRIDGE_REPLAY_TABLE"],
    [{ SVID_BRIDGE_KEY_MANAGER: "kms-wrapped" }, "SVID_BRIDGE_WRAPPING_KEY_ID"],
    [{ SVID_BRIDGE_CA_MODE: "direct" }, "SVID_BRIDGE_PCA_ARN"],
    [{ SVID_BRIDGE_ALLOWED_REGIONS: "eu-west-1,mars" }, "SVID_BRIDGE_ALLOWED_REGIONS"],
    [{ SVID_BRIDGE_MAX_JWT_TTL: "999999" }, "SVID_BRIDGE_MAX_JWT_TTL"],
  ])("refuses %o naming %s", (change, name) => {
    expect(() => loadExchangeConfig({ ...base, ...change })).toThrow(
      expect.objectContaining({ code: "config_invalid", message: expect.stringContaining(name) }),
    );
  });
});
