import type { ACMPCAClient } from "@aws-sdk/client-acm-pca";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PcaDirectCertificateAuthority } from "../../lib/aws/pca-direct-certificate-authority.js";
import { issueAndFetch } from "../../lib/aws/pca-issuance.js";
import { ManualClock } from "../../lib/clock.js";
import {
  ExtendedKeyUsage,
  ExtendedKeyUsageExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  SubjectAlternativeNameExtension,
} from "../../lib/crypto/x509.js";
import { BridgeError } from "../../lib/errors.js";
import { TrustBundle } from "../../lib/spiffe/bundle.js";
import { SpiffeId, TrustDomain } from "../../lib/spiffe/spiffe-id.js";
import { validateX509Svid } from "../../lib/spiffe/x509-svid.js";
import { FakePca, pcaClientFor } from "../support/fake-pca.js";
import {
  hasOpenssl,
  makeCsr,
  makeWorkloadKey,
  opensslVerify,
  spkiOf,
  type WorkloadKeyKind,
} from "../support/x509-fixtures.js";

const td = TrustDomain.parse("example.org");
const spiffeId = SpiffeId.parse("spiffe://example.org/aws/111122223333/fn");
const fast = { initialDelayMs: 1, maxDelayMs: 4 };

async function caught(promise: Promise<unknown>): Promise<BridgeError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof BridgeError) return error;
    throw error;
  }
  throw new Error("expected a BridgeError");
}

async function workloadRequest(kind: WorkloadKeyKind = "ec-p256", sans?: string[]) {
  const key = await makeWorkloadKey(kind);
  return {
    spiffeId,
    subjectPublicKey: await spkiOf(key),
    ttlSeconds: 600,
    csrPem: await makeCsr(key, sans ? { sans } : {}),
  };
}

describe.each([
  ["a root PCA CA", false],
  ["a subordinate PCA CA", true],
])("direct mode under %s", (_label, subordinate) => {
  let pca: FakePca;
  let client: ACMPCAClient;
  let ca: PcaDirectCertificateAuthority;

  beforeAll(async () => {
    pca = new FakePca({ trustDomain: td, subordinate, pendingPolls: 3 });
    client = pcaClientFor(await pca.start());
    ca = new PcaDirectCertificateAuthority({
      client,
      certificateAuthorityArn: pca.caArn,
      trustDomain: td,
      poll: fast,
    });
  });
  afterAll(() => pca.stop());

  it.each(["ec-p256", "rsa-2048"] as const)(
    "issues a %s leaf that passes validation and openssl -x509_strict against the PCA root",
    async (kind) => {
      const request = { ...(await workloadRequest(kind)), dnsNames: ["fn.example.org"] };
      pca.resetCounts();
      const svid = await ca.issue(request);
      expect(pca.callCount("IssueCertificate")).toBe(1);
      expect(pca.callCount("GetCertificate")).toBe(4);
      expect(await ca.trustAnchors()).toEqual([pca.root]);
      expect(svid.chain.length).toBe(subordinate ? 2 : 1);
      const leaf = svid.chain[0]!;
      const bundle = new TrustBundle({ trustDomain: td, x509Authorities: [pca.root] });
      expect(validateX509Svid(svid.chain, bundle).spiffeId.equals(spiffeId)).toBe(true);
      if (hasOpenssl()) expect(opensslVerify([pca.root], svid.chain)).toContain("OK");

      const sans = leaf
        .getExtension(SubjectAlternativeNameExtension)!
        .names.items.map((n) => [n.type, n.value]);
      expect(sans).toEqual([
        ["url", spiffeId.toString()],
        ["dns", "fn.example.org"],
      ]);
      const ku = leaf.getExtension(KeyUsagesExtension)!.usages;
      expect(ku).toBe(
        kind === "rsa-2048"
          ? KeyUsageFlags.digitalSignature | KeyUsageFlags.keyEncipherment
          : KeyUsageFlags.digitalSignature,
      );
      expect(leaf.getExtension(ExtendedKeyUsageExtension)!.usages).toEqual([
        ExtendedKeyUsage.serverAuth,
        ExtendedKeyUsage.clientAuth,
      ]);
      const now = Date.now();
      expect(leaf.notBefore.getTime()).toBeLessThan(now - 20_000);
      expect(leaf.notBefore.getTime()).toBeGreaterThan(now - 60_000);
      expect(svid.expiresAt - Math.floor(now / 1000)).toBeGreaterThan(590);
      expect(svid.expiresAt - Math.floor(now / 1000)).toBeLessThanOrEqual(601);
      expect(svid.serialNumber).toBe(leaf.serialNumber);
    },
  );
});

