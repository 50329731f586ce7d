/**
 * LocalSts: a local STS that speaks the real wire protocol of sts:GetCallerIdentity,
 * for tests and `svid-bridge dev`. It knows a table of dev principals (access key →
 * secret, optional session token, ARN, UserId) and checks each request the way STS
 * does: SigV4 recomputed with @smithy/signature-v4 from the request as received and
 * the stored secret, the ±15-minute clock rule, the session token, the action. It
 * answers exactly as STS does: GetCallerIdentityResponse XML, or ErrorResponse XML
 * with STS's codes and statuses (SignatureDoesNotMatch 403, ExpiredToken 403,
 * InvalidClientTokenId 403, IncompleteSignature 400, MissingAuthenticationToken 403,
 * InvalidAction 400).
 *
 *   const sts = new LocalSts({ principals: [DEV_ROLE] });
 *   const endpoint = await sts.start();          // http://127.0.0.1:<free port>
 *   // sign for sts.<region>.amazonaws.com, send to `endpoint` with that Host header
 *   await sts.stop();
 *
 * Dependencies: node:http, node:crypto, @smithy/signature-v4, node:crypto (NodeSha256),
 * @smithy/protocol-http (all already in the extension's and the bridge's bundles).
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { type Clock, systemClock } from "../clock.js";
import { NodeSha256 as Sha256 } from "../crypto/node-sha256.js";

export interface DevPrincipal {
  accessKeyId: string;
  secretAccessKey: string;
  /** Temporary credentials (ASIA…) carry one; STS refuses the key without it. */
  sessionToken?: string;
  /** e.g. arn:aws:sts::111122223333:assumed-role/app-role/my-function */
  arn: string;
  /** e.g. AROAEXAMPLEROLEID0001:my-function */
  userId: string;
  /** Answer ExpiredToken, as STS does once temporary credentials lapse. */
  expired?: boolean;
}

export interface LocalStsOptions {
  principals?: DevPrincipal[];
  clock?: Clock;
}

/** What a test hook may answer instead, once the signature has been verified. */
export interface LocalStsAnswer {
  status: number;
  body: string;
  contentType?: string;
}

export const STS_XMLNS = "https://sts.amazonaws.com/doc/2011-06-15/";
const SKEW_MS = 15 * 60 * 1000;
const MAX_BODY = 64 * 1024;
const AUTH =
  /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

class StsFault extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function xmlEscape(value: string): string {
  return value.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function accountOf(arn: string): string {
  return arn.split(":")[4] ?? "";
}

function amzDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
}

/** The 200 body STS sends for GetCallerIdentity. */
export function getCallerIdentityXml(
  p: { arn: string; userId: string; account?: string },
  requestId: string,
): string {
  return (
    `<GetCallerIdentityResponse xmlns="${STS_XMLNS}">\n` +
    "  <GetCallerIdentityResult>\n" +
    `    <Arn>${xmlEscape(p.arn)}</Arn>\n` +
    `    <UserId>${xmlEscape(p.userId)}</UserId>\n` +
    `    <Account>${xmlEscape(p.account ?? accountOf(p.arn))}</Account>\n` +
    "  </GetCallerIdentityResult>\n" +
    "  <ResponseMetadata>\n" +
    `    <RequestId>${requestId}</RequestId>\n` +
    "  </ResponseMetadata>\n" +
    "</GetCallerIdentityResponse>\n"
  );
}

/** The error body STS sends. */
export function errorResponseXml(code: string, message: string, requestId: string): string {
  return (
    `<ErrorResponse xmlns="${STS_XMLNS}">\n` +
    "  <Error>\n" +
    "    <Type>Sender</Type>\n" +
    `    <Code>${xmlEscape(code)}</Code>\n` +
    `    <Message>${xmlEscape(message)}</Message>\n` +
    "  </Error>\n" +
    `  <RequestId>${requestId}</RequestId>\n` +
    "</ErrorResponse>\n"
  );
}

export class LocalSts {
  readonly #principals = new Map<string, DevPrincipal>();
  readonly #clock: Clock;
  #server: Server | undefined;
  /** Requests received, whatever their fate: a proof refused by the bridge never gets here. */
  received = 0;
  /** Test hook: replaces the answer after the signature is verified (bad XML, 5xx, throttling…). */
  answerOverride: ((principal: DevPrincipal) => LocalStsAnswer | undefined) | undefined;

