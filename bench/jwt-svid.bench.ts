/**
 * JWT-SVID mint and validate through lib/spiffe, against raw sign/verify of the same
 * algorithm with node:crypto in the same run. The gap is the cost of JSON, base64url,
 * the port indirection and (for validate) the SPIFFE and claim checks. Validation is held
 * to >= 0.5x a raw verify: keys are imported once per key set, the signature is checked
 * with node:crypto synchronously.
 */
import { createPublicKey, sign, verify } from "node:crypto";
import type { SigningAlgorithm } from "../lib/crypto/algorithms.js";
import { InMemoryKeyManager } from "../lib/local/in-memory-key-manager.js";
import { signerFor } from "../lib/ports/key-manager.js";
import { TrustBundle } from "../lib/spiffe/bundle.js";
import { mintJwtSvid, validateJwtSvid } from "../lib/spiffe/jwt-svid.js";
import { SpiffeId, TrustDomain } from "../lib/spiffe/spiffe-id.js";
import { type BenchResult, opsPerSecond, pairedOpsPerSecond, ratioResult } from "./harness.js";

export async function run(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const td = TrustDomain.parse("example.org");
  const id = SpiffeId.parse("spiffe://example.org/aws/111122223333/fn");
  for (const alg of ["RS256", "ES256"] as SigningAlgorithm[]) {
    const keys = new InMemoryKeyManager();
    const info = await keys.createKey(alg);
    const signer = await signerFor(keys, info.keyId);
    const bundle = new TrustBundle({
      trustDomain: td,
      jwtAuthorities: [{ kid: info.thumbprint, jwk: info.jwk, alg }],
    });
    const hash = "sha256";
    const sampleInput = Buffer.from("x".repeat(300));
    // Raw reference: one node:crypto signature over a JWT-sized input with a key of the same kind.
    const raw = await import("node:crypto");
    const pair =
      alg === "RS256"
        ? raw.generateKeyPairSync("rsa", { modulusLength: 2048 })
        : raw.generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    const rawSign = await opsPerSecond(() =>
      sign(hash, sampleInput, { key: pair.privateKey, dsaEncoding: "ieee-p1363" }),
    );
    const mint = await opsPerSecond(() =>
      mintJwtSvid({
        spiffeId: id,
        audience: ["sts.amazonaws.com"],
        ttlSeconds: 300,
        signer,
        issuer: "https://oidc.example.org",
      }),
    );
    results.push(
      ...ratioResult(
        `jwt-svid mint ${alg}`,
        mint,
        { name: `raw sign ${alg} (node:crypto)`, value: rawSign },
        0.5,
      ),
    );

    const token = (await mintJwtSvid({ spiffeId: id, audience: ["a"], ttlSeconds: 3600, signer })).token;
    const sig = sign(hash, sampleInput, { key: pair.privateKey, dsaEncoding: "ieee-p1363" });
    const pub = createPublicKey(pair.privateKey);
    // Alternating windows (validate, raw, validate, raw, …) so a drift of this shared machine moves both.
    const paired = await pairedOpsPerSecond(
      () => validateJwtSvid(token, { audience: "a", bundles: bundle }),
      () => verify(hash, sampleInput, { key: pub, dsaEncoding: "ieee-p1363" }, sig),
      { rounds: 7, ms: 150 },
    );
    results.push(
      ...ratioResult(
        `jwt-svid validate ${alg}`,
        paired.value,
        { name: `raw verify ${alg} (node:crypto)`, value: paired.reference },
        0.5,
        paired.ratio,
      ),
    );
  }
  return results;
}
