/**
 * Every proof rule, one test each, asserting its code and rule; then STS's verdicts,
 * the answer checks, the principal policy, replay, and STS's availability.
 */
import {
  type AddressInfo,
  createServer as createNetServer,
  type Server as NetServer,
  type Socket,
} from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../lib/clock.js";
import { BridgeError } from "../../lib/errors.js";
import { InMemoryReplayCache } from "../../lib/local/in-memory-replay-cache.js";
import { getCallerIdentityXml, LocalSts, makeDevRolePrincipal } from "../../lib/local/sts-server.js";
import { jwtBinding, x509Binding } from "../../lib/proof/binding.js";
import { buildProof } from "../../lib/proof/client.js";
import { GET_CALLER_IDENTITY_BODY, type Proof } from "../../lib/proof/proof-format.js";
import { StsCallerVerifier, type StsCallerVerifierOptions } from "../../lib/proof/sts-caller-verifier.js";
import {
  addHeader,
  dropHeader,
  EXPIRED,
  expectRefusal,
  header,
  ROLE,
  rawProof,
  SERVER_ID,
  setHeader,
  T0,
  USER,
} from "./fixtures.js";

const BINDING = jwtBinding({ audience: ["https://api.example.org"] });
const AUTH = "authorization";
const clock = new ManualClock(T0);
// The same role in the China partition: STS in cn-* answers with arn:aws-cn:… ARNs.
const CN_ROLE = makeDevRolePrincipal({
  account: "111122223333",
  roleName: "app-role",
  sessionName: "my-function",
  partition: "aws-cn",
});
const sts = new LocalSts({ principals: [ROLE, USER, EXPIRED, CN_ROLE], clock });
const verifiers: StsCallerVerifier[] = [];

function verifierWith(options: Partial<StsCallerVerifierOptions> = {}): StsCallerVerifier {
  const v = new StsCallerVerifier({
    serverIdValue: SERVER_ID,
    regions: ["eu-west-1", "us-east-1", "cn-north-1"],
    replayCache: new InMemoryReplayCache(clock),
    clock,
    endpointFor: () => sts.endpoint,
    ...options,
  });
  verifiers.push(v);
  return v;
}

function good(
  o: {
    region?: string;
    at?: number;
    binding?: string;
    serverId?: string;
    global?: boolean;
    credentials?: typeof ROLE;
  } = {},
) {
  return buildProof({
    region: o.region ?? "eu-west-1",
    global: o.global ?? false,
    credentials: o.credentials ?? ROLE,
    serverId: o.serverId ?? SERVER_ID,
    binding: o.binding ?? BINDING,
    clock: o.at === undefined ? clock : new ManualClock(o.at),
  });
}

const raw = (o: Parameters<typeof rawProof>[0] = {}) => rawProof({ binding: BINDING, ...o });

beforeAll(async () => {
  await sts.start();
});
afterAll(async () => {
  for (const v of verifiers) v.close();
  await sts.stop();
});
beforeEach(() => {
  clock.set(T0);
  sts.answerOverride = undefined;
});

