/**
 * "x509-svid issue p50": X.509-SVID issue time in process, intermediate mode, local keys
 * (ES256 intermediate, P-256 workload key), against one raw ECDSA P-256 sign with
 * node:crypto from the same run (budget: ratio <= 10); and, for
 * information, signing through KmsKeyManager against the KMS stand-in on loopback
 * versus local signing (the stand-in's cost is HTTP + JSON + SigV4, not AWS's latency).
 */
import { generateKeyPairSync, sign, webcrypto } from "node:crypto";
import { KmsKeyManager } from "../lib/aws/kms-key-manager.js";
import { InMemoryKeyManager } from "../lib/local/in-memory-key-manager.js";
import { createLocalCertificateAuthority } from "../lib/local/local-certificate-authority.js";
import { SpiffeId, TrustDomain } from "../lib/spiffe/spiffe-id.js";
import { FakeKms, kmsClientFor } from "../test/support/fake-kms.js";
import { type BenchResult, latencies, opsPerSecond, percentile, ratioResult, round } from "./harness.js";

export async function run(): Promise<BenchResult[]> {
  const td = TrustDomain.parse("example.org");
  const spiffeId = SpiffeId.parse("spiffe://example.org/aws/111122223333/fn");
  const ca = await createLocalCertificateAuthority({ trustDomain: td, keys: new InMemoryKeyManager() });
  const workload = await webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign"]);
  const spki = new Uint8Array(await webcrypto.subtle.exportKey("spki", workload.publicKey));

  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const tbs = Buffer.alloc(400, 7); // about a leaf's TBSCertificate
  // Alternating windows (issue, raw, issue, raw, …) so a drift of this shared machine moves both.
  const issue: number[] = [];
  const raw: number[] = [];
  for (let round = 0; round < 5; round++) {
    issue.push(
      ...(await latencies(() => ca.issue({ spiffeId, subjectPublicKey: spki, ttlSeconds: 3600 }), 100, 20)),
    );
    raw.push(
      ...(await latencies(
        () => sign("sha256", tbs, { key: privateKey, dsaEncoding: "ieee-p1363" }),
        400,
        40,
      )),
    );
  }
  issue.sort((x, y) => x - y);
  raw.sort((x, y) => x - y);
  const p50 = percentile(issue, 50);
  const rawP50 = percentile(raw, 50);
  const ratio = p50 / rawP50;
  const results: BenchResult[] = [
    { name: "raw ECDSA P-256 sign p50 (node:crypto)", value: round(rawP50, 4), unit: "ms" },
    {
      name: "x509-svid issue p50",
      value: round(p50, 4),
      unit: "ms",
      reference: "raw ECDSA P-256 sign p50 (node:crypto)",
      ratio: round(ratio, 1),
      budget: "ratio <= 10",
      met: ratio <= 10,
    },
    { name: "x509-svid issue p99", value: round(percentile(issue, 99), 4), unit: "ms" },
  ];

  const kms = new FakeKms();
  try {
    const keys = new KmsKeyManager({ client: kmsClientFor(await kms.start()), trustDomain: td });
    const local = new InMemoryKeyManager();
    const kmsKey = await keys.createKey("ES256");
    const localKey = await local.createKey("ES256");
    const data = Buffer.alloc(300, 1);
    const localRate = await opsPerSecond(() => local.sign(localKey.keyId, data), 500);
    const kmsRate = await opsPerSecond(() => keys.sign(kmsKey.keyId, data), 1000);
    results.push(
      ...ratioResult("ES256 sign via KmsKeyManager → KMS stand-in (loopback)", kmsRate, {
        name: "ES256 sign via InMemoryKeyManager",
        value: localRate,
      }),
    );
  } finally {
    await kms.stop();
  }
  return results;
}