  constructor(options: LocalStsOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    for (const p of options.principals ?? []) this.addPrincipal(p);
  }

  addPrincipal(principal: DevPrincipal): void {
    this.#principals.set(principal.accessKeyId, principal);
  }

  /** Listens on 127.0.0.1, port 0 (a free one) unless told otherwise; resolves the base URL. */
  async start(port = 0): Promise<string> {
    const server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        this.#send(res, 500, errorResponseXml("InternalFailure", String(error), randomUUID()));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve());
    });
    this.#server = server;
    return this.endpoint;
  }

  get endpoint(): string {
    if (!this.#server) throw new Error("LocalSts is not started");
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.received++;
    const requestId = randomUUID();
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY) {
        this.#send(res, 413, errorResponseXml("RequestEntityTooLarge", "Request is too large", requestId));
        return;
      }
      chunks.push(chunk);
    }
    const body = Buffer.concat(chunks).toString("utf8");
    try {
      const principal = await this.#authenticate(req, body);
      const params = new URLSearchParams(body);
      const action = params.get("Action");
      if (req.method !== "POST" || action !== "GetCallerIdentity" || params.get("Version") !== "2011-06-15")
        throw new StsFault(
          400,
          "InvalidAction",
          `Could not find operation ${action ?? ""} for version ${params.get("Version") ?? "NO_VERSION_SPECIFIED"}`,
        );
      const override = this.answerOverride?.(principal);
      if (override) {
        this.#send(res, override.status, override.body, override.contentType);
        return;
      }
      this.#send(res, 200, getCallerIdentityXml(principal, requestId));
    } catch (error) {
      if (!(error instanceof StsFault)) throw error;
      this.#send(res, error.status, errorResponseXml(error.code, error.message, requestId));
    }
  }

  /** STS's checks, in STS's order: signature form, clock, key, token, signature. */
  async #authenticate(req: IncomingMessage, body: string): Promise<DevPrincipal> {
    const received = receivedHeaders(req);
    const auth = readAuthorization(received.get("authorization"));
    const { date, signedAt } = checkDate(received.get("x-amz-date"), this.#clock.now());
    checkScope(auth, date, received.get("host") ?? "");
    const principal = this.#principals.get(auth.accessKeyId);
    const token = received.get("x-amz-security-token");
    if (!principal || (principal.sessionToken ?? undefined) !== token)
      throw new StsFault(
        403,
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
      );
    if (principal.expired)
      throw new StsFault(403, "ExpiredToken", "The security token included in the request is expired");
    await checkSignature(req, body, received, auth, principal, signedAt);
    return principal;
  }

  #send(res: ServerResponse, status: number, body: string, contentType = "text/xml"): void {
    if (res.headersSent) return;
    res.writeHead(status, {
      "content-type": contentType,
      "content-length": Buffer.byteLength(body),
      "x-amzn-requestid": randomUUID(),
    });
    res.end(body);
  }
}

/** The request's headers by lower-case name; repeats joined with commas, as SigV4 canonicalises them. */
function receivedHeaders(req: IncomingMessage): Map<string, string> {
  const received = new Map<string, string>();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!.toLowerCase();
    const value = req.rawHeaders[i + 1]!;
    received.set(name, received.has(name) ? `${received.get(name)},${value}` : value);
  }
  return received;
}

/** The parts of an AWS4-HMAC-SHA256 Authorization header. */
interface SigV4Authorization {
  accessKeyId: string;
  scopeDate: string;
  region: string;
  service: string;
  signedList: string;
  signature: string;
}

function readAuthorization(authorization: string | undefined): SigV4Authorization {
  if (authorization === undefined)
    throw new StsFault(403, "MissingAuthenticationToken", "Request is missing Authentication Token");
  const m = AUTH.exec(authorization);
  if (!m)
    throw new StsFault(
      400,
      "IncompleteSignature",
      `Authorization header requires 'Credential', 'Signature', 'SignedHeaders' parameters. Authorization=${authorization}`,
    );
  const [, accessKeyId, scopeDate, region, service, signedList, signature] = m as unknown as string[];
  return {
    accessKeyId: accessKeyId!,
    scopeDate: scopeDate!,
    region: region!,
    service: service!,
    signedList: signedList!,
    signature: signature!,
  };
}

