import type { ACMPCAClient } from "@aws-sdk/client-acm-pca";
import type { KMSClient } from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KmsKeyManager } from "../../lib/aws/kms-key-manager.js";
import {
  buildIntermediateCsr,
  intermediateFromPem,
  issuePcaIntermediate,
} from "../../lib/aws/pca-intermediate.js";
import {
  BasicConstraintsExtension,
  Pkcs10CertificateRequest,
  SubjectAlternativeNameExtension,
} from "../../lib/crypto/x509.js";
import { BridgeError } from "../../lib/errors.js";
import { signerFor } from "../../lib/ports/key-manager.js";
import { TrustBundle } from "../../lib/spiffe/bundle.js";
import { SpiffeId, TrustDomain } from "../../lib/spiffe/spiffe-id.js";
import { checkCsr, validateX509Svid } from "../../lib/spiffe/x509-svid.js";
import { FakeKms, kmsClientFor } from "../support/fake-kms.js";
import { FakePca, pcaClientFor } from "../support/fake-pca.js";
import { hasOpenssl, makeWorkloadKey, opensslVerify, spkiOf } from "../support/x509-fixtures.js";

const td = TrustDomain.parse("example.org");
const spiffeId = SpiffeId.parse("spiffe://example.org/aws/111122223333/fn");
const fast = { initialDelayMs: 1, maxDelayMs: 4 };
let kms: FakeKms;
let kmsClient: KMSClient;
let keys: KmsKeyManager;

beforeAll(async () => {
  kms = new FakeKms();
  kmsClient = kmsClientFor(await kms.start());
  keys = new KmsKeyManager({ client: kmsClient, trustDomain: td });
});
afterAll(() => kms.stop());

describe.each([
  ["a root PCA CA", false],
  ["a subordinate PCA CA", true],
])("intermediate mode under %s", (_label, subordinate) => {
  let pca: FakePca;
  let client: ACMPCAClient;

  beforeAll(async () => {
    pca = new FakePca({ trustDomain: td, subordinate, pendingPolls: 2 });
    client = pcaClientFor(await pca.start());
  });
  afterAll(() => pca.stop());

  it.each(["ES256", "RS256"] as const)(
    "bootstraps a %s KMS-keyed intermediate whose leaves pass validation and openssl -x509_strict",
    async (alg) => {
      const key = await keys.createKey(alg);
      pca.resetCounts();
      const intermediate = await issuePcaIntermediate({
        client,
        certificateAuthorityArn: pca.caArn,
        trustDomain: td,
        keys,
        keyId: key.keyId,
        poll: fast,
      });
      expect(pca.callCount("IssueCertificate")).toBe(1);
      expect(pca.callCount("GetCertificate")).toBe(3); // two RequestInProgress, then the certificate
      expect(intermediate.certificateArn.startsWith(`${pca.caArn}/certificate/`)).toBe(true);
      expect(await intermediate.ca.trustAnchors()).toEqual([pca.root]);
      const bc = intermediate.ca.certificate.getExtension(BasicConstraintsExtension)!;
      expect([bc.ca, bc.pathLength]).toEqual([true, 0]);

      const workload = await makeWorkloadKey("ec-p256");
      const svid = await intermediate.ca.issue({
        spiffeId,
        subjectPublicKey: await spkiOf(workload),
        ttlSeconds: 3600,
      });
      expect(svid.chain.length).toBe(subordinate ? 3 : 2);
      const bundle = new TrustBundle({ trustDomain: td, x509Authorities: [pca.root] });
      expect(validateX509Svid(svid.chain, bundle).spiffeId.equals(spiffeId)).toBe(true);
      if (hasOpenssl()) expect(opensslVerify([pca.root], svid.chain)).toContain("OK");

      // Cold start: the same CA from the persisted PEMs, no PCA call.
      pca.resetCounts();
      const restored = await intermediateFromPem({
        keys: new KmsKeyManager({ client: kmsClient, trustDomain: td }),
        keyId: key.keyId,
        chainPem: intermediate.chainPem,
        rootPem: intermediate.rootPem,
      });
      const again = await restored.issue({
        spiffeId,
        subjectPublicKey: await spkiOf(workload),
        ttlSeconds: 60,
      });
      expect(validateX509Svid(again.chain, bundle).spiffeId.equals(spiffeId)).toBe(true);
      expect(pca.callCount("IssueCertificate") + pca.callCount("GetCertificate")).toBe(0);
    },
  );
});

describe("the intermediate's CSR", () => {
  it("is signed through the port and names the trust domain as its only URI SAN", async () => {
    const key = await keys.createKey("ES256");
    const pem = await buildIntermediateCsr(await signerFor(keys, key.keyId), td);
    const checked = await checkCsr(pem);
    expect(Buffer.from(checked.spki).equals(Buffer.from(key.spki))).toBe(true);
    const csr = new Pkcs10CertificateRequest(pem);
    const san = new SubjectAlternativeNameExtension(csr.getExtension("2.5.29.17")!.rawData);
    expect(san.names.items.map((n) => [n.type, n.value])).toEqual([["url", "spiffe://example.org"]]);
    expect(csr.subject).toContain("CN=SVID Bridge intermediate CA");
  });
});

describe("intermediate bootstrap failures", () => {
  let pca: FakePca;
  let client: ACMPCAClient;
  beforeAll(async () => {
    pca = new FakePca({ trustDomain: td, pendingPolls: 0 });
    client = pcaClientFor(await pca.start());
  });
  afterAll(() => pca.stop());

  it("refuses a certificate from a template that does not make a pathLen-0 CA", async () => {
    const key = await keys.createKey("ES256");
    const e = await issuePcaIntermediate({
      client,
      certificateAuthorityArn: pca.caArn,
      trustDomain: td,
      keys,
      keyId: key.keyId,
      templateArn: "arn:aws:acm-pca:::template/EndEntityCertificate/V1",
      poll: fast,
    }).catch((error: unknown) => error);
    expect(e).toBeInstanceOf(BridgeError);
    expect([(e as BridgeError).code, (e as BridgeError).status]).toEqual(["ca_unavailable", 503]);
  });

  it("maps PCA throttling to 503 ca_busy with retryAfterSeconds", async () => {
    const key = await keys.createKey("ES256");
    pca.inject("IssueCertificate", "ThrottlingException");
    const e = (await issuePcaIntermediate({
      client,
      certificateAuthorityArn: pca.caArn,
      trustDomain: td,
      keys,
      keyId: key.keyId,
      poll: fast,
    }).catch((error: unknown) => error)) as BridgeError;
    expect([e.code, e.status, e.details?.retryAfterSeconds]).toEqual(["ca_busy", 503, 1]);
  });

  it("refuses persisted PEMs whose certificate is not for the key", async () => {
    const a = await keys.createKey("ES256");
    const b = await keys.createKey("ES256");
    const issued = await issuePcaIntermediate({
      client,
      certificateAuthorityArn: pca.caArn,
      trustDomain: td,
      keys,
      keyId: a.keyId,
      poll: fast,
    });
    const e = (await intermediateFromPem({
      keys,
      keyId: b.keyId,
      chainPem: issued.chainPem,
      rootPem: issued.rootPem,
    }).catch((error: unknown) => error)) as BridgeError;
    expect(e.code).toBe("ca_unavailable");
  });
});
