/**
 * The exchange Lambda with every real part: the client half builds proofs with dev
 * credentials, the real StsCallerVerifier checks them against the local STS (SigV4
 * verified) and spends them in a DynamoDB replay table; registrations come from the
 * DynamoDB store; keys live in the KMS stand-in (real @aws-sdk/client-kms); the CA is the
 * ACM PCA stand-in (real @aws-sdk/client-acm-pca), in intermediate and direct mode. The
 * handler is invoked over a loopback Function URL. What it issues is checked by jose,
 * the SPIFFE core, `openssl verify -x509_strict` and Debian's python3 (PyJWT).
 */
import { execFileSync } from "node:child_process";
import { CreateTableCommand } from "@aws-sdk/client-dynamodb";
import { createLocalJWKSet, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createExchangeHandler } from "../../lambdas/exchange/app.js";
import { composeExchange } from "../../lambdas/exchange/compose.js";
import { DynamoDbKeySetStore, keySetTableDefinition } from "../../lib/aws/dynamodb-key-set-store.js";
import {
  DynamoDbRegistrationStore,
  registrationTableDefinition,
} from "../../lib/aws/dynamodb-registration-store.js";
import { DynamoDbReplayCache, replayCacheTableDefinition } from "../../lib/aws/dynamodb-replay-cache.js";
import { KmsKeyManager } from "../../lib/aws/kms-key-manager.js";
import { PcaCaRenewer } from "../../lib/aws/pca-ca-renewer.js";
import { PcaDirectCertificateAuthority } from "../../lib/aws/pca-direct-certificate-authority.js";
import { systemClock } from "../../lib/clock.js";
import { type RunningDynamoDb, startDynalite } from "../../lib/local/dynamodb-server.js";
import { startFunctionUrlServer } from "../../lib/local/function-url-server.js";
import { type DevPrincipal, LocalSts, makeDevRolePrincipal } from "../../lib/local/sts-server.js";
import { jwtBinding, x509Binding } from "../../lib/proof/binding.js";
import { buildProof } from "../../lib/proof/client.js";
import { StsCallerVerifier } from "../../lib/proof/sts-caller-verifier.js";
import { rotateKeys } from "../../lib/rotation/rotate-keys.js";
import { TrustBundle } from "../../lib/spiffe/bundle.js";
import { validateJwtSvid } from "../../lib/spiffe/jwt-svid.js";
import { jwks } from "../../lib/spiffe/oidc.js";
import { TrustDomain } from "../../lib/spiffe/spiffe-id.js";
import { parseCertificatesPem, validateX509Svid } from "../../lib/spiffe/x509-svid.js";
import { FakeKms, kmsClientFor } from "../support/fake-kms.js";
import { FakePca, pcaClientFor } from "../support/fake-pca.js";
import { hasOpenssl, makeCsr, makeWorkloadKey, opensslVerify } from "../support/x509-fixtures.js";

const td = TrustDomain.parse("example.org");
const ISSUER = "https://oidc.example.org";
const REGION = "eu-west-1";
const ACCOUNT = "111122223333";

const role = makeDevRolePrincipal({ account: ACCOUNT, roleName: "orders-role", sessionName: "orders-fn" });
const other = makeDevRolePrincipal({
  account: ACCOUNT,
  roleName: "unregistered-role",
  sessionName: "other-fn",
});
const pinned = makeDevRolePrincipal({ account: ACCOUNT, roleName: "pinned-role", sessionName: "pinned-fn" });
const jwtOnly = makeDevRolePrincipal({
  account: ACCOUNT,
  roleName: "jwt-only-role",
  sessionName: "jwt-only-fn",
});