describe("direct mode refusals and faults", () => {
  let pca: FakePca;
  let client: ACMPCAClient;
  let ca: PcaDirectCertificateAuthority;

  beforeAll(async () => {
    pca = new FakePca({ trustDomain: td, pendingPolls: 1 });
    client = pcaClientFor(await pca.start());
    ca = new PcaDirectCertificateAuthority({
      client,
      certificateAuthorityArn: pca.caArn,
      trustDomain: td,
      poll: fast,
    });
  });
  afterAll(() => pca.stop());

  it("refuses a CSR that carries SANs, before calling PCA", async () => {
    pca.resetCounts();
    const e = await caught(ca.issue(await workloadRequest("ec-p256", ["spiffe://example.org/other"])));
    expect([e.code, e.status]).toEqual(["csr_sans_not_allowed", 400]);
    expect(pca.callCount("IssueCertificate")).toBe(0);
  });

  it("refuses a CSR whose key is not the key to certify", async () => {
    const request = await workloadRequest();
    const other = await workloadRequest();
    const e = await caught(ca.issue({ ...request, subjectPublicKey: other.subjectPublicKey }));
    expect(e.code).toBe("csr_malformed");
  });

  it("maps IssueCertificate throttling and quota errors to 503 ca_busy with retryAfterSeconds", async () => {
    for (const type of ["ThrottlingException", "LimitExceededException"]) {
      pca.inject("IssueCertificate", type);
      const e = await caught(ca.issue(await workloadRequest()));
      expect([e.code, e.status, e.details?.retryAfterSeconds, e.details?.pcaError]).toEqual([
        "ca_busy",
        503,
        1,
        type,
      ]);
    }
  });

  it("maps GetCertificate throttling to ca_busy and other PCA faults to 503 ca_unavailable", async () => {
    pca.inject("GetCertificate", "ThrottlingException");
    expect((await caught(ca.issue(await workloadRequest()))).code).toBe("ca_busy");
    pca.inject("GetCertificate", "RequestFailedException");
    const failed = await caught(ca.issue(await workloadRequest()));
    expect([failed.code, failed.status]).toEqual(["ca_unavailable", 503]);
  });

  it("sends one idempotency token per request: a retried IssueCertificate returns the same certificate", async () => {
    const input = {
      CertificateAuthorityArn: pca.caArn,
      Csr: new TextEncoder().encode((await workloadRequest()).csrPem),
      SigningAlgorithm: "SHA256WITHECDSA" as const,
      Validity: { Type: "DAYS" as const, Value: 1 },
      IdempotencyToken: "retry-token-1",
    };
    const first = await issueAndFetch(client, input, fast);
    const second = await issueAndFetch(client, input, fast);
    expect(second.certificateArn).toBe(first.certificateArn);
    const third = await ca.issue(await workloadRequest());
    const fourth = await ca.issue(await workloadRequest());
    expect(third.serialNumber).not.toBe(fourth.serialNumber);
  });

  it("gives up polling after its bounded wait with 503 ca_unavailable", async () => {
    const slow = new FakePca({ trustDomain: td, pendingPolls: 1_000 });
    const slowClient = pcaClientFor(await slow.start());
    try {
      const clock = new ManualClock();
      const waits: number[] = [];
      const direct = new PcaDirectCertificateAuthority({
        client: slowClient,
        certificateAuthorityArn: slow.caArn,
        trustDomain: td,
        clock,
        poll: {
          maxWaitMs: 2_000,
          sleep: async (ms) => {
            waits.push(ms);
            clock.advance(ms);
          },
        },
      });
      const e = await caught(direct.issue(await workloadRequest()));
      expect([e.code, e.status]).toEqual(["ca_unavailable", 503]);
      expect(waits.slice(0, 5)).toEqual([50, 100, 200, 400, 800]);
      expect(waits.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(2_000);
    } finally {
      await slow.stop();
    }
  });

  it("fails closed when the template makes something other than an X.509-SVID", async () => {
    const misconfigured = new PcaDirectCertificateAuthority({
      client,
      certificateAuthorityArn: pca.caArn,
      trustDomain: td,
      poll: fast,
      templateArn: "arn:aws:acm-pca:::template/SubordinateCACertificate_PathLen0_APIPassthrough/V1",
    });
    const e = await caught(misconfigured.issue(await workloadRequest()));
    expect([e.code, e.status]).toEqual(["ca_unavailable", 503]);
    expect(String((e.cause as Error).message)).toContain("must not be a CA");
  });

  it("accepts EndEntityCertificate_APIPassthrough (fixed keyEncipherment is allowed on an SVID)", async () => {
    const fixedUsages = new PcaDirectCertificateAuthority({
      client,
      certificateAuthorityArn: pca.caArn,
      trustDomain: td,
      poll: fast,
      templateArn: "arn:aws:acm-pca:::template/EndEntityCertificate_APIPassthrough/V1",
    });
    const svid = await fixedUsages.issue(await workloadRequest());
    expect(svid.chain[0]!.getExtension(KeyUsagesExtension)!.usages).toBe(
      KeyUsageFlags.digitalSignature | KeyUsageFlags.keyEncipherment,
    );
  });

  it("refuses a template that ignores ApiPassthrough", () => {
    expect(
      () =>
        new PcaDirectCertificateAuthority({
          client,
          certificateAuthorityArn: pca.caArn,
          trustDomain: td,
          templateArn: "arn:aws:acm-pca:::template/EndEntityCertificate/V1",
        }),
    ).toThrow(BridgeError);
  });

  it("refuses a SPIFFE ID outside its trust domain", async () => {
    const request = await workloadRequest();
    const e = await caught(ca.issue({ ...request, spiffeId: SpiffeId.parse("spiffe://other.org/fn") }));
    expect(e.code).toBe("trust_domain_mismatch");
  });
});
