/**
 * What the hostile fuzz suite aims at: the dev stack (lib/dev/dev-stack.ts: dynalite,
 * LocalSts checking real SigV4 with @smithy/signature-v4, the real exchange composition)
 * with callers that can prove who they are but are not registered, and two ways in: the
 * exchange handler in process on a Function URL (payload v2) event, and real HTTP
 * (keep-alive) to the stack's loopback port.
 *
 * Proofs are signed here with lib/proof/sigv4.ts (node:crypto only), not with the
 * @smithy/signature-v4 signer the extension's and CLI's proof client uses and LocalSts
 * verifies with: a field is mutated and then *correctly re-signed*, so a refusal comes
 * from the bridge's rules, not from a broken signature.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { PassThrough } from "node:stream";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { createDevLog } from "../../lib/dev/dev-log.js";
import { DEV_ROLE, type DevStack, startDevStack } from "../../lib/dev/dev-stack.js";
import { type DevPrincipal, makeDevRolePrincipal } from "../../lib/local/sts-server.js";
import { signSigV4 } from "../../lib/proof/sigv4.js";

export type Via = "invoke" | "http";

export interface RawRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

export interface Outcome {
  /** "net" when the request got no HTTP answer. */
  status: number | "net";
  body: string;
  headers: Record<string, string>;
  ms: number;
  /** The handler threw past its error middleware, the Function URL answered 502, or the connection failed. */
  crashed: boolean;
}

/** Who can sign proofs: the registered dev role, and principals LocalSts knows but no entry names. */
export interface Principals {
  dev: DevPrincipal;
  /** Another role in the registered account. */
  intruder: DevPrincipal;
  /** The registered role name in another account. */
  otherAccount: DevPrincipal;
  /** A role whose name extends the registered one. */
  lookalike: DevPrincipal;
  /** An IAM user in the registered account (long-term keys, no session token). */
  iamUser: DevPrincipal;
  /** The registered role with credentials STS says are expired. */
  expired: DevPrincipal;
}

export interface FuzzTarget {
  stack: DevStack;
  principals: Principals;
  /** The one SPIFFE ID the dev role's entry renders. */
  registeredId: string;
  send(request: RawRequest, via: Via): Promise<Outcome>;
  stop(): Promise<void>;
}

function iamUser(account: string, name: string): DevPrincipal {
  const id = randomBytes(8).toString("hex").toUpperCase();
  return {
    accessKeyId: `AKIA${id}`,
    secretAccessKey: randomBytes(30).toString("base64"),
    arn: `arn:aws:iam::${account}:user/${name}`,
    userId: `AIDA${id}`,
  };
}

export async function startFuzzTarget(region = "eu-west-1"): Promise<FuzzTarget> {
  const sink = new PassThrough();
  sink.resume();
  const principals: Omit<Principals, "dev"> = {
    intruder: makeDevRolePrincipal({ account: DEV_ROLE.account, roleName: "intruder", sessionName: "dev" }),
    otherAccount: makeDevRolePrincipal({ ...DEV_ROLE, account: "444455556666" }),
    lookalike: makeDevRolePrincipal({ ...DEV_ROLE, roleName: `${DEV_ROLE.roleName}-2` }),
    iamUser: iamUser(DEV_ROLE.account, DEV_ROLE.roleName),
    expired: { ...makeDevRolePrincipal(DEV_ROLE), expired: true },
  };
  const stack = await startDevStack({
    port: 0,
    trustDomain: "example.org",
    region,
    log: createDevLog(sink),
    extraPrincipals: Object.values(principals),
  });
  return {
    stack,
    principals: { dev: stack.principal, ...principals },
    registeredId: `spiffe://example.org/aws/${DEV_ROLE.account}/${DEV_ROLE.roleName}`,
    send: (request, via) => (via === "invoke" ? sendInvoke(stack, request) : sendHttp(stack.url, request)),
    stop: () => stack.stop(),
  };
}

/** The payload v2 event a Function URL would build for `request`. */
export function functionUrlEvent(request: RawRequest): APIGatewayProxyEventV2 {
  const now = new Date();
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: request.path,
    rawQueryString: "",
    headers: { host: "127.0.0.1", ...request.headers },
    requestContext: {
      accountId: "anonymous",
      apiId: "local",
      domainName: "127.0.0.1",
      domainPrefix: "local",
      http: {
        method: request.method,
        path: request.path,
        protocol: "HTTP/1.1",
        sourceIp: "127.0.0.1",
        userAgent: "",
      },
      requestId: randomUUID(),
      routeKey: "$default",
      stage: "$default",
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(request.body.byteLength > 0 && { body: request.body.toString("base64") }),
    isBase64Encoded: request.body.byteLength > 0,
  };
}

async function sendInvoke(stack: DevStack, request: RawRequest): Promise<Outcome> {
  const started = performance.now();
  try {
    const result = (await stack.invoke(
      "exchange",
      functionUrlEvent(request),
    )) as APIGatewayProxyStructuredResultV2;
    const ms = performance.now() - started;
    const status = result?.statusCode;
    if (typeof status !== "number") return { status: "net", body: "", headers: {}, ms, crashed: true };
    const headers = Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k, String(v)]));
    return { status, body: result.body ?? "", headers, ms, crashed: false };
  } catch (error) {
    return {
      status: "net",
      body: String(error),
      headers: {},
      ms: performance.now() - started,
      crashed: true,
    };
  }
}

async function sendHttp(url: string, request: RawRequest): Promise<Outcome> {
  const started = performance.now();
  try {
    const hasBody = request.method !== "GET" && request.method !== "HEAD";
    const res = await fetch(`${url}${request.path}`, {
      method: request.method,
      headers: request.headers,
      ...(hasBody && { body: request.body }),
    });
    const body = await res.text();
    const ms = performance.now() - started;
    // The Function URL server answers 502 {"message":"Internal Server Error"} when the handler throws.
    const crashed = res.status === 502 && body.includes("Internal Server Error");
    return { status: res.status, body, headers: Object.fromEntries(res.headers), ms, crashed };
  } catch (error) {
    return {
      status: "net",
      body: String(error),
      headers: {},
      ms: performance.now() - started,
      crashed: true,
    };
  }
}

/** Everything a proof is made of, before signing; a mutation changes one field and re-signs. */
export interface ProofSpec {
  principal: DevPrincipal;
  /** Signing region (credential scope). */
  region: string;
  host: string;
  date: Date;
  method: string;
  body: string;
  /** Headers besides host, x-amz-date, x-amz-security-token and authorization. */
  headers: Record<string, string>;
  /** Sign with this secret instead of the principal's (a wrong signature). */
  secret?: string;
  /** Send this session token instead of the principal's. */
  sessionToken?: string;
}

/** A proof as the wire carries it, signed with lib/proof/sigv4.ts. */
export function signProof(spec: ProofSpec): { method: string; headers: [string, string][]; body: string } {
  const sessionToken = spec.sessionToken ?? spec.principal.sessionToken;
  const headers = signSigV4(
    { method: spec.method, path: "/", headers: { host: spec.host, ...spec.headers }, body: spec.body },
    {
      accessKeyId: spec.principal.accessKeyId,
      secretAccessKey: spec.secret ?? spec.principal.secretAccessKey,
      ...(sessionToken !== undefined && { sessionToken }),
    },
    { region: spec.region, service: "sts", date: spec.date },
  );
  return { method: spec.method, headers: Object.entries(headers), body: spec.body };
}
