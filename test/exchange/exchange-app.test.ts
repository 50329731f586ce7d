/**
 * The exchange's HTTP surface over a loopback Function URL: routing, body limits, media
 * type, error bodies, logging of decisions, and that nothing a client sends yields a 500.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createExchangeHandler, type ExchangeLogger } from "../../lambdas/exchange/app.js";
import { BridgeError } from "../../lib/errors.js";
import { ExchangeService } from "../../lib/exchange/exchange-service.js";
import { type RunningFunctionUrl, startFunctionUrlServer } from "../../lib/local/function-url-server.js";
import { InMemoryKeyManager } from "../../lib/local/in-memory-key-manager.js";
import { createLocalCertificateAuthority } from "../../lib/local/local-certificate-authority.js";
import { signerFor } from "../../lib/ports/key-manager.js";
import { TrustBundle } from "../../lib/spiffe/bundle.js";
import { SpiffeId, TrustDomain } from "../../lib/spiffe/spiffe-id.js";

const td = TrustDomain.parse("example.org");

describe("exchange HTTP surface", () => {
  let server: RunningFunctionUrl;
  const logs: Array<{ level: string; message: string; fields: Record<string, unknown> }> = [];
  const logger: ExchangeLogger = {
    info: (message, ...f) => logs.push({ level: "info", message, fields: Object.assign({}, ...f) }),
    warn: (message, ...f) => logs.push({ level: "warn", message, fields: Object.assign({}, ...f) }),
    error: (message, ...f) => logs.push({ level: "error", message, fields: Object.assign({}, ...f) }),
  };
  const counters = { issued: 0, denied: [] as string[] };

  beforeAll(async () => {
    const keys = new InMemoryKeyManager();
    const key = await keys.createKey("ES256");
    const ca = await createLocalCertificateAuthority({ trustDomain: td, keys });
    const bundle = new TrustBundle({
      trustDomain: td,
      x509Authorities: await ca.trustAnchors(),
      jwtAuthorities: [{ kid: key.thumbprint, jwk: key.jwk, alg: "ES256" }],
    });
    const service = new ExchangeService({
      verifier: {
        async verify(req) {
          if (req.proof !== "good") throw new BridgeError("proof_invalid", "bad proof");
          return {
            arn: "arn:aws:sts::111122223333:assumed-role/app/fn",
            partition: "aws",
            account: "111122223333",
            principalType: "assumed-role",
            principalName: "app",
            uniqueId: "AROAX",
            sessionName: "fn",
          };
        },
      },
      resolveRegistrations: async () => [
        {
          entry: {
            id: "e1",
            selectors: { account: "111122223333", roleName: "app" },
            spiffeId: "spiffe://example.org/fn",
            kinds: ["jwt"],
            enabled: true,
            createdAt: "",
            updatedAt: "",
            version: 1,
          },
          spiffeId: SpiffeId.parse("spiffe://example.org/fn"),
        },
      ],
      bindings: { jwt: () => "b", x509: () => "b", batch: () => "b" },
      jwtSigner: () => signerFor(keys, key.keyId),
      ca,
      bundle: async () => bundle,
      issuer: "https://oidc.example.org",
    });
    const handler = createExchangeHandler({
      service,
      bundle: async () => bundle,
      logger,
      metrics: {
        issued: (_k, n) => (counters.issued += n),
        denied: (c) => counters.denied.push(c),
        dependencyLatency: () => {},
      },
      maxBodyBytes: 4096,
    });
    server = await startFunctionUrlServer(handler as never);
  });
  afterAll(() => server.close());

  const post = (path: string, body: string, type = "application/json") =>
    fetch(`${server.url}${path}`, { method: "POST", headers: { "content-type": type }, body });

  it("issues a JWT-SVID, no-store, and logs the decision with the caller", async () => {
    const res = await post("/v1/svid/jwt", JSON.stringify({ audience: ["a"], proof: "good" }));
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = (await res.json()) as {
      svids: Array<{ spiffe_id: string; token: string; expires_at: number }>;
    };
    expect(body.svids[0]!.spiffe_id).toBe("spiffe://example.org/fn");
    expect(Number.isInteger(body.svids[0]!.expires_at)).toBe(true);
    const allow = logs.find((l) => l.message === "exchange allowed")!;
    expect(allow.fields).toMatchObject({
      decision: "allow",
      callerArn: "arn:aws:sts::111122223333:assumed-role/app/fn",
    });
    expect(JSON.stringify(logs)).not.toContain(body.svids[0]!.token);
    expect(counters.issued).toBeGreaterThan(0);
  });

  it("serves the SPIFFE bundle on GET /v1/bundle", async () => {
    const res = await fetch(`${server.url}/v1/bundle`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { keys: Array<{ use: string }> };
    expect(doc.keys.map((k) => k.use).sort()).toEqual(["jwt-svid", "x509-svid"]);
  });

  it.each([
    [
      "oversize body",
      "/v1/svid/jwt",
      JSON.stringify({ audience: ["a"], proof: "x".repeat(5000) }),
      "application/json",
      413,
      "body_too_large",
    ],
    ["malformed JSON", "/v1/svid/jwt", '{"audience": [', "application/json", 400, "invalid_request"],
    ["wrong media type", "/v1/svid/jwt", "{}", "text/plain", 415, "unsupported_media_type"],
    [
      "unknown field",
      "/v1/svid/jwt",
      JSON.stringify({ audience: ["a"], proof: "good", ttl: 9 }),
      "application/json",
      400,
      "unknown_field",
    ],
    [
      "bad proof",
      "/v1/svid/jwt",
      JSON.stringify({ audience: ["a"], proof: "evil" }),
      "application/json",
      401,
      "proof_invalid",
    ],
    [
      "kind not allowed",
      "/v1/svid/x509",
      JSON.stringify({ csr: "garbage", proof: "good" }),
      "application/json",
      400,
      "csr_malformed",
    ],
    ["unknown path", "/v1/nope", "{}", "application/json", 404, "not_found"],
  ])("refuses %s with %i %s and logs it", async (_name, path, body, type, status, code) => {
    const res = await post(path, body, type);
    expect(res.status).toBe(status);
    expect(await res.json()).toMatchObject({ error: code });
  });

  it("answers 405 to the wrong method", async () => {
    const res = await fetch(`${server.url}/v1/svid/jwt`);
    expect(res.status).toBe(405);
    expect(await res.json()).toMatchObject({ error: "method_not_allowed" });
  });

  it("logs a denial with its reason code and the caller when known", async () => {
    await post("/v1/svid/jwt", JSON.stringify({ audience: ["a"], proof: "evil" }));
    const deny = logs.filter((l) => l.message === "exchange denied").at(-1)!;
    expect(deny.fields).toMatchObject({ decision: "deny", reason: "proof_invalid", status: 401 });
    expect(counters.denied).toContain("proof_invalid");
  });

  it("never answers 5xx to anything a client sends", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("/v1/svid/jwt", "/v1/svid/x509", "/v1/svid/batch"),
        fc.oneof(
          fc.json(),
          fc.string(),
          fc
            .record(
              {
                jwt: fc.oneof(
                  fc.anything(),
                  fc.array(fc.record({ audience: fc.anything(), spiffe_id: fc.anything() }), {
                    maxLength: 20,
                  }),
                ),
                x509: fc.oneof(fc.anything(), fc.record({ csr: fc.anything(), spiffe_id: fc.anything() })),
                proof: fc.anything(),
              },
              { requiredKeys: [] },
            )
            .map((o) => JSON.stringify(o)),
          fc
            .record({
              audience: fc.anything(),
              proof: fc.anything(),
              csr: fc.anything(),
              spiffe_id: fc.anything(),
            })
            .map((o) => JSON.stringify(o)),
        ),
        async (path, body) => {
          const res = await post(path, body);
          expect(res.status).toBeLessThan(500);
          const json = (await res.json()) as { error?: string };
          if (res.status >= 400) expect(typeof json.error).toBe("string");
        },
      ),
      { numRuns: 150 },
    );
  });
});