describe("StsCallerVerifier accepts", () => {
  it("a fresh proof from a role session, with the identity STS vouches for", async () => {
    const identity = await verifierWith().verify({ proof: await good(), expectedBinding: BINDING });
    expect(identity).toEqual({
      arn: ROLE.arn,
      partition: "aws",
      account: "111122223333",
      principalType: "assumed-role",
      principalName: "app-role",
      uniqueId: "AROAFAKEROLEID000001",
      sessionName: "my-function",
    });
  });

  it("a proof for the global endpoint (scope us-east-1) and for a China region", async () => {
    const v = verifierWith();
    await expect(
      v.verify({ proof: await good({ global: true }), expectedBinding: BINDING }),
    ).resolves.toMatchObject({
      principalName: "app-role",
    });
    await expect(
      v.verify({
        proof: await good({ region: "cn-north-1", credentials: CN_ROLE }),
        expectedBinding: BINDING,
      }),
    ).resolves.toMatchObject({ principalName: "app-role", partition: "aws-cn" });
  });

  it("fault 7: an STS answer whose ARN's partition is not the proof region's is refused (proof_rejected)", async () => {
    const refused = verifierWith().verify({
      proof: await good({ region: "cn-north-1" }),
      expectedBinding: BINDING,
    });
    await expect(refused).rejects.toMatchObject({ code: "proof_rejected", details: { reason: "partition" } });
  });

  it("a proof at the edges of the freshness window (119 s old, 29 s ahead)", async () => {
    const v = verifierWith();
    await expect(
      v.verify({ proof: await good({ at: T0 - 119_000 }), expectedBinding: BINDING }),
    ).resolves.toBeDefined();
    await expect(
      v.verify({ proof: await good({ at: T0 + 29_000 }), expectedBinding: BINDING }),
    ).resolves.toBeDefined();
  });

  it("an X.509 binding over the CSR and SPIFFE ID", async () => {
    const ask = { csr: "MIIBcsr", spiffeId: "spiffe://example.org/a" };
    const proof = await good({ binding: x509Binding(ask) });
    await expect(verifierWith().verify({ proof, expectedBinding: x509Binding(ask) })).resolves.toBeDefined();
  });

  it("an IAM user, only when users are allowed", async () => {
    const proof = await buildProof({
      region: "eu-west-1",
      credentials: USER,
      serverId: SERVER_ID,
      binding: BINDING,
      clock,
    });
    await expect(
      verifierWith({ allowIamUsers: true }).verify({ proof, expectedBinding: BINDING }),
    ).resolves.toMatchObject({
      principalType: "iam-user",
      principalName: "alice",
      uniqueId: "AIDAFAKEUSERID000001",
    });
  });
});

interface Refusal {
  name: string;
  proof: () => Promise<unknown>;
  code: string;
  rule: string;
  expectedBinding?: string;
}

const CSR_A = "csr-a";
const CSR_B = "csr-b";

