/**
 * The node:crypto SigV4 signer (lib/proof/sigv4.ts) against AWS's published Signature
 * Version 4 test suite (the vectors of the header-signed POST requests to "/", the only
 * shape it signs), against @smithy/signature-v4 on random requests of the proof's shape,
 * and its proofs against the real server half (StsCallerVerifier, LocalSts verifying SigV4
 * with @smithy/signature-v4).
 */
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../lib/clock.js";
import { NodeSha256 } from "../../lib/crypto/node-sha256.js";
import { InMemoryReplayCache } from "../../lib/local/in-memory-replay-cache.js";
import { LocalSts } from "../../lib/local/sts-server.js";
import { jwtBinding } from "../../lib/proof/binding.js";
import { buildLeanProof } from "../../lib/proof/lean-proof.js";
import { signSigV4 } from "../../lib/proof/sigv4.js";
import { StsCallerVerifier } from "../../lib/proof/sts-caller-verifier.js";
import { expectRefusal, ROLE, SERVER_ID, T0 } from "./fixtures.js";

// AWS's suite: credentials, scope and time shared by every vector.
const SUITE_CREDENTIALS = {
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
};
const SUITE_SCOPE = { region: "us-east-1", service: "service", date: new Date("2015-08-30T12:36:00Z") };
const SUITE_TOKEN =
  "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";
const HOST = "example.amazonaws.com";

const VECTORS: {
  name: string;
  headers: Record<string, string>;
  body: string;
  token?: string;
  signed: string;
  signature: string;
}[] = [
  {
    name: "post-vanilla",
    headers: { Host: HOST },
    body: "",
    signed: "host;x-amz-date",
    signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
  },
  {
    name: "post-header-value-case",
    headers: { Host: HOST, "My-Header1": "VALUE1" },
    body: "",
    signed: "host;my-header1;x-amz-date",
    signature: "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d",
  },
  {
    name: "post-x-www-form-urlencoded",
    headers: { Host: HOST, "Content-Type": "application/x-www-form-urlencoded" },
    body: "Param1=value1",
    signed: "content-type;host;x-amz-date",
    signature: "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
  },
  {
    name: "post-x-www-form-urlencoded-parameters",
    headers: { Host: HOST, "Content-Type": "application/x-www-form-urlencoded; charset=utf8" },
    body: "Param1=value1",
    signed: "content-type;host;x-amz-date",
    signature: "1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe",
  },
  {
    name: "post-sts-header-before",
    headers: { Host: HOST },
    body: "",
    token: SUITE_TOKEN,
    signed: "host;x-amz-date;x-amz-security-token",
    signature: "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead",
  },
];

describe("signSigV4", () => {
  it.each(VECTORS)("signs AWS's test-suite vector $name exactly", (v) => {
    const headers = signSigV4(
      { method: "POST", path: "/", headers: v.headers, body: v.body },
      { ...SUITE_CREDENTIALS, ...(v.token && { sessionToken: v.token }) },
      SUITE_SCOPE,
    );
    expect(headers.authorization).toBe(
      `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=${v.signed}, Signature=${v.signature}`,
    );
    expect(headers["x-amz-date"]).toBe("20150830T123600Z");
    if (v.token) expect(headers["x-amz-security-token"]).toBe(v.token);
  });

  it("refuses what it does not sign: another path, no host, a header twice", () => {
    const sign = (path: string, headers: Record<string, string>) =>
      signSigV4({ method: "POST", path, headers, body: "" }, SUITE_CREDENTIALS, SUITE_SCOPE);
    expect(() => sign("/x", { host: HOST })).toThrow(/path \//);
    expect(() => sign("/", {})).toThrow(/host/);
    expect(() => sign("/", { host: HOST, Host: HOST })).toThrow(/twice/);
  });

  it("agrees with @smithy/signature-v4 on random requests of the proof's shape", async () => {
    const token = fc.stringMatching(/^[A-Za-z0-9+/=]{1,200}$/);
    const value = fc.stringMatching(/^[ -~]{0,60}$/).filter((s) => s.trim().length > 0);
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          secret: fc.stringMatching(/^[A-Za-z0-9+/]{40}$/),
          token: fc.option(token, { nil: undefined }),
          region: fc.constantFrom("us-east-1", "eu-west-1", "cn-north-1", "us-gov-west-1"),
          at: fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2035, 0, 1) }),
          extra: fc.dictionary(fc.stringMatching(/^x-[a-z0-9-]{1,20}$/), value, { maxKeys: 4 }),
          body: fc.string({ maxLength: 80 }),
        }),
        async ({ secret, token, region, at, extra, body }) => {
          const host = `sts.${region}.amazonaws.com`;
          const headers = { ...extra, host, "content-type": "application/x-www-form-urlencoded" };
          const credentials = { accessKeyId: "ASIAEXAMPLE", secretAccessKey: secret, sessionToken: token };
          const date = new Date(Math.floor(at / 1000) * 1000);
          const ours = signSigV4({ method: "POST", path: "/", headers, body }, credentials, {
            region,
            service: "sts",
            date,
          });
          const smithy = await new SignatureV4({
            service: "sts",
            region,
            credentials,
            sha256: NodeSha256,
            applyChecksum: false,
          }).sign(new HttpRequest({ method: "POST", hostname: host, path: "/", headers, body }), {
            signingDate: date,
          });
          expect(ours["x-amz-date"]).toBe(smithy.headers["x-amz-date"]);
          expect(ours.authorization).toBe(smithy.headers.authorization);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("buildLeanProof against the server half", () => {
  const clock = new ManualClock(T0);
  const sts = new LocalSts({ principals: [ROLE], clock });
  let verifier: StsCallerVerifier;
  const binding = jwtBinding({ audience: ["https://api.example.org"] });
  beforeAll(async () => {
    await sts.start();
    verifier = new StsCallerVerifier({
      serverIdValue: SERVER_ID,
      regions: ["eu-west-1"],
      replayCache: new InMemoryReplayCache(clock),
      clock,
      endpointFor: () => sts.endpoint,
    });
  });
  afterAll(async () => {
    verifier.close();
    await sts.stop();
  });
  const lean = (options: { serverId?: string; binding?: string } = {}) =>
    buildLeanProof({
      region: "eu-west-1",
      credentials: async () => ROLE,
      serverId: options.serverId ?? SERVER_ID,
      binding: options.binding ?? binding,
      clock,
    });

  it("is accepted once, as the role: LocalSts verified its SigV4 with @smithy/signature-v4", async () => {
    const proof = await lean();
    await expect(verifier.verify({ proof, expectedBinding: binding })).resolves.toMatchObject({
      principalName: "app-role",
      sessionName: "my-function",
    });
    await expectRefusal(verifier.verify({ proof, expectedBinding: binding }), "proof_replayed");
  });

  it("is refused by the proof rules like any other: another bridge, another ask, too old", async () => {
    await expectRefusal(
      verifier.verify({ proof: await lean({ serverId: "other" }), expectedBinding: binding }),
      "proof_server_id_mismatch",
    );
    await expectRefusal(
      verifier.verify({ proof: await lean(), expectedBinding: jwtBinding({ audience: ["x"] }) }),
      "proof_binding_mismatch",
    );
    const old = await lean();
    clock.advance(10 * 60_000);
    await expectRefusal(verifier.verify({ proof: old, expectedBinding: binding }), "proof_expired");
  });
});