/** X-Amz-Date: present, and within STS's 15 minutes of `now`. */
function checkDate(date: string | undefined, now: number): { date: string; signedAt: number } {
  const d = date === undefined ? null : AMZ_DATE.exec(date);
  if (!d)
    throw new StsFault(
      400,
      "IncompleteSignature",
      "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
    );
  const signedAt = Date.UTC(+d[1]!, +d[2]! - 1, +d[3]!, +d[4]!, +d[5]!, +d[6]!);
  if (signedAt < now - SKEW_MS)
    throw new StsFault(
      403,
      "SignatureDoesNotMatch",
      `Signature expired: ${date} is now earlier than ${amzDate(now - SKEW_MS)} (${amzDate(now)} - 15 min.)`,
    );
  if (signedAt > now + SKEW_MS)
    throw new StsFault(
      403,
      "SignatureDoesNotMatch",
      `Signature not yet current: ${date} is still later than ${amzDate(now + SKEW_MS)} (${amzDate(now)} + 15 min.)`,
    );
  return { date: date!, signedAt };
}

/** The credential scope: service sts, X-Amz-Date's day, and the region of an STS Host. */
function checkScope(auth: SigV4Authorization, date: string, host: string): void {
  if (auth.service !== "sts" || auth.scopeDate !== date.slice(0, 8))
    throw new StsFault(
      403,
      "SignatureDoesNotMatch",
      "Credential should be scoped to correct service: 'sts'. ",
    );
  const hostRegion =
    host === "sts.amazonaws.com" ? "us-east-1" : /^sts\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(host)?.[1];
  if (hostRegion !== undefined && hostRegion !== auth.region)
    throw new StsFault(403, "SignatureDoesNotMatch", `Credential should be scoped to a valid region. `);
}

function signatureMismatch(): StsFault {
  return new StsFault(
    403,
    "SignatureDoesNotMatch",
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
  );
}

/** SigV4 recomputed from the request as received and the principal's secret. */
async function checkSignature(
  req: IncomingMessage,
  body: string,
  received: ReadonlyMap<string, string>,
  auth: SigV4Authorization,
  principal: DevPrincipal,
  signedAt: number,
): Promise<void> {
  // STS hashes the body it received; a claimed payload hash that differs cannot verify.
  const contentSha = received.get("x-amz-content-sha256");
  if (contentSha !== undefined && contentSha !== createHash("sha256").update(body).digest("hex"))
    throw signatureMismatch();
  const headers: Record<string, string> = {};
  for (const name of auth.signedList.split(";")) {
    const value = received.get(name);
    if (value !== undefined) headers[name] = value;
  }
  const url = new URL(req.url ?? "/", "http://placeholder");
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = v;
  const signer = new SignatureV4({
    service: "sts",
    region: auth.region,
    credentials: {
      accessKeyId: principal.accessKeyId,
      secretAccessKey: principal.secretAccessKey,
      ...(principal.sessionToken !== undefined && { sessionToken: principal.sessionToken }),
    },
    sha256: Sha256,
    applyChecksum: false,
  });
  const resigned = await signer.sign(
    new HttpRequest({
      method: req.method ?? "POST",
      hostname: received.get("host") ?? "",
      path: url.pathname,
      query,
      headers,
      body,
    }),
    { signingDate: new Date(signedAt) },
  );
  const expected = AUTH.exec(String(resigned.headers.authorization));
  if (!expected || expected[5] !== auth.signedList) throw signatureMismatch();
  if (!timingSafeEqual(Buffer.from(expected[6]!, "hex"), Buffer.from(auth.signature, "hex")))
    throw signatureMismatch();
}

export interface DevRole {
  account: string;
  roleName: string;
  /** For Lambda, the function name. */
  sessionName: string;
  partition?: "aws" | "aws-cn" | "aws-us-gov";
}

/**
 * A fresh dev role session with random temporary credentials, as `svid-bridge dev`
 * prints them: export the keys, and proofs signed with them pass LocalSts.
 */
export function makeDevRolePrincipal(role: DevRole): DevPrincipal {
  const id = (n: number) =>
    Array.from(randomBytes(n), (b) => "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[b % 32]).join("");
  return {
    accessKeyId: `ASIA${id(16)}`,
    secretAccessKey: randomBytes(30).toString("base64"),
    sessionToken: randomBytes(96).toString("base64"),
    arn: `arn:${role.partition ?? "aws"}:sts::${role.account}:assumed-role/${role.roleName}/${role.sessionName}`,
    userId: `AROA${id(17)}:${role.sessionName}`,
  };
}
