/**
 * The exchange's checks on a proof, everything that can be decided before STS is
 * asked (the rules of ../shared/reference/aws-lambda-sts-federation.md §4, after
 * Vault's aws/iam auth and Teleport's IAM join, and the advisories that taught them:
 * CVE-2020-16250, CVE-2022-2385). Pure and synchronous: no network, no clock reads.
 *
 * Every refusal is a BridgeError with a stable code and `details.rule` naming the rule.
 */
import { createHash } from "node:crypto";
import { BridgeError, type ErrorCode } from "../errors.js";
import { FORM_CONTENT_TYPE, GET_CALLER_IDENTITY_BODY, NONCE_HEADER } from "./proof-format.js";

export interface ProofRules {
  /** Lower-case header name carrying the bridge's server ID. */
  serverIdHeader: string;
  serverIdValue: string;
  /** Lower-case header name carrying the binding. */
  bindingHeader: string;
  /** STS host → the region its requests are signed for. Built by the bridge, never by the caller. */
  endpoints: ReadonlyMap<string, string>;
  /** Regions whose credential scope the bridge accepts. */
  regions: ReadonlySet<string>;
  /**
   * When set, only proofs scoped to this region (the exchange's own): a proof made for a
   * deployment in another region that shares the server ID is refused (issue 14, fault 9).
   */
  ownRegion?: string;
  maxAgeSeconds: number;
  maxAheadSeconds: number;
  /** Cap on the whole proof: method, body, every header name and value. */
  maxProofBytes: number;
  maxHeaderBytes: number;
  maxHeaders: number;
}

/** A proof that passed every local rule: what to forward, and what identifies it. */
export interface CheckedProof {
  host: string;
  region: string;
  /** Headers to forward, as signed (lower-case names, each once). */
  headers: [string, string][];
  body: string;
  /** SigV4 signature (64 hex): the replay key is derived from it. */
  signature: string;
  accessKeyId: string;
  /** X-Amz-Date in epoch milliseconds. */
  signedAt: number;
}

const PROOF_KEYS = new Set(["method", "headers", "body"]);
// A URL, path or query string never travels in a proof; one that tries is refused by name.
const URL_KEYS = new Set(["url", "uri", "path", "query", "querystring", "hostname", "protocol", "port"]);
const FORM_CONTENT_TYPES = new Set([FORM_CONTENT_TYPE, "application/x-www-form-urlencoded"]);
const BODY_SHA256 = createHash("sha256").update(GET_CALLER_IDENTITY_BODY).digest("hex");
// Vault's X-Amz-* allow-list minus what a signed POST never needs (the query-auth names).
const AWS_HEADERS = ["authorization", "content-type", "host", "x-amz-content-sha256", "x-amz-date"];
const TOKEN_HEADER = "x-amz-security-token";
const HEADER_NAME = /^[A-Za-z0-9-]{1,64}$/;
// Visible ASCII and space: no control characters, so nothing can split a header line.
const HEADER_VALUE = /^[\x20-\x7e]*$/;
const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([A-Z0-9]{16,128})\/(\d{8})\/([a-z0-9-]{1,32})\/sts\/aws4_request, ?SignedHeaders=([a-z0-9-]+(?:;[a-z0-9-]+)*), ?Signature=([0-9a-f]{64})$/;
const BINDING = /^[A-Za-z0-9_-]{43}$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** The header allow-list depends on the rules alone: built once per rules object. */
const allowedByRules = new WeakMap<ProofRules, ReadonlySet<string>>();
function allowedHeaders(rules: ProofRules): ReadonlySet<string> {
  let allowed = allowedByRules.get(rules);
  if (!allowed) {
    allowed = new Set([
      ...AWS_HEADERS,
      TOKEN_HEADER,
      NONCE_HEADER,
      rules.serverIdHeader,
      rules.bindingHeader,
    ]);
    allowedByRules.set(rules, allowed);
  }
  return allowed;
}

function refuse(code: ErrorCode, rule: string, message: string): never {
  throw new BridgeError(code, message, { details: { rule } });
}

