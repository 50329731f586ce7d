/**
 * FakeExchange: a TEST STAND-IN for the bridge's exchange, on a loopback port. It speaks
 * the exchange's wire contract (POST /v1/svid/jwt, POST /v1/svid/x509, GET /v1/bundle,
 * errors `{error, message}`) and issues real SVIDs from lib/ (a local CA, in-memory
 * keys, mintJwtSvid). Proofs are checked for real: every SVID request goes through
 * lib/proof's StsCallerVerifier (every proof rule, an in-memory replay cache) against a
 * LocalSts that knows one dev role principal, so a test that passes here has had its
 * proof accepted by the real server half. What it does not do is registrations: every
 * verified caller gets the same SPIFFE ID.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { IntermediateCertificateAuthority } from "../../lib/ca/intermediate-certificate-authority.js";
import { BridgeError, ERROR_STATUS, type ErrorCode } from "../../lib/errors.js";
import { InMemoryKeyManager } from "../../lib/local/in-memory-key-manager.js";
import { InMemoryReplayCache } from "../../lib/local/in-memory-replay-cache.js";
import { createLocalCertificateAuthority } from "../../lib/local/local-certificate-authority.js";
import { type DevPrincipal, LocalSts, makeDevRolePrincipal } from "../../lib/local/sts-server.js";
import type { CallerIdentity } from "../../lib/ports/caller-verifier.js";
import { type Signer, signerFor } from "../../lib/ports/key-manager.js";
import { batchBinding, bindingOf } from "../../lib/proof/binding.js";
import { StsCallerVerifier } from "../../lib/proof/sts-caller-verifier.js";
import { TrustBundle } from "../../lib/spiffe/bundle.js";
import { mintJwtSvid } from "../../lib/spiffe/jwt-svid.js";
import { SpiffeId, TrustDomain } from "../../lib/spiffe/spiffe-id.js";
import { certificatesToPem, checkCsr } from "../../lib/spiffe/x509-svid.js";

export interface FakeExchangeOptions {
  trustDomain?: string;
  /** The SPIFFE ID every caller gets. */
  spiffeId?: string;
  jwtTtlSeconds?: number;
  x509TtlSeconds?: number;
  issuer?: string;
  /** What proofs must carry in their server-ID header. Default "bridge.example.org". */
  serverId?: string;
  /** Regions whose STS the verifier accepts. Default ["us-east-1"] (LambdaSandbox's region). */
  regions?: string[];
  /** Answer POST /v1/svid/batch with 404, as an exchange deployed before it existed. */
  noBatch?: boolean;
  /** Answer POST /v1/svid/batch without `spiffe_bundle`, as an exchange deployed before it had it. */
  batchWithoutBundle?: boolean;
  /** The principal LocalSts knows. Default: a fresh dev role session for "svid-bridge-test-fn". */
  principal?: DevPrincipal;
}

export interface RecordedRequest {
  path: string;
  body: Record<string, unknown> | undefined;
}

export interface FakeExchange {
  url: string;
  trustDomain: TrustDomain;
  spiffeId: SpiffeId;
  bundle: TrustBundle;
  ca: IntermediateCertificateAuthority;
  serverId: string;
  /** The only principal whose proofs LocalSts accepts: give its credentials to the extension. */
  principal: DevPrincipal;
  sts: LocalSts;
  requests: RecordedRequest[];
  /** The identity each accepted proof resolved to, in order. */
  callers: CallerIdentity[];
  /** The code of each refused SVID request, in order (proof refusals included). */
  refusals: string[];
  /**
   * How many SVIDs of a kind were asked for, or bundles sent (each ask of a POST
   * /v1/svid/batch counts under its kind, and the `spiffe_bundle` of its answer under
   * /v1/bundle, recorded with body `{ in: "/v1/svid/batch" }`; a GET has no body).
   */
  count(path: "/v1/svid/jwt" | "/v1/svid/x509" | "/v1/bundle"): number;
  /**
   * Answer every SVID request with this error until cleared (undefined). `status` is the
   * one the test expects: it must be the code's own (lib/errors.ts, one code, one status).
   */
  refuseWith(error: { status: number; code: ErrorCode } | undefined): void;
  setJwtTtl(seconds: number): void;
  stop(): Promise<void>;
}

