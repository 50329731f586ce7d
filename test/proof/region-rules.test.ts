/**
 * Issue 14, fault 7: one source of truth for partitions, regions and STS endpoints. The
 * exchange config refused eu-central-12, which the verifier accepted, and accepted
 * aa-bb-cc-1, which the verifier then refused at construction. Both now read
 * lib/proof/sts-endpoints.ts, and this test holds them to the same answer.
 */
import { describe, expect, it } from "vitest";
import { loadExchangeConfig } from "../../lambdas/exchange/config.js";
import { InMemoryReplayCache } from "../../lib/local/in-memory-replay-cache.js";
import { callerIdentityFrom } from "../../lib/proof/caller-arn.js";
import { StsCallerVerifier } from "../../lib/proof/sts-caller-verifier.js";
import {
  isRegionName,
  PARTITIONS,
  partitionOfRegion,
  regionalStsHost,
} from "../../lib/proof/sts-endpoints.js";

const base = {
  SVID_BRIDGE_TRUST_DOMAIN: "example.org",
  SVID_BRIDGE_ISSUER: "https://oidc.example.org",
  SVID_BRIDGE_REGISTRATIONS_TABLE: "r",
  SVID_BRIDGE_KEY_SET_TABLE: "k",
  SVID_BRIDGE_REPLAY_TABLE: "p",
  AWS_REGION: "eu-west-1",
};
const configAccepts = (region: string) => {
  try {
    loadExchangeConfig({ ...base, SVID_BRIDGE_ALLOWED_REGIONS: region });
    return true;
  } catch {
    return false;
  }
};
const verifierAccepts = (region: string) => {
  try {
    new StsCallerVerifier({
      serverIdValue: "x",
      regions: [region],
      replayCache: new InMemoryReplayCache(),
    }).close();
    return true;
  } catch {
    return false;
  }
};

describe("fault 7: one rule for regions", () => {
  it.each([
    ["eu-central-12", true],
    ["aa-bb-cc-1", false],
    ["eu-west-1", true],
    ["cn-north-1", true],
    ["us-gov-west-1", true],
    ["us-isob-east-1", false],
    ["eu-west-123", false],
    ["EU-west-1", false],
    ["eu-west", false],
  ])("fault 7: %s — the exchange config and the verifier agree (%s)", (region, accepted) => {
    expect(isRegionName(region)).toBe(accepted);
    expect(configAccepts(region)).toBe(accepted);
    expect(verifierAccepts(region)).toBe(accepted);
  });

  it("every region's STS host and partition come from the same table", () => {
    expect(regionalStsHost("eu-central-12")).toBe("sts.eu-central-12.amazonaws.com");
    expect(regionalStsHost("cn-northwest-1")).toBe("sts.cn-northwest-1.amazonaws.com.cn");
    expect(partitionOfRegion("us-gov-east-1")).toBe("aws-us-gov");
    expect(() => regionalStsHost("aa-bb-cc-1")).toThrow(TypeError);
  });

  it("the ARN parser knows the same partitions and no other", () => {
    for (const partition of PARTITIONS) {
      const identity = callerIdentityFrom(
        {
          arn: `arn:${partition}:sts::111122223333:assumed-role/r/s1`,
          account: "111122223333",
          userId: "AROAEXAMPLEROLEID0001:s1",
        },
        { allowIamUsers: false },
      );
      expect(identity.partition).toBe(partition);
    }
    expect(() =>
      callerIdentityFrom(
        {
          arn: "arn:aws-iso:sts::111122223333:assumed-role/r/s1",
          account: "111122223333",
          userId: "AROAEXAMPLEROLEID0001:s1",
        },
        { allowIamUsers: false },
      ),
    ).toThrow(/known partition/);
  });
});
