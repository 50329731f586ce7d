/**
 * X.509-SVIDs (X509-SVID.md): CSR checks, leaf and CA certificate building through a
 * Signer port, and validation of a presented chain against a trust bundle. ASN.1 is
 * @peculiar/x509's; signature and issuer checks are node:crypto's (OpenSSL).
 */
import { X509Certificate as NodeX509Certificate, randomBytes } from "node:crypto";
import { type Clock, systemClock } from "../clock.js";
import {
  extensions as certificateExtensions,
  emptyName,
  keyIdentifierOf,
  parseCertificateSchema,
  parseSpki,
  type SchemaExtension,
  type SchemaName,
  type SubjectPublicKeyInfo,
  signCertificate as signCertificateFromSchema,
} from "../crypto/certificate-builder.js";
import { SignedCsr, verifyCsrSignature } from "../crypto/csr-signature.js";
import { readPemBlock, readPemBlocks } from "../crypto/pem.js";
import { assertSoundPublicKey, type SoundKeyKind } from "../crypto/sound-key.js";
import {
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  ExtendedKeyUsage,
  type Extension,
  KeyUsageFlags,
  KeyUsagesExtension,
  Name,
  SubjectAlternativeNameExtension,
  SubjectKeyIdentifierExtension,
  X509Certificate,
  X509CertificateGenerator,
} from "../crypto/x509.js";
import { portSigning } from "../crypto/x509-signing.js";
import { BridgeError, type ErrorCode } from "../errors.js";
import type { Signer } from "../ports/key-manager.js";
import { BundleSet, type TrustBundle } from "./bundle.js";
import { SpiffeId } from "./spiffe-id.js";

/** Leaves start this far in the past, so a verifier whose clock is behind still accepts them. */
export const BACKDATE_SECONDS = 30;
const SERIAL_BYTES = 16; // 128 random bits; CA/B asks for ≥ 64.
const MAX_CSR_BYTES = 16 * 1024;
const MAX_CHAIN_DEPTH = 8;
const SAN_OID = "2.5.29.17";
/** Base64 (or base64url) DER of a CSR sent without PEM armour. One character class: linear. */
export const BASE64_DER = /^[A-Za-z0-9+/=_-]+$/;
const CSR_PEM = {
  labels: ["CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"],
  code: "csr_malformed",
  maxChars: MAX_CSR_BYTES,
  what: "the CSR",
} as const;
const CERTIFICATES_PEM = {
  labels: ["CERTIFICATE"],
  maxChars: 64 * 1024,
  maxBlocks: MAX_CHAIN_DEPTH + 1,
  what: "the certificate chain",
} as const;

// ---------------------------------------------------------------------------- keys

export type SubjectKeyKind = SoundKeyKind;

// The verdicts of checkSubjectKey for keys seen lately, with the key's schema form: the
// exchange checks the CSR's key, then the builder checks it again, and a workload's key
// comes back at every refresh. Reading the key into OpenSSL cost more than the leaf's
// signature. Refusals are not kept.
const KEY_VERDICTS_MAX = 512;
const keyVerdicts = new Map<string, { kind: SubjectKeyKind; info: SubjectPublicKeyInfo }>();

/** checkSubjectKey, answered from the recent verdicts when this exact SPKI was accepted before. */
function checkedSubjectKey(spki: Uint8Array): { kind: SubjectKeyKind; info: SubjectPublicKeyInfo } {
  const key = Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength).toString("base64");
  const known = keyVerdicts.get(key);
  if (known) return known;
  const kind = checkSubjectKey(spki);
  let info: SubjectPublicKeyInfo;
  try {
    info = parseSpki(spki);
  } catch (cause) {
    throw new BridgeError("unsupported_key", "the public key is not a DER SubjectPublicKeyInfo", { cause });
  }
  const verdict = { kind, info };
  if (keyVerdicts.size >= KEY_VERDICTS_MAX) keyVerdicts.delete(keyVerdicts.keys().next().value!);
  keyVerdicts.set(key, verdict);
  return verdict;
}

/** Only sound keys may be certified (lib/crypto/sound-key.ts): RSA 2048–8192 with e = 65537, EC P-256/P-384. */
export function checkSubjectKey(spki: Uint8Array): SubjectKeyKind {
  return assertSoundPublicKey(spki, "unsupported_key");
}

