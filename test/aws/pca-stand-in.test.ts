/** FakePca follows PCA's documented template and async-issue rules the adapters rely on. */
import {
  type ACMPCAClient,
  GetCertificateAuthorityCertificateCommand,
  GetCertificateCommand,
  IssueCertificateCommand,
} from "@aws-sdk/client-acm-pca";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SubjectAlternativeNameExtension, X509Certificate } from "../../lib/crypto/x509.js";
import { TrustDomain } from "../../lib/spiffe/spiffe-id.js";
import { FakePca, pcaClientFor } from "../support/fake-pca.js";
import { makeCsr, makeWorkloadKey } from "../support/x509-fixtures.js";

let pca: FakePca;
let client: ACMPCAClient;

beforeAll(async () => {
  pca = new FakePca({ trustDomain: TrustDomain.parse("example.org"), pendingPolls: 2 });
  client = pcaClientFor(await pca.start());
});
afterAll(() => pca.stop());

async function issue(template: string, csrSans?: string[]) {
  const csr = await makeCsr(await makeWorkloadKey(), csrSans ? { sans: csrSans } : {});
  return client.send(
    new IssueCertificateCommand({
      CertificateAuthorityArn: pca.caArn,
      Csr: new TextEncoder().encode(csr),
      SigningAlgorithm: "SHA256WITHECDSA",
      TemplateArn: `arn:aws:acm-pca:::template/${template}`,
      Validity: { Type: "DAYS", Value: 1 },
      ApiPassthrough: {
        Extensions: { SubjectAlternativeNames: [{ UniformResourceIdentifier: "spiffe://example.org/api" }] },
      },
    }),
  );
}

async function fetchIssued(arn: string): Promise<X509Certificate> {
  for (;;) {
    try {
      const out = await client.send(
        new GetCertificateCommand({ CertificateAuthorityArn: pca.caArn, CertificateArn: arn }),
      );
      return new X509Certificate(out.Certificate!);
    } catch (error) {
      if ((error as Error).name !== "RequestInProgressException") throw error;
    }
  }
}

function uris(cert: X509Certificate): string[] {
  const san = cert.getExtension(SubjectAlternativeNameExtension);
  return san ? san.names.items.filter((n) => n.type === "url").map((n) => n.value) : [];
}

describe("FakePca", () => {
  it("answers RequestInProgressException for the first polls, then the certificate and chain", async () => {
    const { CertificateArn } = await issue("EndEntityCertificate_APIPassthrough/V1");
    expect(CertificateArn).toMatch(new RegExp(`^${pca.caArn}/certificate/[0-9a-f]{32}$`));
    const poll = () =>
      client.send(new GetCertificateCommand({ CertificateAuthorityArn: pca.caArn, CertificateArn }));
    await expect(poll()).rejects.toMatchObject({ name: "RequestInProgressException" });
    await expect(poll()).rejects.toMatchObject({ name: "RequestInProgressException" });
    const out = await poll();
    expect(new X509Certificate(out.Certificate!).serialNumber).toBe(CertificateArn!.split("/").at(-1));
    expect(out.CertificateChain).toContain(pca.root.toString("pem"));
  });

  it("takes SANs from the API with a passthrough template and from the CSR with a base template", async () => {
    const passthrough = await issue("EndEntityCertificate_APIPassthrough/V1", ["spiffe://example.org/csr"]);
    expect(uris(await fetchIssued(passthrough.CertificateArn!))).toEqual(["spiffe://example.org/api"]);
    const base = await issue("EndEntityCertificate/V1", ["spiffe://example.org/csr"]);
    expect(uris(await fetchIssued(base.CertificateArn!))).toEqual(["spiffe://example.org/csr"]);
  });

  it("serves the root CA's certificate without a chain, and refuses unknown CAs", async () => {
    const ca = await client.send(
      new GetCertificateAuthorityCertificateCommand({ CertificateAuthorityArn: pca.caArn }),
    );
    expect(ca.Certificate).toBe(pca.root.toString("pem"));
    expect(ca.CertificateChain).toBeUndefined();
    await expect(
      client.send(
        new GetCertificateAuthorityCertificateCommand({
          CertificateAuthorityArn: `${pca.caArn.slice(0, -4)}0000`,
        }),
      ),
    ).rejects.toMatchObject({ name: "ResourceNotFoundException" });
  });

  it("refuses a CSR that is not base64 of PEM with MalformedCSRException", async () => {
    await expect(
      client.send(
        new IssueCertificateCommand({
          CertificateAuthorityArn: pca.caArn,
          Csr: new Uint8Array([0x30, 0x82, 0x01]),
          SigningAlgorithm: "SHA256WITHECDSA",
          Validity: { Type: "DAYS", Value: 1 },
        }),
      ),
    ).rejects.toMatchObject({ name: "MalformedCSRException" });
  });
});