// Refused before STS is asked: STS must not see any of these.
const localRefusals: Refusal[] = [
  {
    name: "a proof that is not a JSON object",
    proof: async () => "POST / HTTP/1.1",
    code: "proof_malformed",
    rule: "shape",
  },
  {
    name: "a proof with an unknown field",
    proof: async () => ({ ...(await good()), extra: 1 }),
    code: "proof_malformed",
    rule: "shape",
  },
  {
    name: "headers that are not [name, value] pairs",
    proof: async () => ({ ...(await good()), headers: { host: "sts.eu-west-1.amazonaws.com" } }),
    code: "proof_malformed",
    rule: "shape",
  },
  {
    name: "a URL chosen by the caller",
    proof: async () => ({ ...(await good()), url: "https://sts.evil.example.com/" }),
    code: "proof_invalid",
    rule: "url",
  },
  {
    name: "query-string auth (a path with a query)",
    proof: async () => {
      const p = dropHeader(await good(), AUTH);
      return { ...p, path: "/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=00" };
    },
    code: "proof_invalid",
    rule: "url",
  },
  {
    name: "a method other than POST",
    proof: () => raw({ method: "GET" }),
    code: "proof_invalid",
    rule: "method",
  },
  {
    name: "another action in the body",
    proof: () => raw({ body: "Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::1:role/x" }),
    code: "proof_invalid",
    rule: "body",
  },
  {
    name: "GetCallerIdentity with another parameter",
    proof: () => raw({ body: `${GET_CALLER_IDENTITY_BODY}&Action=GetCallerIdentity` }),
    code: "proof_invalid",
    rule: "body",
  },
  {
    name: "no server-ID header",
    proof: () => raw({ serverId: null }),
    code: "proof_server_id_mismatch",
    rule: "server-id-missing",
  },
  {
    name: "an unsigned server-ID header",
    proof: () => raw({ unsigned: ["x-svid-bridge-server-id"] }),
    code: "proof_server_id_mismatch",
    rule: "server-id-unsigned",
  },
  {
    name: "a proof signed for another bridge's server ID",
    proof: () => good({ serverId: "https://other-bridge.example.org" }),
    code: "proof_server_id_mismatch",
    rule: "server-id-value",
  },
  {
    name: "no binding header",
    proof: () => raw({ binding: null }),
    code: "proof_binding_mismatch",
    rule: "binding-missing",
  },
  {
    name: "an unsigned binding header",
    proof: () => raw({ unsigned: ["x-svid-bridge-binding"] }),
    code: "proof_binding_mismatch",
    rule: "binding-unsigned",
  },
  {
    name: "a binding for another audience",
    proof: () => good({ binding: jwtBinding({ audience: ["https://other.example.org"] }) }),
    code: "proof_binding_mismatch",
    rule: "binding-value",
  },
  {
    name: "a binding for another CSR",
    proof: () => good({ binding: x509Binding({ csr: CSR_A }) }),
    expectedBinding: x509Binding({ csr: CSR_B }),
    code: "proof_binding_mismatch",
    rule: "binding-value",
  },
  {
    name: "no Authorization header",
    proof: async () => dropHeader(await good(), AUTH),
    code: "proof_invalid",
    rule: "authorization",
  },
  {
    name: "an Authorization header that is not AWS4-HMAC-SHA256",
    proof: async () => setHeader(await good(), AUTH, "Basic dXNlcjpwYXNz"),
    code: "proof_invalid",
    rule: "authorization",
  },
  {
    name: "an Authorization scoped to another service",
    proof: async () => {
      const p = await good();
      return setHeader(p, AUTH, header(p, AUTH).replace("/sts/aws4_request", "/iam/aws4_request"));
    },
    code: "proof_invalid",
    rule: "authorization",
  },
  {
    name: "a SigV4a signature",
    proof: async () => {
      const p = await good();
      return setHeader(p, AUTH, header(p, AUTH).replace("AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256"));
    },
    code: "proof_invalid",
    rule: "sigv4a",
  },
  {
    name: "an unsigned Host",
    proof: () => raw({ unsigned: ["host"] }),
    code: "proof_invalid",
    rule: "unsigned-header",
  },
  {
    name: "an unsigned X-Amz-Date",
    proof: () => raw({ unsigned: ["x-amz-date"] }),
    code: "proof_invalid",
    rule: "unsigned-header",
  },
  {
    name: "an unsigned X-Amz-Security-Token",
    proof: () => raw({ unsigned: ["x-amz-security-token"] }),
    code: "proof_invalid",
    rule: "unsigned-header",
  },
  {
    name: "SignedHeaders naming a header that is not sent",
    proof: async () => {
      const p = await good();
      return setHeader(p, AUTH, header(p, AUTH).replace("SignedHeaders=", "SignedHeaders=accept;"));
    },
    code: "proof_invalid",
    rule: "signed-header-absent",
  },
  {
    name: "a header outside the allow-list",
    proof: () => raw({ headers: { "x-forwarded-host": "evil.example.com" } }),
    code: "proof_invalid",
    rule: "header-not-allowed",
  },
  {
    name: "an X-Amz-Target header",
    proof: () => raw({ headers: { "x-amz-target": "AWSSecurityTokenServiceV20110615.GetCallerIdentity" } }),
    code: "proof_invalid",
    rule: "header-not-allowed",
  },
  {
    name: "an X-Amz-* header outside the allow-list",
    proof: () => raw({ headers: { "x-amz-user-agent": "aws-sdk-js" } }),
    code: "proof_invalid",
    rule: "header-not-allowed",
  },
  {
    name: "a second Host header",
    proof: async () => addHeader(await good(), "host", "sts.us-east-1.amazonaws.com"),
    code: "proof_invalid",
    rule: "header-duplicate",
  },
  {
    name: "a header repeated in another case",
    proof: async () => {
      const p = await good();
      return addHeader(p, "X-Amz-Date", header(p, "x-amz-date"));
    },
    code: "proof_invalid",
    rule: "header-duplicate",
  },
  {
    name: "a CR/LF in a header value",
    proof: async () => setHeader(await good(), "x-svid-bridge-binding", `${BINDING}\r\nx-amz-target: x`),
    code: "proof_invalid",
    rule: "header-value",
  },
  {
    name: "a header name that is not a token",
    proof: async () => addHeader(await good(), "x bad:name", "v"),
    code: "proof_invalid",
    rule: "header-name",
  },
  {
    name: "a malformed X-Amz-Date",
    proof: async () => setHeader(await good(), "x-amz-date", "2026-11-23T12:00:00Z"),
    code: "proof_invalid",
    rule: "x-amz-date",
  },
  {
    name: "an X-Amz-Date that is no real time",
    proof: async () => {
      const p = await good();
      const bad = setHeader(p, "x-amz-date", "20261132T250000Z");
      return setHeader(bad, AUTH, header(p, AUTH).replace("/20261123/", "/20261132/"));
    },
    code: "proof_invalid",
    rule: "x-amz-date",
  },
  {
    name: "a credential scope dated another day than X-Amz-Date",
    proof: async () => {
      const p = await good();
      return setHeader(p, AUTH, header(p, AUTH).replace("/20261123/", "/20261122/"));
    },
    code: "proof_invalid",
    rule: "scope-date",
  },
  {
    name: "a proof older than 120 s",
    proof: () => good({ at: T0 - 121_000 }),
    code: "proof_expired",
    rule: "too-old",
  },
  {
    name: "a proof more than 30 s ahead",
    proof: () => good({ at: T0 + 31_000 }),
    code: "proof_expired",
    rule: "in-future",
  },
  {
    name: "a header over the size cap",
    proof: async () => setHeader(await good(), "x-amz-security-token", "A".repeat(9000)),
    code: "proof_invalid",
    rule: "size",
  },
  {
    name: "a proof over the size cap",
    proof: async () => ({ ...(await good()), body: "A".repeat(20_000) }),
    code: "proof_invalid",
    rule: "size",
  },
  {
    name: "too many headers",
    proof: async () => {
      const p = await good();
      return { ...p, headers: [...p.headers, ...Array.from({ length: 16 }, (_, i) => [`x-pad-${i}`, "v"])] };
    },
    code: "proof_invalid",
    rule: "size",
  },
  {
    name: "a region the bridge does not allow",
    proof: () => good({ region: "eu-central-1" }),
    code: "proof_region_not_allowed",
    rule: "region",
  },
  {
    name: "a Host that is not an STS endpoint",
    proof: () => raw({ host: "sts.evil.example.com" }),
    code: "proof_invalid",
    rule: "host",
  },
  {
    name: "a Host of another region's STS",
    proof: () => raw({ region: "eu-west-1", host: "sts.us-east-1.amazonaws.com" }),
    code: "proof_invalid",
    rule: "host",
  },
  {
    name: "a content type that is not a form",
    proof: () => raw({ headers: { "content-type": "application/json" } }),
    code: "proof_invalid",
    rule: "content-type",
  },
  {
    name: "a nonce that is not 16–64 base64url characters",
    proof: () => raw({ headers: { "x-svid-bridge-nonce": "short" } }),
    code: "proof_invalid",
    rule: "nonce",
  },
  {
    name: "an unsigned nonce",
    proof: () =>
      raw({ headers: { "x-svid-bridge-nonce": "A".repeat(22) }, unsigned: ["x-svid-bridge-nonce"] }),
    code: "proof_invalid",
    rule: "unsigned-header",
  },
  {
    name: "an X-Amz-Content-Sha256 that is not the body's",
    proof: () => raw({ headers: { "x-amz-content-sha256": "0".repeat(64) } }),
    code: "proof_invalid",
    rule: "content-sha256",
  },
];

