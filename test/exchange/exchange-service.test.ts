/**
 * The exchange service with local keys and CA. The proof check and the registration
 * lookup are ports here (their own suites test them against the local STS and dynalite;
 * the exchange integration test puts all real parts together).
 */
import { importJWK, jwtVerify } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../lib/clock.js";
import { BridgeError } from "../../lib/errors.js";
import {
  ExchangeService,
  type ExchangeServiceDeps,
  type IssuanceEvent,
  type RegistrationMatch,
} from "../../lib/exchange/exchange-service.js";
import { InMemoryKeyManager } from "../../lib/local/in-memory-key-manager.js";
import { createLocalCertificateAuthority } from "../../lib/local/local-certificate-authority.js";
import type { CallerIdentity, VerifyProofRequest } from "../../lib/ports/caller-verifier.js";
import type { CertificateAuthority } from "../../lib/ports/certificate-authority.js";
import { signerFor } from "../../lib/ports/key-manager.js";
import type { RegistrationEntry } from "../../lib/ports/registration-store.js";
import { TrustBundle } from "../../lib/spiffe/bundle.js";
import { validateJwtSvid } from "../../lib/spiffe/jwt-svid.js";
import { SpiffeId, TrustDomain } from "../../lib/spiffe/spiffe-id.js";
import { parseCertificatesPem, validateX509Svid } from "../../lib/spiffe/x509-svid.js";
import { makeCsr, makeWorkloadKey } from "../support/x509-fixtures.js";

const td = TrustDomain.parse("example.org");
const ISSUER = "https://oidc.example.org";
const caller: CallerIdentity = {
  arn: "arn:aws:sts::111122223333:assumed-role/app/fn",
  partition: "aws",
  account: "111122223333",
  principalType: "assumed-role",
  principalName: "app",
  uniqueId: "AROAEXAMPLE",
  sessionName: "fn",
};

function entry(over: Partial<RegistrationEntry> = {}): RegistrationEntry {
  return {
    id: "e1",
    selectors: { account: "111122223333", roleName: "app" },
    spiffeId: "spiffe://example.org/fn",
    kinds: ["jwt", "x509"],
    enabled: true,
    createdAt: "2026-11-23T00:00:00Z",
    updatedAt: "2026-11-23T00:00:00Z",
    version: 1,
    ...over,
  };
}

