/**
 * FakePca: a local ACM Private CA endpoint (JSON 1.1, `X-Amz-Target: ACMPrivateCA.<Op>`)
 * holding one CA (an EC P-256 root made at start, or a subordinate under its own root),
 * so the real @aws-sdk/client-acm-pca runs end to end. IssueCertificate follows the
 * documented template rules for the templates the bridge uses:
 *
 * | template                                   | Subject, SAN           | KU / EKU                  |
 * | EndEntityCertificate/V1                    | CSR (passthrough off)  | dS+kE / serverAuth+client |
 * | EndEntityCertificate_APIPassthrough/V1     | API, else CSR          | dS+kE / serverAuth+client |
 * | BlankEndEntityCertificate_APIPassthrough/V1| API, else CSR          | as the API sets them      |
 * | SubordinateCACertificate_PathLen0/V1       | CSR                    | dS+keyCertSign+cRLSign    |
 * | SubordinateCACertificate_PathLen0_APIPassthrough/V1 | API, else CSR | as above                 |
 *
 * API SANs replace the CSR's (the docs say "API takes priority"; merge vs replace is
 * unconfirmed, which is why the bridge refuses CSRs with SANs in direct mode). Issuance
 * is asynchronous: GetCertificate answers RequestInProgressException for the first
 * `pendingPolls` polls of each certificate. SigV4 is not checked. Not modelled: CRLs,
 * revocation, audit reports, CustomExtensions, END_DATE/MONTHS/YEARS validity.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { ACMPCAClient } from "@aws-sdk/client-acm-pca";
import { type Clock, systemClock } from "../../lib/clock.js";
import {
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  ExtendedKeyUsage,
  ExtendedKeyUsageExtension,
  type Extension,
  type JsonGeneralName,
  KeyUsageFlags,
  KeyUsagesExtension,
  Name,
  Pkcs10CertificateRequest,
  SubjectAlternativeNameExtension,
  SubjectKeyIdentifierExtension,
  type X509Certificate,
  X509CertificateGenerator,
} from "../../lib/crypto/x509.js";
import { portSigning } from "../../lib/crypto/x509-signing.js";
import { InMemoryKeyManager } from "../../lib/local/in-memory-key-manager.js";
import { type Signer, signerFor } from "../../lib/ports/key-manager.js";
import { SpiffeId, type TrustDomain } from "../../lib/spiffe/spiffe-id.js";
import { buildCaCertificate } from "../../lib/spiffe/x509-svid.js";
import { AwsJsonEndpoint, AwsServiceError, requireString, type WireInput } from "./aws-json-endpoint.js";

const TEMPLATE_PREFIX = "arn:aws:acm-pca:::template/";
const EKU_TYPES: Record<string, string> = {
  SERVER_AUTH: ExtendedKeyUsage.serverAuth,
  CLIENT_AUTH: ExtendedKeyUsage.clientAuth,
  CODE_SIGNING: ExtendedKeyUsage.codeSigning,
  EMAIL_PROTECTION: ExtendedKeyUsage.emailProtection,
  TIME_STAMPING: ExtendedKeyUsage.timeStamping,
  OCSP_SIGNING: ExtendedKeyUsage.ocspSigning,
};
const KEY_USAGE_FLAGS: Record<string, KeyUsageFlags> = {
  DigitalSignature: KeyUsageFlags.digitalSignature,
  NonRepudiation: KeyUsageFlags.nonRepudiation,
  KeyEncipherment: KeyUsageFlags.keyEncipherment,
  DataEncipherment: KeyUsageFlags.dataEncipherment,
  KeyAgreement: KeyUsageFlags.keyAgreement,
  KeyCertSign: KeyUsageFlags.keyCertSign,
  CRLSign: KeyUsageFlags.cRLSign,
  EncipherOnly: KeyUsageFlags.encipherOnly,
  DecipherOnly: KeyUsageFlags.decipherOnly,
};
const SUBJECT_FIELDS: Record<string, string> = {
  Country: "C",
  Organization: "O",
  OrganizationalUnit: "OU",
  State: "ST",
  Locality: "L",
  CommonName: "CN",
};

export interface FakePcaOptions {
  trustDomain: TrustDomain;
  /** Polls answered RequestInProgressException before a certificate is ready. Default 2. */
  pendingPolls?: number;
  /** Make the PCA CA a subordinate (pathLen 1) under a separate root, as a PCA hierarchy would. */
  subordinate?: boolean;
  clock?: Clock;
  region?: string;
  account?: string;
}