describe("StsCallerVerifier refuses, before asking STS,", () => {
  it.each(localRefusals)("$name ($code, $rule)", async ({ proof, code, rule, expectedBinding }) => {
    const before = sts.received;
    await expectRefusal(
      verifierWith().verify({ proof: await proof(), expectedBinding: expectedBinding ?? BINDING }),
      code,
      rule,
    );
    expect(sts.received).toBe(before);
  });
});

describe("StsCallerVerifier refuses what STS refuses", () => {
  const stsRefusals: { name: string; proof: () => Promise<Proof>; stsCode: string }[] = [
    {
      name: "a body changed after signing",
      proof: async () => ({
        ...(await raw({ body: `${GET_CALLER_IDENTITY_BODY}&X=1` })),
        body: GET_CALLER_IDENTITY_BODY,
      }),
      stsCode: "SignatureDoesNotMatch",
    },
    {
      name: "a wrong secret key",
      proof: () => raw({ principal: { ...ROLE, secretAccessKey: "not-the-secret" } }),
      stsCode: "SignatureDoesNotMatch",
    },
    {
      name: "an unknown access key",
      proof: () => raw({ principal: { ...USER, accessKeyId: "AKIAUNKNOWN000000001" } }),
      stsCode: "InvalidClientTokenId",
    },
    { name: "expired credentials", proof: () => raw({ principal: EXPIRED }), stsCode: "ExpiredToken" },
  ];
  it.each(stsRefusals)("$name → proof_rejected ($stsCode)", async ({ proof, stsCode }) => {
    const error = await expectRefusal(
      verifierWith().verify({ proof: await proof(), expectedBinding: BINDING }),
      "proof_rejected",
      "sts",
    );
    expect(error.status).toBe(401);
    expect(error.details?.stsCode).toBe(stsCode);
  });
});