describe("ExchangeService", () => {
  const _clock = new ManualClock(Date.UTC(2026, 10, 23, 12));
  let deps: ExchangeServiceDeps;
  let bundle: TrustBundle;
  let matches: RegistrationMatch[];
  let seenBinding: string | undefined;
  const events: IssuanceEvent[] = [];
  let ca: CertificateAuthority;

  beforeAll(async () => {
    const keys = new InMemoryKeyManager();
    const key = await keys.createKey("RS256");
    ca = await createLocalCertificateAuthority({ trustDomain: td, keys });
    bundle = new TrustBundle({
      trustDomain: td,
      x509Authorities: await ca.trustAnchors(),
      jwtAuthorities: [{ kid: key.thumbprint, jwk: key.jwk, alg: "RS256" }],
    });
    deps = {
      verifier: {
        async verify(req: VerifyProofRequest) {
          seenBinding = req.expectedBinding;
          if (req.proof !== "good-proof") throw new BridgeError("proof_invalid", "bad proof");
          return caller;
        },
      },
      resolveRegistrations: async () => matches,
      bindings: {
        jwt: (aud, id) => `jwt:${aud.join(",")}:${id ?? ""}`,
        x509: (csr, id) => `x509:${csr.length}:${id ?? ""}`,
        batch: (ask) =>
          `batch:${JSON.stringify(ask.jwt)}:${ask.x509?.csr.length ?? ""}:${ask.x509?.spiffeId ?? ""}`,
      },
      jwtSigner: () => signerFor(keys, key.keyId),
      ca,
      bundle: async () => bundle,
      issuer: ISSUER,
      onIssued: (e) => events.push(e),
    };
  });

  const service = () => new ExchangeService({ ...deps });
  const withMatches = (...es: RegistrationEntry[]) => {
    matches = es.map((e) => ({ entry: e, spiffeId: SpiffeId.parse(e.spiffeId) }));
  };
  const code = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (e) {
      if (e instanceof BridgeError) return e.code;
      throw e;
    }
    return "resolved";
  };

  it("issues a JWT-SVID that jose and the SPIFFE core accept, binding the proof to the audiences", async () => {
    withMatches(entry({ jwtTtlSeconds: 120 }));
    const out = await service().issueJwtSvids({ audience: ["sts.amazonaws.com"], proof: "good-proof" });
    expect(seenBinding).toBe("jwt:sts.amazonaws.com:");
    expect(out.svids).toHaveLength(1);
    const svid = out.svids[0]!;
    expect(svid.spiffe_id).toBe("spiffe://example.org/fn");
    const key = await importJWK(bundle.jwtAuthorities[0]!.jwk, "RS256");
    const { payload } = await jwtVerify(svid.token, key, { audience: "sts.amazonaws.com", issuer: ISSUER });
    expect(payload.exp! - payload.iat!).toBe(120);
    expect(svid.expires_at).toBe(payload.exp);
    const v = await validateJwtSvid(svid.token, {
      audience: "sts.amazonaws.com",
      bundles: bundle,
      trustDomains: [td],
      issuer: ISSUER,
    });
    expect(v.spiffeId.toString()).toBe(svid.spiffe_id);
    expect(events.at(-1)).toMatchObject({
      kind: "jwt",
      callerArn: caller.arn,
      entryId: "e1",
      spiffeId: svid.spiffe_id,
    });
  });

  it("caps the TTL at the bridge's maximum", async () => {
    withMatches(entry({ jwtTtlSeconds: 99_999 }));
    const out = await service().issueJwtSvids({ audience: ["a"], proof: "good-proof" });
    const [, p] = out.svids[0]!.token.split(".");
    const claims = JSON.parse(Buffer.from(p!, "base64url").toString());
    expect(claims.exp - claims.iat).toBe(3600);
  });

  it("lists every matching identity, or only the one asked for", async () => {
    withMatches(entry(), entry({ id: "e2", spiffeId: "spiffe://example.org/other" }));
    const all = await service().issueJwtSvids({ audience: ["a"], proof: "good-proof" });
    expect(all.svids.map((s) => s.spiffe_id)).toEqual([
      "spiffe://example.org/fn",
      "spiffe://example.org/other",
    ]);
    const one = await service().issueJwtSvids({
      audience: ["a"],
      spiffe_id: "spiffe://example.org/other",
      proof: "good-proof",
    });
    expect(one.svids.map((s) => s.spiffe_id)).toEqual(["spiffe://example.org/other"]);
    expect(seenBinding).toBe("jwt:a:spiffe://example.org/other");
    expect(
      await code(
        service().issueJwtSvids({
          audience: ["a"],
          spiffe_id: "spiffe://example.org/nope",
          proof: "good-proof",
        }),
      ),
    ).toBe("no_registration");
  });

  it("refuses with no_registration, svid_kind_not_allowed and audience_not_allowed", async () => {
    withMatches();
    expect(await code(service().issueJwtSvids({ audience: ["a"], proof: "good-proof" }))).toBe(
      "no_registration",
    );
    withMatches(entry({ kinds: ["x509"] }));
    expect(await code(service().issueJwtSvids({ audience: ["a"], proof: "good-proof" }))).toBe(
      "svid_kind_not_allowed",
    );
    withMatches(entry({ audiences: ["a", "b"] }));
    expect(await code(service().issueJwtSvids({ audience: ["a", "c"], proof: "good-proof" }))).toBe(
      "audience_not_allowed",
    );
    expect(await code(service().issueJwtSvids({ audience: ["b"], proof: "good-proof" }))).toBe("resolved");
  });

  it.each([
    [{ audience: ["a"], proof: "good-proof", extra: 1 }, "unknown_field"],
    [{ audience: [], proof: "good-proof" }, "invalid_request"],
    [{ audience: ["a", "a"], proof: "good-proof" }, "invalid_request"],
    [{ audience: ["has space"], proof: "good-proof" }, "invalid_request"],
    [{ audience: Array.from({ length: 11 }, (_, i) => `a${i}`), proof: "good-proof" }, "invalid_request"],
    [{ audience: ["a"] }, "proof_malformed"],
    [{ audience: ["a"], spiffe_id: "spiffe://Example.org/x", proof: "good-proof" }, "invalid_spiffe_id"],
    [[1, 2], "invalid_request"],
    [null, "invalid_request"],
    [{ audience: ["a"], proof: "forged" }, "proof_invalid"],
  ])("refuses JWT request %j with %s", async (body, expected) => {
    withMatches(entry());
    expect(await code(service().issueJwtSvids(body))).toBe(expected);
  });

  it("issues an X.509-SVID for the CSR's key, chain valid against the bundle, binding the proof to the CSR", async () => {
    withMatches(entry({ dnsNames: ["fn.example.org"], x509TtlSeconds: 600 }));
    const keys = await makeWorkloadKey("ec-p256");
    const csr = await makeCsr(keys);
    const out = await service().issueX509Svids({ csr, proof: "good-proof" });
    expect(seenBinding).toBe(`x509:${csr.length}:`);
    const chain = parseCertificatesPem(out.svids[0]!.certificate_chain);
    expect(chain).toHaveLength(2);
    expect(validateX509Svid(chain, bundle).spiffeId.toString()).toBe("spiffe://example.org/fn");
    expect(parseCertificatesPem(out.bundle).map((c) => c.serialNumber)).toEqual(
      bundle.x509Authorities.map((c) => c.serialNumber),
    );
    expect(out.svids[0]!.expires_at).toBe(Math.floor(chain[0]!.notAfter.getTime() / 1000));
    expect(events.at(-1)).toMatchObject({ kind: "x509", serialOrJti: chain[0]!.serialNumber });
  });

  it("refuses bad CSRs and unsupported keys before the proof is spent", async () => {
    withMatches(entry());
    seenBinding = undefined;
    expect(await code(service().issueX509Svids({ csr: "garbage", proof: "good-proof" }))).toBe(
      "csr_malformed",
    );
    expect(
      await code(
        service().issueX509Svids({
          csr: await makeCsr(await makeWorkloadKey("rsa-1024")),
          proof: "good-proof",
        }),
      ),
    ).toBe("unsupported_key");
    expect(seenBinding).toBeUndefined();
    withMatches(entry({ kinds: ["jwt"] }));
    expect(
      await code(
        service().issueX509Svids({ csr: await makeCsr(await makeWorkloadKey()), proof: "good-proof" }),
      ),
    ).toBe("svid_kind_not_allowed");
  });
});