// ---------------------------------------------------------------------------- CSRs

/** Parses a CSR given as PEM, base64 DER, or DER bytes. */
export function parseCsr(input: string | Uint8Array): SignedCsr {
  const size = typeof input === "string" ? Buffer.byteLength(input) : input.byteLength;
  if (size === 0) throw new BridgeError("csr_malformed", "the CSR is empty");
  if (size > MAX_CSR_BYTES)
    throw new BridgeError("csr_malformed", `the CSR is larger than ${MAX_CSR_BYTES} bytes`);
  try {
    if (typeof input !== "string") return new SignedCsr(Buffer.from(input));
    const text = input.trim();
    // Our own linear PEM reader: the library's backtracks on header-like lines (issue 14, fault 1).
    if (text.startsWith("-----")) return new SignedCsr(readPemBlock(text, CSR_PEM));
    if (!BASE64_DER.test(text))
      throw new BridgeError("csr_malformed", "the CSR is neither PEM nor base64 DER");
    return new SignedCsr(Buffer.from(text, "base64"));
  } catch (cause) {
    if (cause instanceof BridgeError) throw cause;
    throw new BridgeError("csr_malformed", "the CSR cannot be parsed as PKCS#10", { cause });
  }
}

export interface CheckedCsr {
  /** DER SubjectPublicKeyInfo of the key the CSR proves possession of. */
  spki: Uint8Array;
  keyKind: SubjectKeyKind;
  /** True when the CSR asks for SANs: they are ignored, and PCA direct mode refuses them. */
  requestsSans: boolean;
}

/** Checks the CSR's self-signature (proof of possession) and its key. Subject and SANs are ignored. */
export async function checkCsr(input: string | Uint8Array | SignedCsr): Promise<CheckedCsr> {
  const csr = input instanceof SignedCsr ? input : parseCsr(input);
  const spki = new Uint8Array(csr.publicKey.rawData);
  const keyKind = checkedSubjectKey(spki).kind;
  let ok: boolean | undefined = false;
  try {
    // node:crypto, synchronously, for ECDSA and RSA PKCS#1 v1.5; WebCrypto for any other (PSS).
    ok = verifyCsrSignature(csr, spki) ?? (await csr.verify());
  } catch (cause) {
    throw new BridgeError("csr_signature_invalid", "the CSR's signature cannot be checked", { cause });
  }
  if (!ok)
    throw new BridgeError("csr_signature_invalid", "the CSR's signature does not verify with its own key");
  return { spki, keyKind, requestsSans: csr.getExtension(SAN_OID) !== null };
}

// ---------------------------------------------------------------------------- building

/** 128 random bits as a positive DER INTEGER without a leading 00 byte. */
function randomSerial(): Uint8Array {
  const bytes = randomBytes(SERIAL_BYTES);
  bytes[0] = bytes[0]! & 0x7f;
  if (bytes[0] === 0) bytes[0] = 0x01;
  return bytes;
}

function randomSerialHex(): string {
  const bytes = randomBytes(SERIAL_BYTES);
  bytes[0] = bytes[0]! & 0x7f; // positive, without a leading 00 byte.
  if (bytes[0] === 0) bytes[0] = 0x01;
  return bytes.toString("hex");
}

