import { fromNodeProviderChain } from "@aws-sdk/credential-providers";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../lib/clock.js";
import { jwtBinding } from "../../lib/proof/binding.js";
import { buildProof as smithyBuildProof } from "../../lib/proof/client.js";
import { buildLeanProof } from "../../lib/proof/lean-proof.js";
import { GET_CALLER_IDENTITY_BODY, serializeProof } from "../../lib/proof/proof-format.js";
import { header, ROLE, SERVER_ID, T0, USER } from "./fixtures.js";

const binding = jwtBinding({ audience: ["sts.amazonaws.com"] });
const clock = new ManualClock(T0);

// Both signers of the client half: @smithy/signature-v4 (extension, CLI) and the
// node:crypto one (in-process client). Same options, same proof.
describe.each([
  ["@smithy/signature-v4", smithyBuildProof],
  ["lib/proof/sigv4.ts", buildLeanProof as typeof smithyBuildProof],
])("buildProof (client half), signed with %s", (_name, buildProof) => {
  it("signs a GetCallerIdentity for the caller's regional STS, with server ID, binding and session token", async () => {
    const proof = await buildProof({
      region: "eu-west-1",
      credentials: ROLE,
      serverId: SERVER_ID,
      binding,
      clock,
    });
    expect(proof.method).toBe("POST");
    expect(proof.body).toBe(GET_CALLER_IDENTITY_BODY);
    expect(header(proof, "host")).toBe("sts.eu-west-1.amazonaws.com");
    expect(header(proof, "x-amz-date")).toBe("20261123T120000Z");
    expect(header(proof, "x-amz-security-token")).toBe(ROLE.sessionToken);
    expect(header(proof, "x-svid-bridge-server-id")).toBe(SERVER_ID);
    expect(header(proof, "x-svid-bridge-binding")).toBe(binding);
    expect(header(proof, "authorization")).toMatch(
      /^AWS4-HMAC-SHA256 Credential=ASIAFAKEROLE00000001\/20261123\/eu-west-1\/sts\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-svid-bridge-binding;x-svid-bridge-nonce;x-svid-bridge-server-id, Signature=[0-9a-f]{64}$/,
    );
  });

  it("signs a fresh nonce, so two proofs for the same request in the same second differ", async () => {
    const make = () =>
      buildProof({ region: "eu-west-1", credentials: ROLE, serverId: SERVER_ID, binding, clock });
    const [a, b] = [await make(), await make()];
    expect(header(a, "x-svid-bridge-nonce")).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(header(a, "x-svid-bridge-nonce")).not.toBe(header(b, "x-svid-bridge-nonce"));
    expect(header(a, "authorization")).not.toBe(header(b, "authorization"));
  });

  it("uses the partition's DNS suffix, the global endpoint on request, and custom header names", async () => {
    const cn = await buildProof({ region: "cn-north-1", credentials: USER, serverId: "s", binding, clock });
    expect(header(cn, "host")).toBe("sts.cn-north-1.amazonaws.com.cn");
    expect(cn.headers.some(([n]) => n === "x-amz-security-token")).toBe(false);
    const gov = await buildProof({
      region: "us-gov-west-1",
      credentials: USER,
      serverId: "s",
      binding,
      clock,
    });
    expect(header(gov, "host")).toBe("sts.us-gov-west-1.amazonaws.com");
    const global = await buildProof({
      region: "eu-west-1",
      global: true,
      credentials: USER,
      serverId: "s",
      binding,
      clock,
      serverIdHeader: "X-Vault-Style-Server-ID",
      bindingHeader: "x-my-binding",
    });
    expect(header(global, "host")).toBe("sts.amazonaws.com");
    expect(header(global, "authorization")).toContain("/us-east-1/sts/aws4_request");
    expect(header(global, "x-vault-style-server-id")).toBe("s");
    expect(header(global, "x-my-binding")).toBe(binding);
  });

  it("takes a credential provider, such as the default chain", async () => {
    const env = { ...process.env };
    process.env.AWS_ACCESS_KEY_ID = USER.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = USER.secretAccessKey;
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
    try {
      const proof = await buildProof({
        region: "eu-west-1",
        credentials: fromNodeProviderChain(),
        serverId: SERVER_ID,
        binding,
        clock,
      });
      expect(header(proof, "authorization")).toContain(`Credential=${USER.accessKeyId}/`);
    } finally {
      process.env = env;
    }
  });

  it("refuses a region name that is not one", async () => {
    await expect(
      buildProof({ region: "evil.example.com/", credentials: USER, serverId: "s", binding, clock }),
    ).rejects.toThrow(/not an AWS region/);
  });

  it("serialises compactly, with no URL", async () => {
    const proof = await buildProof({
      region: "eu-west-1",
      credentials: ROLE,
      serverId: SERVER_ID,
      binding,
      clock,
    });
    const text = serializeProof(proof);
    expect(Object.keys(JSON.parse(text))).toEqual(["method", "headers", "body"]);
    expect(text.length).toBeLessThan(1200);
  });
});