function proofInvalid(rule: string, message: string): never {
  refuse("proof_invalid", rule, message);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Reads the JSON shape of a proof, under the size caps. Refuses anything that is not a proof. */
function readShape(
  proof: unknown,
  rules: ProofRules,
): { method: string; body: string; headers: [string, string][] } {
  if (!isPlainObject(proof)) refuse("proof_malformed", "shape", "the proof must be a JSON object");
  for (const key of Object.keys(proof)) {
    if (URL_KEYS.has(key.toLowerCase()))
      proofInvalid(
        "url",
        `a proof carries no URL, path or query ("${key}"): the bridge chooses where STS is`,
      );
    if (!PROOF_KEYS.has(key))
      refuse("proof_malformed", "shape", `unknown field in the proof: ${JSON.stringify(key)}`);
  }
  const { method, body, headers } = proof;
  if (typeof method !== "string" || typeof body !== "string" || !Array.isArray(headers))
    refuse(
      "proof_malformed",
      "shape",
      "the proof needs method (string), headers (list of pairs) and body (string)",
    );
  if (headers.length > rules.maxHeaders)
    proofInvalid("size", `the proof has more than ${rules.maxHeaders} headers`);
  let total = method.length + body.length;
  if (total > rules.maxProofBytes) proofInvalid("size", `the proof exceeds ${rules.maxProofBytes} bytes`);
  const pairs: [string, string][] = [];
  for (const pair of headers) {
    if (
      !Array.isArray(pair) ||
      pair.length !== 2 ||
      typeof pair[0] !== "string" ||
      typeof pair[1] !== "string"
    )
      refuse("proof_malformed", "shape", "each proof header must be a [name, value] pair of strings");
    const [name, value] = pair as [string, string];
    if (name.length + value.length > rules.maxHeaderBytes)
      proofInvalid("size", `a proof header exceeds ${rules.maxHeaderBytes} bytes`);
    total += name.length + value.length;
    if (total > rules.maxProofBytes) proofInvalid("size", `the proof exceeds ${rules.maxProofBytes} bytes`);
    pairs.push([name, value]);
  }
  return { method, body, headers: pairs };
}

function parseAmzDate(value: string): number {
  const m = AMZ_DATE.exec(value);
  if (!m) proofInvalid("x-amz-date", "X-Amz-Date must be YYYYMMDDTHHMMSSZ");
  // Six digit groups, all present in a match; a NaN default could not survive the round trip below.
  const [y = Number.NaN, mo = Number.NaN, d = Number.NaN, h = Number.NaN, mi = Number.NaN, s = Number.NaN] = m
    .slice(1)
    .map(Number);
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  // Date.UTC rolls 20261399 over into a real date; a real timestamp survives the round trip.
  if (
    back.getUTCFullYear() !== y ||
    back.getUTCMonth() !== mo - 1 ||
    back.getUTCDate() !== d ||
    back.getUTCHours() !== h ||
    back.getUTCMinutes() !== mi ||
    back.getUTCSeconds() !== s
  )
    proofInvalid("x-amz-date", "X-Amz-Date is not a real time");
  return ms;
}

/** The parts of an AWS4-HMAC-SHA256 Authorization header the rules look at. */
interface SignedScope {
  accessKeyId: string;
  scopeDate: string;
  region: string;
  /** SignedHeaders, in order, each once. */
  signed: string[];
  signature: string;
}

/** Header names and values: well-formed, allowed, each once. Returns them by lower-case name. */
function indexHeaders(headers: [string, string][], rules: ProofRules): Map<string, string> {
  const allowed = allowedHeaders(rules);
  const byName = new Map<string, string>();
  for (const [rawName, value] of headers) {
    if (!HEADER_NAME.test(rawName))
      proofInvalid("header-name", `not a header name: ${JSON.stringify(rawName)}`);
    const name = rawName.toLowerCase();
    if (!HEADER_VALUE.test(value))
      proofInvalid("header-value", `header ${name} has characters outside printable ASCII`);
    if (!allowed.has(name))
      proofInvalid(
        "header-not-allowed",
        `header ${name} is not allowed in a proof (X-Amz-Target and friends steer STS)`,
      );
    if (byName.has(name)) proofInvalid("header-duplicate", `header ${name} appears twice`);
    byName.set(name, value);
  }
  return byName;
}

/** Authorization: present, SigV4 (not SigV4a) for sts, SignedHeaders without repeats. */
function readAuthorization(byName: ReadonlyMap<string, string>): SignedScope {
  const authorization = byName.get("authorization");
  if (authorization === undefined) proofInvalid("authorization", "the proof has no Authorization header");
  if (authorization.startsWith("AWS4-ECDSA-P256-SHA256"))
    proofInvalid("sigv4a", "SigV4a is not accepted: sign with AWS4-HMAC-SHA256 for one region");
  const auth = AUTHORIZATION.exec(authorization);
  if (!auth)
    proofInvalid("authorization", "Authorization is not a well-formed AWS4-HMAC-SHA256 header for sts");
  // AUTHORIZATION's five groups are not optional: a match has them all (the defaults never apply).
  const [, accessKeyId = "", scopeDate = "", region = "", signedList = "", signature = ""] = auth;
  const signed = signedList.split(";");
  if (new Set(signed).size !== signed.length) proofInvalid("authorization", "SignedHeaders repeats a header");
  return { accessKeyId, scopeDate, region, signed, signature };
}

/**
 * A header the bridge requires, signed, with the value it expects: `{rule}-missing`,
 * `{rule}-unsigned`, `{rule}-value` under `code`; `mismatch` says what the wrong value means.
 */
function checkSignedValue(
  byName: ReadonlyMap<string, string>,
  isSigned: ReadonlySet<string>,
  header: string,
  expected: string,
  refusal: { code: ErrorCode; rule: string; mismatch: string },
): void {
  const { code, rule, mismatch } = refusal;
  const value = byName.get(header);
  if (value === undefined) refuse(code, `${rule}-missing`, `the proof has no ${header} header`);
  if (!isSigned.has(header)) refuse(code, `${rule}-unsigned`, `${header} must be a signed header`);
  if (value !== expected) refuse(code, `${rule}-value`, mismatch);
}

/** Every signed header present, every present header signed, Host and X-Amz-Date among them. */
function checkSignedSet(
  byName: ReadonlyMap<string, string>,
  signed: readonly string[],
  isSigned: ReadonlySet<string>,
): void {
  for (const name of signed)
    if (!byName.has(name))
      proofInvalid("signed-header-absent", `SignedHeaders names ${name}, which the proof lacks`);
  for (const name of byName.keys())
    if (name !== "authorization" && !isSigned.has(name))
      proofInvalid("unsigned-header", `header ${name} is present but not signed`);
  for (const name of ["host", "x-amz-date"])
    if (!byName.has(name)) proofInvalid("unsigned-header", `${name} must be present and signed`);
}

/** The nonce's form, when there is one; the form content type; the body hash, when given. */
function checkNonceAndContent(byName: ReadonlyMap<string, string>): void {
  const nonce = byName.get(NONCE_HEADER);
  if (nonce !== undefined && !/^[A-Za-z0-9_-]{16,64}$/.test(nonce))
    proofInvalid("nonce", `${NONCE_HEADER} must be 16 to 64 base64url characters`);
  const contentType = byName.get("content-type");
  if (contentType === undefined || !FORM_CONTENT_TYPES.has(contentType.toLowerCase()))
    proofInvalid("content-type", `Content-Type must be ${FORM_CONTENT_TYPE}`);
  const contentSha = byName.get("x-amz-content-sha256");
  if (contentSha !== undefined && contentSha !== BODY_SHA256)
    proofInvalid("content-sha256", "X-Amz-Content-Sha256 does not match the body");
}

/** The scope's region is accepted (and the exchange's own, when pinned); Host is its STS endpoint. */
function checkRegionAndHost(region: string, host: string, rules: ProofRules): void {
  if (!rules.regions.has(region))
    refuse("proof_region_not_allowed", "region", `region ${region} is not one this bridge accepts`);
  if (rules.ownRegion !== undefined && region !== rules.ownRegion)
    refuse(
      "proof_region_not_allowed",
      "own-region",
      `this bridge accepts proofs for ${rules.ownRegion} only`,
    );
  if (rules.endpoints.get(host) !== region)
    proofInvalid(
      "host",
      `Host ${JSON.stringify(host)} is not the STS endpoint this bridge uses for ${region}`,
    );
}

/** X-Amz-Date: a real time, the scope's date, within the age window. Returns it in epoch ms. */
function checkTime(amzDate: string, scopeDate: string, rules: ProofRules, nowMs: number): number {
  const signedAt = parseAmzDate(amzDate);
  if (amzDate.slice(0, 8) !== scopeDate)
    proofInvalid("scope-date", "the credential scope's date is not X-Amz-Date's");
  if (nowMs - signedAt > rules.maxAgeSeconds * 1000)
    refuse("proof_expired", "too-old", `the proof is older than ${rules.maxAgeSeconds} s: make a fresh one`);
  if (signedAt - nowMs > rules.maxAheadSeconds * 1000)
    refuse("proof_expired", "in-future", `the proof is dated more than ${rules.maxAheadSeconds} s ahead`);
  return signedAt;
}

/**
 * Applies every local rule to `proof`, in an order that names the most specific fault.
 * `expectedBinding` is what the exchange computed from the request the proof came with.
 */
export function checkProof(
  proof: unknown,
  expectedBinding: string,
  rules: ProofRules,
  nowMs: number,
): CheckedProof {
  // The exchange computes this with jwtBinding/x509Binding; anything else is its bug, not the caller's.
  if (!BINDING.test(expectedBinding))
    throw new BridgeError(
      "internal_error",
      "expectedBinding is not a base64url SHA-256 (use jwtBinding or x509Binding)",
    );
  const { method, body, headers } = readShape(proof, rules);
  if (method !== "POST") proofInvalid("method", "the proof must be a POST");
  if (body !== GET_CALLER_IDENTITY_BODY)
    proofInvalid("body", `the body must be exactly ${GET_CALLER_IDENTITY_BODY}`);
  const byName = indexHeaders(headers, rules);
  const { accessKeyId, scopeDate, region, signed, signature } = readAuthorization(byName);
  const isSigned = new Set(signed);
  checkSignedValue(byName, isSigned, rules.serverIdHeader, rules.serverIdValue, {
    code: "proof_server_id_mismatch",
    rule: "server-id",
    mismatch: "the proof was made for another server ID",
  });
  checkSignedValue(byName, isSigned, rules.bindingHeader, expectedBinding, {
    code: "proof_binding_mismatch",
    rule: "binding",
    mismatch: "the proof was made for another request",
  });
  checkSignedSet(byName, signed, isSigned);
  checkNonceAndContent(byName);
  const host = byName.get("host")!;
  checkRegionAndHost(region, host, rules);
  const signedAt = checkTime(byName.get("x-amz-date")!, scopeDate, rules, nowMs);
  return { host, region, headers: [...byName], body, signature, accessKeyId, signedAt };
}