export async function startFakeExchange(options: FakeExchangeOptions = {}): Promise<FakeExchange> {
  const trustDomain = TrustDomain.parse(options.trustDomain ?? "example.org");
  const spiffeId = SpiffeId.parse(options.spiffeId ?? `spiffe://${trustDomain.name}/aws/111122223333/fn`);
  const keys = new InMemoryKeyManager();
  const ca = await createLocalCertificateAuthority({ trustDomain, keys });
  const jwtKey = await keys.createKey("ES256");
  const jwtSigner: Signer = await signerFor(keys, jwtKey.keyId);
  const bundle = new TrustBundle({
    trustDomain,
    x509Authorities: await ca.trustAnchors(),
    jwtAuthorities: [{ kid: jwtSigner.kid, jwk: jwtKey.jwk, alg: "ES256" }],
  });
  const bundleDoc = JSON.stringify(await bundle.toDocument());
  const bundlePem = bundle.toX509Pem();
  let jwtTtl = options.jwtTtlSeconds ?? 300;
  const x509Ttl = options.x509TtlSeconds ?? 3600;
  let refusal: { status: number; code: ErrorCode } | undefined;
  const requests: RecordedRequest[] = [];
  const callers: CallerIdentity[] = [];
  const refusals: string[] = [];
  const serverId = options.serverId ?? "bridge.example.org";
  const principal =
    options.principal ??
    makeDevRolePrincipal({
      account: "111122223333",
      roleName: "svid-bridge-test-role",
      sessionName: "svid-bridge-test-fn",
    });
  const sts = new LocalSts({ principals: [principal] });
  const stsEndpoint = await sts.start();
  const verifier = new StsCallerVerifier({
    serverIdValue: serverId,
    regions: options.regions ?? ["us-east-1"],
    replayCache: new InMemoryReplayCache(),
    endpointFor: () => stsEndpoint,
    retries: 0,
  });
  const verify = async (proof: unknown, expectedBinding: string) => {
    callers.push(await verifier.verify({ proof, expectedBinding }));
  };

  async function issueJwt(audience: string[]) {
    const svid = await mintJwtSvid({
      spiffeId,
      audience,
      ttlSeconds: jwtTtl,
      signer: jwtSigner,
      jti: randomUUID(),
      ...(options.issuer && { issuer: options.issuer }),
    });
    return { svids: [{ spiffe_id: spiffeId.toString(), token: svid.token, expires_at: svid.expiresAt }] };
  }

  async function issueX509(csrPem: string) {
    const csr = await checkCsr(csrPem);
    const issued = await ca.issue({ spiffeId, subjectPublicKey: csr.spki, ttlSeconds: x509Ttl });
    const svid = {
      spiffe_id: spiffeId.toString(),
      certificate_chain: certificatesToPem(issued.chain),
      expires_at: issued.expiresAt,
    };
    return { svids: [svid], bundle: bundlePem };
  }

  /** POST /v1/svid/batch: one proof bound to every ask (batchBinding), all or nothing. */
  async function batch(body: Record<string, unknown>) {
    const jwt = body.jwt;
    const x509 = body.x509 as { csr?: unknown; spiffe_id?: unknown } | undefined;
    if (!Array.isArray(jwt) || jwt.some((a) => !Array.isArray(a?.audience)))
      throw new BridgeError("invalid_request", "jwt must be a list of {audience}");
    if (x509 !== undefined && typeof x509?.csr !== "string")
      throw new BridgeError("invalid_request", "x509.csr");
    const asks = jwt as { audience: string[]; spiffe_id?: string }[];
    for (const a of asks) requests.push({ path: "/v1/svid/jwt", body: { ...a } });
    if (x509) requests.push({ path: "/v1/svid/x509", body: { ...x509 } });
    if (refusal) throw new BridgeError(refusal.code, "refused by the test");
    await verify(
      body.proof,
      batchBinding({
        jwt: asks.map((a) => ({ audience: a.audience, ...(a.spiffe_id && { spiffeId: a.spiffe_id }) })),
        ...(x509 && {
          x509: {
            csr: x509.csr as string,
            ...(typeof x509.spiffe_id === "string" && { spiffeId: x509.spiffe_id }),
          },
        }),
      }),
    );
    const answers = await Promise.all(asks.map((a) => issueJwt(a.audience)));
    const answer = { jwt: answers, ...(x509 && { x509: await issueX509(x509.csr as string) }) };
    if (options.batchWithoutBundle) return answer;
    requests.push({ path: "/v1/bundle", body: { in: "/v1/svid/batch" } });
    return { ...answer, spiffe_bundle: JSON.parse(bundleDoc) };
  }

  async function handle(req: IncomingMessage): Promise<{ status: number; body: unknown }> {
    const url = new URL(req.url ?? "/", "http://x");
    if (req.method === "GET" && url.pathname === "/v1/bundle") {
      requests.push({ path: url.pathname, body: undefined });
      return { status: 200, body: JSON.parse(bundleDoc) };
    }
    if (req.method !== "POST") throw new BridgeError("method_not_allowed", "POST only");
    const body = await readBody(req);
    requests.push({ path: url.pathname, body });
    if (url.pathname === "/v1/svid/batch" && !options.noBatch)
      return { status: 200, body: await batch(body) };
    if (refusal) throw new BridgeError(refusal.code, "refused by the test");
    const askedId = body.spiffe_id;
    if (askedId !== undefined && typeof askedId !== "string")
      throw new BridgeError("invalid_request", "spiffe_id must be a string");
    if (url.pathname === "/v1/svid/jwt") {
      const audience = body.audience;
      if (!Array.isArray(audience) || audience.some((a) => typeof a !== "string"))
        throw new BridgeError("invalid_request", "audience must be a list of strings");
      await verify(
        body.proof,
        bindingOf({
          kind: "jwt",
          audience: audience as string[],
          ...(askedId !== undefined && { spiffeId: askedId }),
        }),
      );
      return { status: 200, body: await issueJwt(audience as string[]) };
    }
    if (url.pathname === "/v1/svid/x509") {
      if (typeof body.csr !== "string") throw new BridgeError("invalid_request", "csr must be PEM");
      await verify(
        body.proof,
        bindingOf({ kind: "x509", csr: body.csr, ...(askedId !== undefined && { spiffeId: askedId }) }),
      );
      return { status: 200, body: await issueX509(body.csr) };
    }
    throw new BridgeError("not_found", `no route ${url.pathname}`);
  }

  const server: Server = createServer((req, res) => {
    handle(req)
      .catch((error: unknown) => {
        const e = error instanceof BridgeError ? error : new BridgeError("internal_error", String(error));
        if (req.url?.startsWith("/v1/svid/")) refusals.push(e.code);
        return { status: e.status, body: e.toJSON() };
      })
      .then(({ status, body }) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    trustDomain,
    spiffeId,
    bundle,
    ca,
    serverId,
    principal,
    sts,
    requests,
    callers,
    refusals,
    count: (path) => requests.filter((r) => r.path === path).length,
    refuseWith: (e) => {
      if (e && ERROR_STATUS[e.code] !== e.status)
        throw new Error(`${e.code} answers ${ERROR_STATUS[e.code]}, not ${e.status}`);
      refusal = e;
    },
    setJwtTtl: (s) => {
      jwtTtl = s;
    },
    stop: async () => {
      verifier.close();
      await Promise.all([
        sts.stop(),
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
      ]);
    },
  };
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
  try {
    const v = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    if (typeof v === "object" && v !== null && !Array.isArray(v)) return v;
  } catch {}
  throw new BridgeError("invalid_request", "the body must be a JSON object");
}
