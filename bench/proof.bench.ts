/**
 * Proof of IAM identity without the network: building a proof (client half) against
 * one raw SigV4 signature of the same request with the same signer, and checking one
 * (every local rule, up to the forward to STS) against JSON.parse of the same proof.
 * Building is a SigV4 signature plus a nonce; checking should cost a few parses.
 */

import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { ManualClock } from "../lib/clock.js";
import { NodeSha256 } from "../lib/crypto/node-sha256.js";
import { InMemoryReplayCache } from "../lib/local/in-memory-replay-cache.js";
import { jwtBinding } from "../lib/proof/binding.js";
import { buildProof } from "../lib/proof/client.js";
import { FORM_CONTENT_TYPE, GET_CALLER_IDENTITY_BODY, serializeProof } from "../lib/proof/proof-format.js";
import { checkProof } from "../lib/proof/proof-rules.js";
import { StsCallerVerifier } from "../lib/proof/sts-caller-verifier.js";
import { type BenchResult, opsPerSecond, ratioResult } from "./harness.js";

export async function run(): Promise<BenchResult[]> {
  const now = Date.UTC(2026, 10, 23, 12, 0, 0);
  const clock = new ManualClock(now);
  const credentials = {
    accessKeyId: "ASIAFAKEROLE00000001",
    secretAccessKey: "role-secret-0000000000000000000000000000",
    sessionToken: "IQoJb3JpZ2luX2VjEFAKESESSIONTOKEN".repeat(20),
  };
  const serverId = "https://svid.example.org";
  const binding = jwtBinding({ audience: ["https://api.example.org"] });

  const signer = new SignatureV4({
    service: "sts",
    region: "eu-west-1",
    credentials,
    sha256: NodeSha256, // the hash the client half uses
    applyChecksum: false,
  });
  const host = "sts.eu-west-1.amazonaws.com";
  const rawSign = await opsPerSecond(() =>
    signer.sign(
      new HttpRequest({
        method: "POST",
        hostname: host,
        path: "/",
        headers: { host, "content-type": FORM_CONTENT_TYPE },
        body: GET_CALLER_IDENTITY_BODY,
      }),
      { signingDate: new Date(now) },
    ),
  );
  const build = await opsPerSecond(() =>
    buildProof({ region: "eu-west-1", credentials, serverId, binding, clock }),
  );

  const verifier = new StsCallerVerifier({
    serverIdValue: serverId,
    regions: ["eu-west-1"],
    replayCache: new InMemoryReplayCache(clock),
    clock,
  });
  const proof = await buildProof({ region: "eu-west-1", credentials, serverId, binding, clock });
  const text = serializeProof(proof);
  const parse = await opsPerSecond(() => JSON.parse(text));
  // As the exchange sees it: the proof arrives inside a JSON body it has parsed already.
  const check = await opsPerSecond(() => checkProof(JSON.parse(text), binding, verifier.rules, now));
  verifier.close();

  return [
    ...ratioResult("proof build (client half, SigV4 + nonce)", build, {
      name: "raw SigV4 sign of GetCallerIdentity (@smithy/signature-v4, node:crypto SHA-256)",
      value: rawSign,
    }),
    ...ratioResult("proof check, every local rule (no network)", check, {
      name: "JSON.parse of the same proof",
      value: parse,
    }),
  ];
}