describe("StsCallerVerifier reads STS's answer strictly", () => {
  it("refuses an answer with two Arn elements", async () => {
    sts.answerOverride = (p) => ({
      status: 200,
      body: getCallerIdentityXml(p, "r").replace(
        "<UserId>",
        "<Arn>arn:aws:sts::999999999999:assumed-role/admin/x</Arn><UserId>",
      ),
    });
    await expectRefusal(
      verifierWith().verify({ proof: await good(), expectedBinding: BINDING }),
      "proof_rejected",
      "sts-answer",
    );
  });

  it("refuses an answer with a DOCTYPE and entity", async () => {
    sts.answerOverride = (p) => ({
      status: 200,
      body: `<!DOCTYPE x [<!ENTITY arn "${p.arn}">]>${getCallerIdentityXml(p, "r").replace(p.arn, "&arn;")}`,
    });
    await expectRefusal(
      verifierWith().verify({ proof: await good(), expectedBinding: BINDING }),
      "proof_rejected",
      "sts-answer",
    );
  });

  it("refuses an IAM user when users are not allowed", async () => {
    const proof = await buildProof({
      region: "eu-west-1",
      credentials: USER,
      serverId: SERVER_ID,
      binding: BINDING,
      clock,
    });
    await expectRefusal(verifierWith().verify({ proof, expectedBinding: BINDING }), "principal_not_allowed");
  });

  it("refuses a federated user and the root user", async () => {
    const v = verifierWith({ allowIamUsers: true });
    sts.answerOverride = () => ({
      status: 200,
      body: getCallerIdentityXml(
        { arn: "arn:aws:sts::111122223333:federated-user/bob", userId: "111122223333:bob" },
        "r",
      ),
    });
    await expectRefusal(v.verify({ proof: await good(), expectedBinding: BINDING }), "principal_not_allowed");
    sts.answerOverride = () => ({
      status: 200,
      body: getCallerIdentityXml({ arn: "arn:aws:iam::111122223333:root", userId: "111122223333" }, "r"),
    });
    await expectRefusal(
      v.verify({ proof: await good({ at: T0 - 1000 }), expectedBinding: BINDING }),
      "principal_not_allowed",
    );
  });
});

