import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, Duration } from "aws-cdk-lib";
import { describe, expect, it } from "vitest";
import { checkRelyingParties } from "../../lib/cdk/check-props.js";
import { configFromContext, SvidBridgeStack } from "../../lib/cdk/svid-bridge-stack.js";

const context = (values: Record<string, string>) => new App({ context: values }).node;
const CERT = "arn:aws:acm:eu-west-1:111122223333:certificate/12345678-1234-1234-1234-123456789012";
const PARENT =
  "arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/99999999-2222-3333-4444-555555555555";

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
            certificate: CERT,
            hostedZone: "Z0123",
            hostedZoneName: "example.org",
            createPca: "subordinate",
            parentPcaArn: PARENT,
            parentCaChainFile: chain,
            caMode: "direct",
            keyManager: "kms-wrapped",
            jwtAlg: "ES256",
            layerOrganizationId: "o-abcdefghij",
            parentSigningAlgorithm: "SHA256WITHRSA",
            exchangeConcurrency: "none",
          }),
        ),
      ).toEqual({
        trustDomain: "example.org",
        issuerDomain: "spiffe.example.org",
        certificateArn: CERT,
        hostedZoneId: "Z0123",
        hostedZoneName: "example.org",
        createPca: {
          type: "subordinate",
          parentCaArn: PARENT,
          parentCertificateChainPem: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
          parentSigningAlgorithm: "SHA256WITHRSA",
        },
        reservedConcurrency: { exchange: "none" },
        caMode: "direct",
        keyManager: "kms-wrapped",
        jwtAlg: "ES256",
        layerOrganizationId: "o-abcdefghij",
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const td = { trustDomain: "example.org" };
  for (const [values, message] of [
    [{ caMode: "both" }, /context caMode must be one of intermediate, direct, not both/],
    [{ keyManager: "memory" }, /context keyManager must be one of kms, kms-wrapped/],
    [{ createPca: "yes" }, /context createPca must be one of root, subordinate/],
    [{ jwtAlg: "HS256" }, /context jwtAlg must be RS256, ES256 or ES384/],
    [{ caMode: "direct" }, /caMode direct needs a PCA: add pcaArn or createPca/],
    [
      { pcaArn: "arn:aws:acm-pca:eu-west-1:111122223333:ca/x" },
      /context pcaArn .* is not valid: expected arn:aws:acm-pca/,
    ],
    [{ pcaArn: PARENT, createPca: "root" }, /not both/],
    [
      { issuerDomain: "spiffe.example.org", certificate: "arn:aws:acm:eu-west-1:1:certificate/x" },
      /context certificate .* is not valid/,
    ],
    [{ issuerDomain: "spiffe.example.org", hostedZone: "z-123" }, /context hostedZone "z-123" is not valid/],
    [
      { issuerDomain: "https://spiffe.example.org" },
      /context issuerDomain .* is not valid: expected a DNS name/,
    ],
    [
      { issuerDomain: "spiffe.example.org" },
      /issuerDomain spiffe.example.org needs certificate .* or hostedZone/,
    ],
    [{ hostedZone: "Z0123" }, /certificate and hostedZone need issuerDomain/],
    [{ layerOrganizationId: "org-1" }, /context layerOrganizationId "org-1" is not valid/],
    [
      { createPca: "subordinate" },
      /createPca=subordinate needs context parentPcaArn .* and parentCaChainFile/,
    ],
    [
      { createPca: "subordinate", parentPcaArn: PARENT, parentCaChainFile: "/nonexistent/chain.pem" },
      /parentCaChainFile \/nonexistent\/chain.pem: ENOENT/,
    ],
    [{ parentPcaArn: PARENT }, /need createPca=subordinate/],
    [
      { createPca: "subordinate", parentSigningAlgorithm: "MD5WITHRSA" },
      /parentSigningAlgorithm must be one of/,
    ],
    [{ exchangeConcurrency: "0" }, /exchangeConcurrency must be a positive integer or none/],
    // item 15: algorithm ceilings per relying party
    [
      { relyingParties: "aws,gcp", jwtAlg: "ES384" },
      /jwtAlg ES384 is refused by gcp, which accepts RS256, ES256/,
    ],
    [{ relyingParties: "azure", jwtAlg: "ES256" }, /jwtAlg ES256 is refused by azure, which accepts RS256/],
    [{ relyingParties: "okta" }, /relyingParties: okta is not one of aws, gcp, azure, spire/],
  ] as const)
    it(`refuses ${JSON.stringify(values)} in one line naming the key`, () => {
      expect(() => configFromContext(context({ ...td, ...values }))).toThrow(
        expect.objectContaining({ name: "BridgeConfigError", message: expect.stringMatching(message) }),
      );
      try {
        configFromContext(context({ ...td, ...values }));
      } catch (error) {
        expect((error as Error).message).not.toContain("\n");
      }
    });

  it("names the context keys that exist when given one that does not (e.g. the old parentCaArn)", () => {
    expect(() => configFromContext(context(td), ["trustDomain", "parentCaArn"])).toThrow(
      /unknown context parentCaArn; the keys are trustDomain, .*parentPcaArn, parentCaChainFile/,
    );
  });
});