function hasPyJwt(): boolean {
  try {
    execFileSync("/usr/bin/python3", ["-c", "import jwt, cryptography"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

interface Bridge {
  url: string;
  bundle: () => Promise<TrustBundle>;
}

let db: RunningDynamoDb;
const sts = new LocalSts({ principals: [role, other, pinned, jwtOnly] });
const kms = new FakeKms({ region: REGION, account: ACCOUNT });
const pca = new FakePca({ trustDomain: td, pendingPolls: 1 });
const closers: Array<() => Promise<void> | void> = [];
const urls = { kms: "", pca: "" };

async function startBridge(caMode: "intermediate" | "direct", setId: string): Promise<Bridge> {
  const keySetStore = new DynamoDbKeySetStore({ client: db.client, tableName: "keys", setId });
  const keys = new KmsKeyManager({ client: kmsClientFor(urls.kms), trustDomain: td });
  const pcaClient = pcaClientFor(urls.pca);
  await rotateKeys({
    store: keySetStore,
    keys,
    clock: systemClock,
    ...(caMode === "intermediate" && {
      caRenewer: new PcaCaRenewer({
        client: pcaClient,
        certificateAuthorityArn: pca.caArn,
        trustDomain: td,
        keys,
        poll: { initialDelayMs: 5 },
      }),
    }),
  });
  const verifier = new StsCallerVerifier({
    serverIdValue: ISSUER,
    regions: [REGION],
    replayCache: new DynamoDbReplayCache({ client: db.client, tableName: "replay" }),
    endpointFor: () => sts.endpoint,
  });
  closers.push(() => verifier.close());
  const composed = composeExchange({
    trustDomain: td,
    issuer: ISSUER,
    verifier,
    registrations: new DynamoDbRegistrationStore({ client: db.client, tableName: "registrations" }),
    keySetStore,
    keys,
    ...(caMode === "direct" && {
      ca: new PcaDirectCertificateAuthority({
        client: pcaClient,
        certificateAuthorityArn: pca.caArn,
        trustDomain: td,
      }),
    }),
    clock: systemClock,
  });
  const server = await startFunctionUrlServer(createExchangeHandler(composed) as never);
  closers.push(() => server.close());
  return { url: server.url, bundle: composed.bundle };
}

beforeAll(async () => {
  db = await startDynalite();
  for (const def of [
    registrationTableDefinition("registrations"),
    keySetTableDefinition("keys"),
    replayCacheTableDefinition("replay"),
  ])
    await db.client.send(new CreateTableCommand(def));
  const [, kmsUrl, pcaUrl] = await Promise.all([sts.start(), kms.start(), pca.start()]);
  urls.kms = kmsUrl;
  urls.pca = pcaUrl;
  const store = new DynamoDbRegistrationStore({ client: db.client, tableName: "registrations" });
  await store.create({
    id: "orders",
    selectors: { account: ACCOUNT, roleName: "orders-role", sessionName: "orders-*" },
    spiffeId: "spiffe://example.org/aws/{account}/{session}",
    kinds: ["jwt", "x509"],
    audiences: ["sts.amazonaws.com", "https://api.example.org"],
    dnsNames: ["orders.example.org"],
    jwtTtlSeconds: 300,
    x509TtlSeconds: 900,
    enabled: true,
  });
  await store.create({
    id: "pinned",
    selectors: { account: ACCOUNT, roleName: "pinned-role", roleId: "AROAAAAAAAAAAAAAAAAAA" },
    spiffeId: "spiffe://example.org/pinned",
    kinds: ["jwt"],
    enabled: true,
  });
  await store.create({
    id: "jwt-only",
    selectors: { account: ACCOUNT, roleName: "jwt-only-role" },
    spiffeId: "spiffe://example.org/jwt-only",
    kinds: ["jwt"],
    enabled: true,
  });
});
afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await Promise.all([sts.stop(), kms.stop(), pca.stop()]);
  await db.stop();
});

async function post(
  bridge: Bridge,
  path: string,
  body: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${bridge.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const proofFor = (principal: DevPrincipal, binding: string) =>
  buildProof({ region: REGION, credentials: async () => principal, serverId: ISSUER, binding });

async function askJwt(bridge: Bridge, principal: DevPrincipal, audience: string[], spiffeId?: string) {
  const proof = await proofFor(principal, jwtBinding({ audience, ...(spiffeId && { spiffeId }) }));
  return post(bridge, "/v1/svid/jwt", { audience, ...(spiffeId && { spiffe_id: spiffeId }), proof });
}

async function askX509(
  bridge: Bridge,
  principal: DevPrincipal,
  kind: Parameters<typeof makeWorkloadKey>[0] = "ec-p256",
) {
  const key = await makeWorkloadKey(kind);
  const csr = await makeCsr(key);
  const proof = await proofFor(principal, x509Binding({ csr }));
  return post(bridge, "/v1/svid/x509", { csr, proof });
}

describe.each(["intermediate", "direct"] as const)("exchange end to end, %s CA mode", (caMode) => {
  let bridge: Bridge;
  beforeAll(async () => {
    bridge = await startBridge(caMode, caMode);
  });

  it("issues a JWT-SVID that jose, the SPIFFE core and PyJWT accept", async () => {
    const { status, json } = await askJwt(bridge, role, ["sts.amazonaws.com"]);
    expect(status).toBe(200);
    const svid = (json.svids as Array<{ spiffe_id: string; token: string; expires_at: number }>)[0]!;
    expect(svid.spiffe_id).toBe(`spiffe://example.org/aws/${ACCOUNT}/orders-fn`);
    const bundle = await bridge.bundle();
    const published = jwks(bundle.jwtAuthorities);
    const { payload, protectedHeader } = await jwtVerify(svid.token, createLocalJWKSet(published as never), {
      audience: "sts.amazonaws.com",
      issuer: ISSUER,
    });
    expect(protectedHeader.alg).toBe("RS256"); // KMS RSA_2048 by default
    expect(payload.exp! - payload.iat!).toBe(300);
    const v = await validateJwtSvid(svid.token, {
      audience: "sts.amazonaws.com",
      bundles: bundle,
      trustDomains: [td],
      issuer: ISSUER,
    });
    expect(v.spiffeId.toString()).toBe(svid.spiffe_id);
    if (hasPyJwt()) {
      const script = [
        "import json, sys, jwt",
        "token, jwks = sys.argv[1], json.loads(sys.argv[2])",
        "kid = jwt.get_unverified_header(token)['kid']",
        "key = next(k for k in jwks['keys'] if k['kid'] == kid)",
        "pub = jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(key))",
        "print(jwt.decode(token, pub, algorithms=['RS256'], audience='sts.amazonaws.com', issuer=sys.argv[3])['sub'])",
      ].join("\n");
      const out = execFileSync(
        "/usr/bin/python3",
        ["-c", script, svid.token, JSON.stringify(published), ISSUER],
        { encoding: "utf8" },
      );
      expect(out.trim()).toBe(svid.spiffe_id);
    }
  });

  it("issues an X.509-SVID whose chain the SPIFFE core and openssl -x509_strict accept", async () => {
    const { status, json } = await askX509(bridge, role);
    expect(status).toBe(200);
    const svid = (
      json.svids as Array<{ spiffe_id: string; certificate_chain: string; expires_at: number }>
    )[0]!;
    const chain = parseCertificatesPem(svid.certificate_chain);
    const roots = parseCertificatesPem(json.bundle as string);
    expect(roots.length).toBeGreaterThan(0);
    const bundle = new TrustBundle({ trustDomain: td, x509Authorities: roots });
    expect(validateX509Svid(chain, bundle).spiffeId.toString()).toBe(svid.spiffe_id);
    if (hasOpenssl()) expect(opensslVerify(roots, chain)).toMatch(/OK/);
    expect(chain[0]!.notAfter.getTime() - Date.now()).toBeLessThanOrEqual(900_000 + 1000);
  });

  it("refuses a replayed proof", async () => {
    const audience = ["sts.amazonaws.com"];
    const proof = await proofFor(role, jwtBinding({ audience }));
    expect((await post(bridge, "/v1/svid/jwt", { audience, proof })).status).toBe(200);
    const again = await post(bridge, "/v1/svid/jwt", { audience, proof });
    expect(again).toMatchObject({ status: 401, json: { error: "proof_replayed" } });
  });

  it("refuses a proof bound to another audience", async () => {
    const proof = await proofFor(role, jwtBinding({ audience: ["sts.amazonaws.com"] }));
    const res = await post(bridge, "/v1/svid/jwt", { audience: ["https://api.example.org"], proof });
    expect(res).toMatchObject({ status: 401, json: { error: "proof_binding_mismatch" } });
  });

  it.each([
    ["no registration", () => askJwt(bridge, other, ["sts.amazonaws.com"]), 403, "no_registration"],
    [
      "audience not allowed",
      () => askJwt(bridge, role, ["https://evil.example"]),
      403,
      "audience_not_allowed",
    ],
    ["kind not allowed", () => askX509(bridge, jwtOnly), 403, "svid_kind_not_allowed"],
    ["role-ID pin mismatch", () => askJwt(bridge, pinned, ["a"]), 403, "role_id_mismatch"],
    ["unsupported key", () => askX509(bridge, role, "rsa-1024"), 400, "unsupported_key"],
    [
      "bad CSR",
      async () => {
        const csr = "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----";
        return post(bridge, "/v1/svid/x509", { csr, proof: await proofFor(role, x509Binding({ csr })) });
      },
      400,
      "csr_malformed",
    ],
    [
      "unknown field",
      () => post(bridge, "/v1/svid/jwt", { audience: ["a"], proof: {}, ttl: 1 }),
      400,
      "unknown_field",
    ],
    ["malformed JSON", () => post(bridge, "/v1/svid/jwt", '{"audience":'), 400, "invalid_request"],
    [
      "oversize body",
      () => post(bridge, "/v1/svid/jwt", { audience: ["a"], proof: "x".repeat(70_000) }),
      413,
      "body_too_large",
    ],
    [
      "a forged proof",
      () =>
        post(bridge, "/v1/svid/jwt", { audience: ["a"], proof: { method: "POST", headers: [], body: "" } }),
      401,
      undefined,
    ],
  ])("refuses %s", async (_name, ask, status, code) => {
    const res = await ask();
    expect({ status: res.status, error: res.json.error, message: res.json.message }).toMatchObject({
      status,
    });
    if (code) expect(res.json.error).toBe(code);
    else expect(String(res.json.error)).toMatch(/^proof_/);
  });
});