describe("StsCallerVerifier spends each proof once", () => {
  it("refuses a proof replayed within the window", async () => {
    const v = verifierWith();
    const proof = await good();
    await v.verify({ proof, expectedBinding: BINDING });
    await expectRefusal(v.verify({ proof, expectedBinding: BINDING }), "proof_replayed", "replay");
  });

  it("accepts two proofs for the same request made in the same second (their nonces differ)", async () => {
    const v = verifierWith();
    await v.verify({ proof: await good(), expectedBinding: BINDING });
    await expect(v.verify({ proof: await good(), expectedBinding: BINDING })).resolves.toBeDefined();
  });

  it("refuses a proof replayed after the window, though its record has expired", async () => {
    const v = verifierWith();
    const proof = await good();
    await v.verify({ proof, expectedBinding: BINDING });
    clock.set(T0 + 121_000);
    await expectRefusal(v.verify({ proof, expectedBinding: BINDING }), "proof_expired", "too-old");
  });

  it("maps a failing replay store to 503 store_unavailable", async () => {
    const v = verifierWith({ replayCache: { remember: () => Promise.reject(new Error("table gone")) } });
    await expectRefusal(v.verify({ proof: await good(), expectedBinding: BINDING }), "store_unavailable");
  });
});

/** A replay cache whose conditional write lands `delayMs` after it is asked, logging when. */
function slowReplayCache(delayMs: number, log: string[]) {
  const inner = new InMemoryReplayCache(clock);
  return {
    async remember(key: string, expiresAt: number): Promise<boolean> {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      const fresh = await inner.remember(key, expiresAt);
      log.push(fresh ? "spent" : "replay-refused");
      return fresh;
    },
  };
}

describe("StsCallerVerifier spends the proof and asks STS in parallel", () => {
  // Its own STS: a proof refused early elsewhere may still have its STS call in flight.
  const own = new LocalSts({ principals: [ROLE], clock });
  beforeAll(async () => {
    await own.start();
  });
  afterAll(() => own.stop());
  const parallelVerifier = (o: Partial<StsCallerVerifierOptions>) =>
    verifierWith({ endpointFor: () => own.endpoint, ...o });

  it("never yields an identity for a replayed proof, even when STS answers before the replay write", async () => {
    const log: string[] = [];
    const v = parallelVerifier({ replayCache: slowReplayCache(60, log) });
    own.answerOverride = () => {
      log.push("sts-answered");
      return undefined;
    };
    const proof = await good();
    await v.verify({ proof, expectedBinding: BINDING });
    const asked = own.received;
    await expectRefusal(v.verify({ proof, expectedBinding: BINDING }), "proof_replayed", "replay");
    expect(own.received).toBe(asked + 1);
    expect(log).toEqual(["sts-answered", "spent", "sts-answered", "replay-refused"]);
  });

  it("lets exactly one of two racing copies of a proof through", async () => {
    const v = parallelVerifier({ replayCache: slowReplayCache(30, []) });
    const proof = await good();
    const outcomes = await Promise.allSettled([
      v.verify({ proof, expectedBinding: BINDING }),
      v.verify({ proof, expectedBinding: BINDING }),
    ]);
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
    const refused = outcomes.find((o) => o.status === "rejected") as PromiseRejectedResult;
    expect((refused.reason as BridgeError).code).toBe("proof_replayed");
  });

  it("refuses a replay as a replay when STS fails too, and maps STS's failure once the proof is spent", async () => {
    const v = parallelVerifier({ replayCache: slowReplayCache(20, []) });
    const proof = await good();
    await v.verify({ proof, expectedBinding: BINDING });
    own.answerOverride = () => ({ status: 503, body: "<x/>" });
    await expectRefusal(v.verify({ proof, expectedBinding: BINDING }), "proof_replayed", "replay");
    await expectRefusal(v.verify({ proof: await good(), expectedBinding: BINDING }), "sts_unavailable");
  });
});