async function keyIdExtensions(
  subjectSpki: Uint8Array,
  issuer: X509Certificate | undefined,
  issuerSpki: Uint8Array,
) {
  const ski = await SubjectKeyIdentifierExtension.create(toArrayBuffer(subjectSpki));
  const issuerSki = issuer?.getExtension(SubjectKeyIdentifierExtension);
  const aki = issuerSki
    ? new AuthorityKeyIdentifierExtension(issuerSki.keyId)
    : await AuthorityKeyIdentifierExtension.create(toArrayBuffer(issuerSpki));
  return [ski, aki];
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

export interface BuildX509SvidInput {
  spiffeId: SpiffeId;
  /** DER SPKI of the workload's key (from a checked CSR). */
  subjectPublicKey: Uint8Array;
  /** The issuing CA's certificate and signer. */
  issuer: X509Certificate;
  signer: Signer;
  ttlSeconds: number;
  dnsNames?: readonly string[];
  clock?: Clock;
}

/** What a leaf needs of its issuer, read once per issuer certificate (the CA reuses one object). */
interface IssuerProfile {
  name: SchemaName;
  authorityKeyId: SchemaExtension;
  notBefore: number;
  notAfter: number;
}
const issuerProfiles = new WeakMap<X509Certificate, IssuerProfile>();

function issuerProfileOf(issuer: X509Certificate, signer: Signer): IssuerProfile {
  let profile = issuerProfiles.get(issuer);
  if (!profile) {
    const tbs = parseCertificateSchema(new Uint8Array(issuer.rawData)).tbsCertificate;
    const ski = issuer.getExtension(SubjectKeyIdentifierExtension);
    profile = {
      name: tbs.subject,
      // As RFC 5280 §4.2.1.1 wants: the issuer's own SKI, else the hash of its key.
      authorityKeyId: certificateExtensions.authorityKeyIdentifier(
        ski ? Buffer.from(ski.keyId, "hex") : keyIdentifierOf(parseSpki(signer.spki)),
      ),
      notBefore: issuer.notBefore.getTime(),
      notAfter: issuer.notAfter.getTime(),
    };
    issuerProfiles.set(issuer, profile);
  }
  return profile;
}

/**
 * Builds a leaf X.509-SVID: empty subject, exactly one URI SAN (critical, as RFC 5280
 * wants with an empty subject), CA=false, critical keyUsage digitalSignature (plus
 * keyEncipherment for RSA keys), EKU serverAuth+clientAuth, 128-bit random serial,
 * notBefore backdated, notAfter never beyond the issuer's. The TBSCertificate is built
 * from the ASN.1 schema and signed through the Signer port (lib/crypto/certificate-builder.ts).
 */
export async function buildX509Svid(input: BuildX509SvidInput): Promise<X509Certificate> {
  if (input.spiffeId.isTrustDomainId)
    throw new BridgeError("invalid_spiffe_id", "a leaf SVID needs a SPIFFE ID with a path");
  const subjectKey = checkedSubjectKey(input.subjectPublicKey);
  const issuer = issuerProfileOf(input.issuer, input.signer);
  const now = (input.clock ?? systemClock).now();
  const notBefore = new Date(Math.max(now - BACKDATE_SECONDS * 1000, issuer.notBefore));
  const notAfter = new Date(Math.min(now + input.ttlSeconds * 1000, issuer.notAfter));
  if (notAfter.getTime() <= now) throw new BridgeError("ca_unavailable", "the issuing CA has expired");
  let usages = KeyUsageFlags.digitalSignature;
  if (subjectKey.kind.startsWith("rsa")) usages |= KeyUsageFlags.keyEncipherment;
  const spki = subjectKey.info;
  return signCertificateFromSchema(
    {
      serialNumber: randomSerial(),
      issuer: issuer.name,
      subject: emptyName(),
      notBefore,
      notAfter,
      subjectPublicKeyInfo: spki,
      extensions: [
        certificateExtensions.basicConstraints(false),
        certificateExtensions.keyUsage(usages),
        certificateExtensions.extendedKeyUsage([ExtendedKeyUsage.serverAuth, ExtendedKeyUsage.clientAuth]),
        certificateExtensions.subjectAltName(
          [{ uri: input.spiffeId.toString() }, ...(input.dnsNames ?? []).map((dns) => ({ dns }))],
          true,
        ),
        certificateExtensions.subjectKeyIdentifier(keyIdentifierOf(spki)),
        issuer.authorityKeyId,
      ],
    },
    input.signer,
  );
}

/** Assembles and signs a certificate through the Signer port, with a fresh random serial. */
async function signCertificate(fields: {
  subject: Name;
  issuer: Name;
  notBefore: Date;
  notAfter: Date;
  subjectPublicKey: Uint8Array;
  signer: Signer;
  extensions: Extension[];
}): Promise<X509Certificate> {
  const signing = portSigning(fields.signer);
  return X509CertificateGenerator.create(
    {
      serialNumber: randomSerialHex(),
      subject: fields.subject,
      issuer: fields.issuer,
      notBefore: fields.notBefore,
      notAfter: fields.notAfter,
      publicKey: toArrayBuffer(fields.subjectPublicKey),
      signingKey: signing.signingKey,
      signingAlgorithm: signing.signingAlgorithm,
      extensions: fields.extensions,
    },
    signing.crypto,
  );
}

export interface BuildCaCertificateInput {
  trustDomainId: SpiffeId;
  /** Distinguished name, e.g. "CN=SVID Bridge Root CA, O=SVID Bridge". */
  subject: string;
  subjectPublicKey: Uint8Array;
  /** Absent: self-signed root (signer holds the subject's own key). */
  issuer?: X509Certificate;
  signer: Signer;
  ttlSeconds: number;
  /** Path length constraint; 0 for an intermediate that signs leaves only. */
  pathLength?: number;
  clock?: Clock;
}

/** Builds a CA certificate (root or intermediate) carrying the trust domain's SPIFFE ID. */
export async function buildCaCertificate(input: BuildCaCertificateInput): Promise<X509Certificate> {
  const now = (input.clock ?? systemClock).now();
  const notBefore = new Date(now - BACKDATE_SECONDS * 1000);
  let notAfter = new Date(now + input.ttlSeconds * 1000);
  if (input.issuer && notAfter > input.issuer.notAfter) notAfter = input.issuer.notAfter;
  const extensions: Extension[] = [
    new BasicConstraintsExtension(true, input.pathLength, true),
    new KeyUsagesExtension(
      KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign | KeyUsageFlags.digitalSignature,
      true,
    ),
    new SubjectAlternativeNameExtension([{ type: "url", value: input.trustDomainId.toString() }], false),
    ...(await keyIdExtensions(input.subjectPublicKey, input.issuer, input.signer.spki)),
  ];
  const subject = new Name(input.subject);
  return signCertificate({
    subject,
    issuer: input.issuer ? input.issuer.subjectName : subject,
    notBefore,
    notAfter,
    subjectPublicKey: input.subjectPublicKey,
    signer: input.signer,
    extensions,
  });
}

// ---------------------------------------------------------------------------- validation

function x509SvidInvalid(message: string): never {
  throw new BridgeError("x509_svid_invalid", message);
}

function x509ChainInvalid(message: string): never {
  throw new BridgeError("x509_chain_invalid", message);
}

/** Checks the leaf rules of X509-SVID.md §4 and §5; returns its SPIFFE ID. */
export function checkLeafRules(leaf: X509Certificate): SpiffeId {
  const san = leaf.getExtension(SubjectAlternativeNameExtension);
  const uris = san ? san.names.items.filter((n) => n.type === "url") : [];
  if (uris.length !== 1)
    x509SvidInvalid(`an X.509-SVID must have exactly one URI SAN, this one has ${uris.length}`);
  const parsed = SpiffeId.tryParse(uris[0]!.value);
  if (!parsed.ok) x509SvidInvalid(`the URI SAN is not a SPIFFE ID: ${parsed.error.message}`);
  if (parsed.id.isTrustDomainId) x509SvidInvalid("a leaf SVID's SPIFFE ID must have a path");
  const bc = leaf.getExtension(BasicConstraintsExtension);
  if (bc?.ca) x509SvidInvalid("a leaf SVID must not be a CA (basicConstraints cA=true)");
  const ku = leaf.getExtension(KeyUsagesExtension);
  if (!ku) x509SvidInvalid("a leaf SVID must have a keyUsage extension");
  if (!(ku.usages & KeyUsageFlags.digitalSignature))
    x509SvidInvalid("a leaf SVID's keyUsage must include digitalSignature");
  if (ku.usages & KeyUsageFlags.keyCertSign)
    x509SvidInvalid("a leaf SVID's keyUsage must not include keyCertSign");
  if (ku.usages & KeyUsageFlags.cRLSign) x509SvidInvalid("a leaf SVID's keyUsage must not include cRLSign");
  return parsed.id;
}

function checkCaRules(cert: X509Certificate, role: string): void {
  const bc = cert.getExtension(BasicConstraintsExtension);
  if (!bc?.ca) x509ChainInvalid(`${role} ${cert.subject} is not a CA`);
  const ku = cert.getExtension(KeyUsagesExtension);
  if (ku && !(ku.usages & KeyUsageFlags.keyCertSign))
    x509ChainInvalid(`${role} ${cert.subject} may not sign certificates`);
}

function checkValidity(cert: X509Certificate, at: Date, role: string): void {
  if (at < cert.notBefore) x509ChainInvalid(`${role} ${cert.subject || "(leaf)"} is not yet valid`);
  if (at > cert.notAfter) x509ChainInvalid(`${role} ${cert.subject || "(leaf)"} has expired`);
}

const nodeCerts = new WeakMap<X509Certificate, NodeX509Certificate>();
function nodeCert(cert: X509Certificate): NodeX509Certificate {
  let n = nodeCerts.get(cert);
  if (!n) {
    n = new NodeX509Certificate(Buffer.from(cert.rawData));
    nodeCerts.set(cert, n);
  }
  return n;
}

function issuedBy(child: X509Certificate, parent: X509Certificate): boolean {
  const c = nodeCert(child);
  const p = nodeCert(parent);
  return c.checkIssued(p) && c.verify(p.publicKey);
}

export interface ValidatedX509Svid {
  spiffeId: SpiffeId;
  /** Leaf, intermediates, and the bundle root the path ends at. */
  path: X509Certificate[];
}

/**
 * Validates a presented chain (leaf first, then intermediates) against the bundle of the
 * leaf's own trust domain: leaf rules, signatures, validity, CA bits and path lengths.
 * Name constraints and policies are not processed (SPIFFE CAs do not use them).
 */
export function validateX509Svid(
  chain: readonly X509Certificate[],
  bundles: BundleSet | TrustBundle,
  options: { clock?: Clock } = {},
): ValidatedX509Svid {
  if (chain.length === 0) x509SvidInvalid("the chain is empty");
  if (chain.length > MAX_CHAIN_DEPTH)
    x509ChainInvalid(`the chain is longer than ${MAX_CHAIN_DEPTH} certificates`);
  const at = new Date((options.clock ?? systemClock).now());
  const leaf = chain[0]!;
  const spiffeId = checkLeafRules(leaf);
  assertSoundPublicKey(new Uint8Array(leaf.publicKey.rawData), "x509_svid_invalid", "the leaf's key: ");
  checkValidity(leaf, at, "leaf");
  const set = bundles instanceof BundleSet ? bundles : new BundleSet([bundles]);
  const bundle = set.get(spiffeId.trustDomain);
  if (!bundle || bundle.x509Authorities.length === 0)
    x509ChainInvalid(`no X.509 authorities for trust domain ${spiffeId.trustDomain}`);
  const intermediates = chain.slice(1);
  const path: X509Certificate[] = [leaf];
  let current = leaf;
  for (let depth = 0; depth <= MAX_CHAIN_DEPTH; depth++) {
    const root = bundle.x509Authorities.find((r) => issuedBy(current, r));
    if (root) {
      checkCaRules(root, "root");
      checkValidity(root, at, "root");
      path.push(root);
      checkPathLengths(path);
      return { spiffeId, path };
    }
    const next = intermediates.find((c) => !path.includes(c) && issuedBy(current, c));
    if (!next) x509ChainInvalid("the chain does not lead to a root in the trust bundle");
    checkCaRules(next, "intermediate");
    checkValidity(next, at, "intermediate");
    path.push(next);
    current = next;
  }
  x509ChainInvalid("the chain is too deep");
}

/** RFC 5280 §4.2.1.9: a CA's pathLenConstraint bounds the intermediates below it. */
function checkPathLengths(path: X509Certificate[]): void {
  for (let i = 1; i < path.length; i++) {
    const limit = path[i]!.getExtension(BasicConstraintsExtension)?.pathLength;
    const below = i - 1; // CA certificates between this one and the leaf.
    if (limit !== undefined && below > limit)
      x509ChainInvalid(
        `${path[i]!.subject} allows ${limit} intermediate(s) below it, the chain has ${below}`,
      );
  }
}

export function certificatesToPem(certs: readonly X509Certificate[]): string {
  return certs.map((c) => `${c.toString("pem")}\n`).join("");
}

/**
 * Parses concatenated PEM certificates with the strict reader (lib/crypto/pem.ts): at most
 * `MAX_CHAIN_DEPTH` blocks, no headers, no text between them; empty text is no certificate.
 * @throws BridgeError `code` (default x509_chain_invalid) for anything else.
 */
export function parseCertificatesPem(pem: string, code: ErrorCode = "x509_chain_invalid"): X509Certificate[] {
  if (pem.trim() === "") return [];
  const ders = readPemBlocks(pem, { ...CERTIFICATES_PEM, code });
  try {
    return ders.map((der) => new X509Certificate(der));
  } catch (cause) {
    throw new BridgeError(code, "the certificate chain: a block is not an X.509 certificate", { cause });
  }
}