describe("checkRelyingParties (item 15)", () => {
  it("refuses lifetimes Google (exp < 48 h after iat) and Microsoft (≤ 25 h) would refuse", () => {
    expect(() => checkRelyingParties(["gcp"], "RS256", 48 * 3600)).toThrow(/longer than gcp accepts/);
    expect(() => checkRelyingParties(["gcp"], "RS256", 48 * 3600 - 1)).not.toThrow();
    expect(() => checkRelyingParties(["azure"], "RS256", 25 * 3600 + 1)).toThrow(/longer than azure accepts/);
    expect(() => checkRelyingParties(["aws", "spire"], "ES384", 48 * 3600)).not.toThrow();
  });

  it("the construct refuses them at synth, before any bundling", () => {
    const app = new App();
    expect(
      () =>
        new SvidBridgeStack(app, "Gcp48", {
          trustDomain: "example.org",
          relyingParties: ["gcp"],
          maxJwtTtl: Duration.hours(48),
        }),
    ).toThrow(expect.objectContaining({ name: "BridgeConfigError", message: expect.stringMatching(/gcp/) }));
  });
});

describe("bin/cdk-app.ts (issue 15)", () => {
  const app = async (context: Record<string, string>) => {
    const { spawnSync } = await import("node:child_process");
    const out = mkdtempSync(join(tmpdir(), "svid-bridge-app-"));
    try {
      const run = spawnSync(process.execPath, ["--import", "tsx", "bin/cdk-app.ts"], {
        cwd: join(import.meta.dirname, "..", ".."),
        env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify(context), CDK_OUTDIR: out },
        encoding: "utf8",
        timeout: 60_000,
      });
      return { status: run.status, stderr: run.stderr, stdout: run.stdout };
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  };

  it("a bad context is one line on stderr, no stack trace, exit 1, before the layer is built", async () => {
    const r = await app({ trustDomain: "example.org", caMode: "direct", parentCaArn: "x" });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /^svid-bridge: unknown context parentCaArn; the keys are trustDomain, .*parentPcaArn/,
    );
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stdout).not.toMatch(/Bundling|esbuild/);
  }, 60_000);
});

describe("cdk.json (item 10, issue 15)", () => {
  it("sets every feature flag aws-cdk-lib recommends, to the recommended value, so synth does not warn", async () => {
    const { createRequire } = await import("node:module");
    const { readFileSync } = await import("node:fs");
    const require = createRequire(import.meta.url);
    const recommended = require("aws-cdk-lib/recommended-feature-flags.json") as Record<string, unknown>;
    const cdkJson = JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "cdk.json"), "utf8")) as {
      context: Record<string, unknown>;
    };
    expect(Object.keys(recommended).length).toBeGreaterThan(50);
    for (const [flag, value] of Object.entries(recommended))
      expect([flag, cdkJson.context[flag]]).toEqual([flag, value]);
  });
});