describe("StsCallerVerifier when STS cannot answer", () => {
  let net: NetServer;
  let connections = 0;
  let mode: "reset" | "silent" = "reset";
  const sockets = new Set<Socket>();
  beforeAll(async () => {
    net = createNetServer((socket) => {
      connections++;
      sockets.add(socket);
      if (mode === "reset") socket.destroy();
    });
    await new Promise<void>((resolve) => net.listen(0, "127.0.0.1", resolve));
  });
  afterAll(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => net.close(() => resolve()));
  });
  const netEndpoint = () => `http://127.0.0.1:${(net.address() as AddressInfo).port}`;

  it("retries a reset connection a bounded number of times, then answers 503 sts_unavailable", async () => {
    mode = "reset";
    connections = 0;
    const v = verifierWith({ endpointFor: netEndpoint, retries: 2 });
    await expectRefusal(v.verify({ proof: await good(), expectedBinding: BINDING }), "sts_unavailable");
    expect(connections).toBe(3);
  });

  it("gives up on a silent STS after its timeout", async () => {
    mode = "silent";
    connections = 0;
    const v = verifierWith({ endpointFor: netEndpoint, retries: 1, timeoutMs: 100 });
    const error = await expectRefusal(
      v.verify({ proof: await good(), expectedBinding: BINDING }),
      "sts_unavailable",
    );
    expect(error.status).toBe(503);
    expect(connections).toBe(2);
  });

  it("maps STS 5xx to sts_unavailable, and asks only once", async () => {
    sts.answerOverride = () => ({ status: 500, body: "<ErrorResponse/>" });
    const before = sts.received;
    await expectRefusal(
      verifierWith().verify({ proof: await good(), expectedBinding: BINDING }),
      "sts_unavailable",
    );
    expect(sts.received).toBe(before + 1);
  });

  it("maps STS throttling to sts_unavailable, not to a rejected proof", async () => {
    sts.answerOverride = () => ({
      status: 400,
      body: "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>",
    });
    await expectRefusal(
      verifierWith().verify({ proof: await good(), expectedBinding: BINDING }),
      "sts_unavailable",
    );
  });

  it("maps an oversized answer to sts_unavailable", async () => {
    sts.answerOverride = () => ({ status: 200, body: "x".repeat(70_000) });
    await expectRefusal(
      verifierWith().verify({ proof: await good(), expectedBinding: BINDING }),
      "sts_unavailable",
    );
  });
});

describe("StsCallerVerifier configuration", () => {
  it("treats an expectedBinding that is no binding as the exchange's bug (500), not the caller's", async () => {
    await expect(verifierWith().verify({ proof: await good(), expectedBinding: "" })).rejects.toMatchObject({
      code: "internal_error",
      status: 500,
    });
  });

  it.each<[string, Partial<StsCallerVerifierOptions>]>([
    ["no regions", { regions: [] }],
    ["a region that is not one", { regions: ["evil.example.com"] }],
    ["an empty server ID", { serverIdValue: "" }],
    ["a server-ID header that is an AWS header", { serverIdHeader: "x-amz-target" }],
    ["the same header for server ID and binding", { serverIdHeader: "x-a", bindingHeader: "x-a" }],
  ])("refuses %s", (_name, options) => {
    expect(() => verifierWith(options)).toThrow(expect.objectContaining({ code: "config_invalid" }));
  });

  it("is a BridgeError whatever the config fault", () => {
    expect(() => verifierWith({ maxAgeSeconds: -1 })).toThrow(BridgeError);
  });

  it.each<[string, Partial<StsCallerVerifierOptions>]>([
    ["maxProofBytes of 0 (every proof too large)", { maxProofBytes: 0 }],
    ["maxAgeSeconds of 0 (every proof too old)", { maxAgeSeconds: 0 }],
    ["maxHeaders of 0", { maxHeaders: 0 }],
    ["timeoutMs of 0", { timeoutMs: 0 }],
  ])("refuses %s: positive() means at least 1 (issue 17)", (_name, options) => {
    expect(() => verifierWith(options)).toThrow(
      expect.objectContaining({ code: "config_invalid", message: expect.stringMatching(/positive integer/) }),
    );
  });

  it("accepts 0 where 0 means none: no retries, no clock lead, no refusal memory", () => {
    expect(() =>
      verifierWith({ retries: 0, maxAheadSeconds: 0, refusedCredentialsTtlSeconds: 0 }),
    ).not.toThrow();
  });
});