interface IssuedCertificate {
  certificate: X509Certificate;
  polls: number;
}

export class FakePca {
  readonly caArn: string;
  readonly #trustDomain: TrustDomain;
  readonly #pendingPolls: number;
  readonly #subordinate: boolean;
  readonly #clock: Clock;
  readonly #endpoint: AwsJsonEndpoint;
  readonly #issued = new Map<string, IssuedCertificate>();
  readonly #idempotency = new Map<string, string>();
  #ca: { certificate: X509Certificate; signer: Signer; chain: X509Certificate[] } | undefined;
  #root: X509Certificate | undefined;

  constructor(options: FakePcaOptions) {
    this.#trustDomain = options.trustDomain;
    this.#pendingPolls = options.pendingPolls ?? 2;
    this.#subordinate = options.subordinate ?? false;
    this.#clock = options.clock ?? systemClock;
    this.caArn = `arn:aws:acm-pca:${options.region ?? "us-east-1"}:${options.account ?? "111122223333"}:certificate-authority/${randomUUID()}`;
    this.#endpoint = new AwsJsonEndpoint("ACMPrivateCA", {
      IssueCertificate: (i) => this.#issueCertificate(i),
      GetCertificate: (i) => this.#getCertificate(i),
      GetCertificateAuthorityCertificate: (i) => this.#getCaCertificate(i),
    });
  }

  /** Makes the CA hierarchy, then listens. */
  async start(): Promise<string> {
    const keys = new InMemoryKeyManager();
    const tdId = SpiffeId.parse(this.#trustDomain.id);
    const rootKey = await keys.createKey("ES256");
    const rootSigner = await signerFor(keys, rootKey.keyId);
    const root = await buildCaCertificate({
      trustDomainId: tdId,
      subject: "CN=Fake PCA Root, O=FakePca",
      subjectPublicKey: rootKey.spki,
      signer: rootSigner,
      ttlSeconds: 3650 * 86400,
      clock: this.#clock,
    });
    this.#root = root;
    if (!this.#subordinate) this.#ca = { certificate: root, signer: rootSigner, chain: [] };
    else {
      const subKey = await keys.createKey("ES256");
      const sub = await buildCaCertificate({
        trustDomainId: tdId,
        subject: "CN=Fake PCA Subordinate, O=FakePca",
        subjectPublicKey: subKey.spki,
        issuer: root,
        signer: rootSigner,
        ttlSeconds: 1825 * 86400,
        pathLength: 1,
        clock: this.#clock,
      });
      this.#ca = { certificate: sub, signer: await signerFor(keys, subKey.keyId), chain: [root] };
    }
    return this.#endpoint.start();
  }

  stop(): Promise<void> {
    return this.#endpoint.stop();
  }

  get url(): string {
    return this.#endpoint.url;
  }

  /** The root relying parties trust (the PCA CA itself unless `subordinate`). */
  get root(): X509Certificate {
    if (!this.#root) throw new Error("FakePca is not started");
    return this.#root;
  }

  callCount(operation: string): number {
    return this.#endpoint.callCount(operation);
  }

  resetCounts(): void {
    this.#endpoint.resetCounts();
  }

  /** Drops every pending injected failure (of `operation`, or of all operations). */
  clearInjections(operation?: string): void {
    this.#endpoint.clearInjections(operation);
  }

  /** The next `times` calls of `operation` fail with the AWS error `type` (e.g. ThrottlingException). */
  inject(operation: string, type: string, options?: { times?: number; status?: number }): void {
    this.#endpoint.inject(operation, type, options);
  }

  // ------------------------------------------------------------------------ operations

  async #issueCertificate(input: WireInput) {
    const ca = this.#checkCa(input);
    const token = typeof input.IdempotencyToken === "string" ? input.IdempotencyToken : undefined;
    if (token !== undefined && token.length > 36)
      throw new AwsServiceError("ValidationException", "IdempotencyToken is at most 36 characters");
    const earlier = token && this.#idempotency.get(token);
    if (earlier) return { CertificateArn: earlier };

    const csr = parseCsrField(input.Csr);
    if (!(await csr.verify().catch(() => false)))
      throw new AwsServiceError("MalformedCSRException", "the CSR's signature does not verify");
    const signingAlgorithm = requireString(input, "SigningAlgorithm");
    if (signingAlgorithm !== "SHA256WITHECDSA")
      throw new AwsServiceError(
        "InvalidArgsException",
        `SigningAlgorithm ${signingAlgorithm} does not fit this CA's EC P-256 key (the stand-in signs SHA256WITHECDSA)`,
      );
    const template = (input.TemplateArn ?? `${TEMPLATE_PREFIX}EndEntityCertificate/V1`) as string;
    const now = Math.floor(this.#clock.now() / 1000);
    const notAfter = validityEnd(input.Validity, now);
    const notBefore = validityStart(input.ValidityNotBefore, now);
    if (notAfter <= now || notAfter <= notBefore)
      throw new AwsServiceError("ValidationException", "the validity ends before it starts or in the past");
    if (notAfter * 1000 > ca.certificate.notAfter.getTime())
      throw new AwsServiceError("ValidationException", "the validity exceeds the CA's validity");

    const passthrough = input.ApiPassthrough as WireInput | undefined;
    const csrSanExtension = csr.getExtension("2.5.29.17");
    const csrSans = csrSanExtension && new SubjectAlternativeNameExtension(csrSanExtension.rawData);
    const apiSans = passthrough?.Extensions?.SubjectAlternativeNames as WireInput[] | undefined;
    const apiSubject = passthrough?.Subject as WireInput | undefined;
    const spkiBuffer = csr.publicKey.rawData;
    const extensions: Extension[] = [];
    let subject: Name = csr.subjectName;
    let sanNames: JsonGeneralName[] = csrSans ? csrSans.names.toJSON() : [];

    switch (template.startsWith(TEMPLATE_PREFIX) ? template.slice(TEMPLATE_PREFIX.length) : "") {
      case "EndEntityCertificate/V1":
        extensions.push(
          new BasicConstraintsExtension(false, undefined, true),
          new KeyUsagesExtension(KeyUsageFlags.digitalSignature | KeyUsageFlags.keyEncipherment, true),
          new ExtendedKeyUsageExtension([ExtendedKeyUsage.serverAuth, ExtendedKeyUsage.clientAuth]),
        );
        break;
      case "EndEntityCertificate_APIPassthrough/V1":
        if (apiSubject) subject = subjectName(apiSubject);
        if (apiSans) sanNames = apiSans.map(generalName);
        extensions.push(
          new BasicConstraintsExtension(false, undefined, true),
          new KeyUsagesExtension(KeyUsageFlags.digitalSignature | KeyUsageFlags.keyEncipherment, true),
          new ExtendedKeyUsageExtension([ExtendedKeyUsage.serverAuth, ExtendedKeyUsage.clientAuth]),
        );
        break;
      case "BlankEndEntityCertificate_APIPassthrough/V1": {
        if (apiSubject) subject = subjectName(apiSubject);
        if (apiSans) sanNames = apiSans.map(generalName);
        extensions.push(new BasicConstraintsExtension(false, undefined, true));
        const ku = passthrough?.Extensions?.KeyUsage as Record<string, boolean> | undefined;
        if (ku) extensions.push(new KeyUsagesExtension(keyUsageFlags(ku), true));
        const eku = passthrough?.Extensions?.ExtendedKeyUsage as WireInput[] | undefined;
        if (eku) extensions.push(new ExtendedKeyUsageExtension(eku.map(extendedKeyUsage)));
        break;
      }
      case "SubordinateCACertificate_PathLen0_APIPassthrough/V1":
      case "SubordinateCACertificate_PathLen0/V1":
        if (template.includes("APIPassthrough")) {
          if (apiSubject) subject = subjectName(apiSubject);
          if (apiSans) sanNames = apiSans.map(generalName);
        }
        extensions.push(
          new BasicConstraintsExtension(true, 0, true),
          new KeyUsagesExtension(
            KeyUsageFlags.digitalSignature | KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign,
            true,
          ),
        );
        break;
      default:
        throw new AwsServiceError(
          "InvalidArgsException",
          `template ${template} is not supported by the stand-in`,
        );
    }
    const emptySubject = subject.toString() === "";
    if (emptySubject && sanNames.length === 0)
      throw new AwsServiceError(
        "MalformedCSRException",
        "the certificate would have neither subject nor SAN",
      );
    if (sanNames.length > 0) extensions.push(new SubjectAlternativeNameExtension(sanNames, emptySubject));
    extensions.push(
      await SubjectKeyIdentifierExtension.create(spkiBuffer),
      new AuthorityKeyIdentifierExtension(ca.certificate.getExtension(SubjectKeyIdentifierExtension)!.keyId),
    );

    const serial = randomBytes(16);
    serial[0] = (serial[0]! & 0x7f) | 0x01;
    const signing = portSigning(ca.signer);
    const certificate = await X509CertificateGenerator.create(
      {
        serialNumber: serial.toString("hex"),
        subject,
        issuer: ca.certificate.subjectName,
        notBefore: new Date(Math.max(notBefore * 1000, ca.certificate.notBefore.getTime())),
        notAfter: new Date(notAfter * 1000),
        publicKey: spkiBuffer,
        signingKey: signing.signingKey,
        signingAlgorithm: signing.signingAlgorithm,
        extensions,
      },
      signing.crypto,
    );
    const arn = `${this.caArn}/certificate/${serial.toString("hex")}`;
    this.#issued.set(arn, { certificate, polls: 0 });
    if (token) this.#idempotency.set(token, arn);
    return { CertificateArn: arn };
  }

  #getCertificate(input: WireInput) {
    const ca = this.#checkCa(input);
    const arn = requireString(input, "CertificateArn");
    const issued = this.#issued.get(arn);
    if (!issued) throw new AwsServiceError("ResourceNotFoundException", `certificate ${arn} not found`);
    issued.polls += 1;
    if (issued.polls <= this.#pendingPolls)
      throw new AwsServiceError(
        "RequestInProgressException",
        "The request to issue a certificate is still in progress.",
      );
    return {
      Certificate: pem(issued.certificate),
      CertificateChain: [ca.certificate, ...ca.chain].map(pem).join("\n"),
    };
  }

  #getCaCertificate(input: WireInput) {
    const ca = this.#checkCa(input);
    return {
      Certificate: pem(ca.certificate),
      ...(ca.chain.length > 0 && { CertificateChain: ca.chain.map(pem).join("\n") }),
    };
  }

  #checkCa(input: WireInput) {
    const arn = requireString(input, "CertificateAuthorityArn");
    if (!arn.startsWith("arn:aws:acm-pca:"))
      throw new AwsServiceError("InvalidArnException", `${arn} is not an ARN`);
    if (arn !== this.caArn || !this.#ca)
      throw new AwsServiceError("ResourceNotFoundException", `certificate authority ${arn} not found`);
    return this.#ca;
  }
}

function pem(certificate: X509Certificate): string {
  return certificate.toString("pem");
}

/** `Csr` is base64 of the PEM text (as the API reference's example and SPIRE send it). */
function parseCsrField(value: unknown): Pkcs10CertificateRequest {
  if (typeof value !== "string" || value === "")
    throw new AwsServiceError("ValidationException", "Csr is required");
  const text = Buffer.from(value, "base64").toString("utf8");
  if (!text.startsWith("-----BEGIN CERTIFICATE REQUEST-----"))
    throw new AwsServiceError("MalformedCSRException", "the CSR is not a PEM certificate request");
  try {
    return new Pkcs10CertificateRequest(text);
  } catch {
    throw new AwsServiceError("MalformedCSRException", "the CSR cannot be parsed");
  }
}

function validityEnd(validity: unknown, now: number): number {
  const v = validity as { Type?: string; Value?: number } | undefined;
  if (!v || typeof v.Value !== "number" || !Number.isInteger(v.Value))
    throw new AwsServiceError("ValidationException", "Validity {Type, Value} is required");
  if (v.Type === "ABSOLUTE") return v.Value;
  if (v.Type === "DAYS") return now + v.Value * 86400;
  throw new AwsServiceError(
    "InvalidArgsException",
    `Validity type ${v.Type} is not supported by the stand-in`,
  );
}

/** Default notBefore is issuance minus 60 minutes, as PCA's. */
function validityStart(validity: unknown, now: number): number {
  if (validity === undefined) return now - 3600;
  const v = validity as { Type?: string; Value?: number };
  if (v.Type !== "ABSOLUTE" || typeof v.Value !== "number")
    throw new AwsServiceError("InvalidArgsException", "ValidityNotBefore must be ABSOLUTE");
  return v.Value;
}

function subjectName(subject: WireInput): Name {
  const rdns: Record<string, string[]>[] = [];
  for (const [field, short] of Object.entries(SUBJECT_FIELDS))
    if (typeof subject[field] === "string") rdns.push({ [short]: [subject[field]] });
  return new Name(rdns);
}

function generalName(name: WireInput): JsonGeneralName {
  if (typeof name.UniformResourceIdentifier === "string")
    return { type: "url", value: name.UniformResourceIdentifier };
  if (typeof name.DnsName === "string") return { type: "dns", value: name.DnsName };
  if (typeof name.IpAddress === "string") return { type: "ip", value: name.IpAddress };
  if (typeof name.Rfc822Name === "string") return { type: "email", value: name.Rfc822Name };
  throw new AwsServiceError("InvalidArgsException", "the stand-in supports URI, DNS, IP and email SANs");
}

function keyUsageFlags(usage: Record<string, boolean>): KeyUsageFlags {
  let flags = 0;
  for (const [name, on] of Object.entries(usage)) {
    const flag = KEY_USAGE_FLAGS[name];
    if (flag === undefined) throw new AwsServiceError("ValidationException", `unknown KeyUsage ${name}`);
    if (on) flags |= flag;
  }
  return flags;
}

function extendedKeyUsage(usage: WireInput): string {
  if (typeof usage.ExtendedKeyUsageObjectIdentifier === "string")
    return usage.ExtendedKeyUsageObjectIdentifier;
  const oid = EKU_TYPES[usage.ExtendedKeyUsageType as string];
  if (!oid)
    throw new AwsServiceError(
      "ValidationException",
      `unknown ExtendedKeyUsageType ${usage.ExtendedKeyUsageType}`,
    );
  return oid;
}

/** The real SDK client pointed at a stand-in: static dummy credentials, `maxAttempts` 1 unless asked. */
export function pcaClientFor(url: string, options: { maxAttempts?: number } = {}): ACMPCAClient {
  return new ACMPCAClient({
    endpoint: url,
    region: "us-east-1",
    credentials: { accessKeyId: "AKIAFAKEPCASTANDIN00", secretAccessKey: "fake-secret" },
    maxAttempts: options.maxAttempts ?? 1,
  });
}
