/**
 * AWS Signature Version 4 (header form, AWS4-HMAC-SHA256) of a request to the path "/"
 * with no query string: the shape of the proof, an unsent sts:GetCallerIdentity POST.
 * Nothing but node:crypto, for the in-process client whose bundle must stay small
 * (@smithy/signature-v4 with its dependencies is ~230 KiB minified; `aws4` is CommonJS
 * that requires node builtins at run time, which breaks the ESM bundles a top-level-await
 * handler needs). Checked against AWS's published SigV4 test suite vectors and against
 * @smithy/signature-v4 (test/proof/sigv4.test.ts); LocalSts verifies what it signs with
 * @smithy/signature-v4.
 *
 * Every header given is signed; names are lower-cased, values trimmed with inner runs of
 * spaces collapsed (SigV4's canonical header rule). Paths other than "/" and query
 * strings are out of scope and refused: their canonical encoding rules are not needed here.
 */
import { createHash, createHmac } from "node:crypto";

export interface SigV4Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SigV4Request {
  method: string;
  /** Always "/". */
  path: string;
  /** Must include `host`. Names in any case; each name once. */
  headers: Readonly<Record<string, string>>;
  body: string;
}

export interface SigV4Scope {
  region: string;
  service: string;
  /** The signing time; X-Amz-Date is written from it (whole seconds, UTC). */
  date: Date;
}

const ALGORITHM = "AWS4-HMAC-SHA256";

const sha256Hex = (data: string) => createHash("sha256").update(data, "utf8").digest("hex");
const hmac = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data, "utf8").digest();

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/**
 * 20150830T123600Z. From the UTC fields, not toISOString(): its first use in a process
 * maps ~1 MiB more of Node's binary (measured on Node 24), which a function pays at init.
 */
export function amzDate(date: Date): string {
  const day = `${pad(date.getUTCFullYear(), 4)}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}`;
  return `${day}T${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}Z`;
}

/**
 * The headers to send: the given ones (lower-cased), plus x-amz-date, x-amz-security-token
 * (with temporary credentials) and authorization.
 */
export function signSigV4(
  request: SigV4Request,
  credentials: SigV4Credentials,
  scope: SigV4Scope,
): Record<string, string> {
  if (request.path !== "/") throw new TypeError("signSigV4 signs requests to the path / only");
  const date = amzDate(scope.date);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    const lower = name.toLowerCase();
    if (lower in headers) throw new TypeError(`header ${lower} given twice`);
    headers[lower] = value;
  }
  if (!headers.host) throw new TypeError("signSigV4 needs a host header");
  headers["x-amz-date"] = date;
  if (credentials.sessionToken !== undefined) headers["x-amz-security-token"] = credentials.sessionToken;
  const names = Object.keys(headers).sort();
  const signedHeaders = names.join(";");
  const canonicalRequest = [
    request.method.toUpperCase(),
    "/",
    "",
    ...names.map((n) => `${n}:${headers[n]!.trim().replace(/\s+/g, " ")}`),
    "",
    signedHeaders,
    sha256Hex(request.body),
  ].join("\n");
  const day = date.slice(0, 8);
  const credentialScope = `${day}/${scope.region}/${scope.service}/aws4_request`;
  const stringToSign = [ALGORITHM, date, credentialScope, sha256Hex(canonicalRequest)].join("\n");
  let key = hmac(`AWS4${credentials.secretAccessKey}`, day);
  for (const part of [scope.region, scope.service, "aws4_request"]) key = hmac(key, part);
  const signature = createHmac("sha256", key).update(stringToSign, "utf8").digest("hex");
  headers.authorization = `${ALGORITHM} Credential=${credentials.accessKeyId}/${credentialScope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return headers;
}
