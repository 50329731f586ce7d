import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "aws-cdk-lib";
import { describe, expect, it } from "vitest";
import { configFromContext } from "../../lib/cdk/svid-bridge-stack.js";

const context = (values: Record<string, string>) => new App({ context: values }).node;

describe("configFromContext", () => {
  it("requires trustDomain", () => {
    expect(() => configFromContext(context({}))).toThrow(/trustDomain is required/);
  });

  it("maps every context value to its prop", () => {
    const dir = mkdtempSync(join(tmpdir(), "svid-bridge-ctx-"));
    try {
      const chain = join(dir, "chain.pem");
      writeFileSync(chain, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
      expect(
        configFromContext(
          context({
            trustDomain: "example.org",
            issuerDomain: "spiffe.example.org",
            certificate: "arn:aws:acm:eu-west-1:111122223333:certificate/abc",
            hostedZone: "Z0123",
            hostedZoneName: "example.org",
            createPca: "subordinate",
            parentPcaArn: "arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/p",
            parentCaChainFile: chain,
            caMode: "direct",
            keyManager: "kms-wrapped",
            jwtAlg: "ES256",
            layerOrganizationId: "o-abcdefghij",
          }),
        ),
      ).toEqual({
        trustDomain: "example.org",
        issuerDomain: "spiffe.example.org",
        certificateArn: "arn:aws:acm:eu-west-1:111122223333:certificate/abc",
        hostedZoneId: "Z0123",
        hostedZoneName: "example.org",
        createPca: {
          type: "subordinate",
          parentCaArn: "arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/p",
          parentCertificateChainPem: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        },
        caMode: "direct",
        keyManager: "kms-wrapped",
        jwtAlg: "ES256",
        layerOrganizationId: "o-abcdefghij",
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const [key, value, message] of [
    ["caMode", "both", /caMode must be one of intermediate, direct/],
    ["keyManager", "memory", /keyManager must be one of kms, kms-wrapped/],
    ["createPca", "yes", /createPca must be one of root, subordinate/],
    ["jwtAlg", "HS256", /jwtAlg must be RS256, ES256 or ES384/],
  ] as const)
    it(`refuses ${key}=${value}, naming the key`, () => {
      expect(() => configFromContext(context({ trustDomain: "example.org", [key]: value }))).toThrow(message);
    });
});
