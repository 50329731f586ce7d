/**
 * Issue 14, fault 9: two deployments that share a server ID (blue/green, two stacks with
 * one issuer) each keep their own replay table, so each would accept the same proof
 * once. With ownRegion (SVID_BRIDGE_OWN_REGION_ONLY) a deployment accepts only proofs
 * scoped to its own region; deployments in one region need distinct server IDs (README).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadExchangeConfig } from "../../lambdas/exchange/config.js";
import { ManualClock } from "../../lib/clock.js";
import { InMemoryReplayCache } from "../../lib/local/in-memory-replay-cache.js";
import { LocalSts } from "../../lib/local/sts-server.js";
import { jwtBinding } from "../../lib/proof/binding.js";
import { buildProof } from "../../lib/proof/client.js";
import { StsCallerVerifier } from "../../lib/proof/sts-caller-verifier.js";
import { ROLE } from "./fixtures.js";

const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);
const clock = new ManualClock(T0);
const sts = new LocalSts({ principals: [ROLE], clock });
const SERVER_ID = "https://oidc.example.org"; // shared by both deployments
const BINDING = jwtBinding({ audience: ["a"] });
const verifiers: StsCallerVerifier[] = [];
const deployment = (ownRegion?: string) => {
  const v = new StsCallerVerifier({
    serverIdValue: SERVER_ID,
    regions: ["eu-west-1", "us-east-1"],
    ...(ownRegion && { ownRegion }),
    replayCache: new InMemoryReplayCache(clock), // each deployment has its own table
    clock,
    endpointFor: () => sts.endpoint,
  });
  verifiers.push(v);
  return v;
};
const proofFor = (region: string) =>
  buildProof({ region, credentials: ROLE, serverId: SERVER_ID, binding: BINDING, clock });

beforeAll(() => sts.start());
afterAll(async () => {
  for (const v of verifiers) v.close();
  await sts.stop();
});

describe("fault 9: replay across deployments sharing a server ID", () => {
  it("fault 9: without ownRegion, a proof spent in eu-west-1 is spent again by a us-east-1 deployment", async () => {
    const proof = await proofFor("eu-west-1");
    await expect(deployment().verify({ proof, expectedBinding: BINDING })).resolves.toBeDefined();
    await expect(deployment().verify({ proof, expectedBinding: BINDING })).resolves.toBeDefined();
  });

  it("fault 9: with ownRegion, the other region's deployment refuses it (proof_region_not_allowed, own-region)", async () => {
    const proof = await proofFor("eu-west-1");
    await expect(deployment("eu-west-1").verify({ proof, expectedBinding: BINDING })).resolves.toBeDefined();
    await expect(deployment("us-east-1").verify({ proof, expectedBinding: BINDING })).rejects.toMatchObject({
      code: "proof_region_not_allowed",
      details: { rule: "own-region" },
    });
  });

  it("SVID_BRIDGE_OWN_REGION_ONLY sets ownRegion to AWS_REGION, which must be allowed", () => {
    const base = {
      SVID_BRIDGE_TRUST_DOMAIN: "example.org",
      SVID_BRIDGE_ISSUER: SERVER_ID,
      SVID_BRIDGE_REGISTRATIONS_TABLE: "r",
      SVID_BRIDGE_KEY_SET_TABLE: "k",
      SVID_BRIDGE_REPLAY_TABLE: "p",
      AWS_REGION: "eu-west-1",
      SVID_BRIDGE_ALLOWED_REGIONS: "eu-west-1,us-east-1",
    };
    expect(loadExchangeConfig(base).ownRegion).toBeUndefined();
    expect(loadExchangeConfig({ ...base, SVID_BRIDGE_OWN_REGION_ONLY: "true" }).ownRegion).toBe("eu-west-1");
    expect(() =>
      loadExchangeConfig({
        ...base,
        SVID_BRIDGE_OWN_REGION_ONLY: "true",
        SVID_BRIDGE_ALLOWED_REGIONS: "us-east-1",
      }),
    ).toThrow(/not in SVID_BRIDGE_ALLOWED_REGIONS/);
  });
});
