/**
 * The exchange client's source of proofs: lib/proof's client half (a SigV4-signed, unsent
 * sts:GetCallerIdentity) with the function's own credentials, bound to what one exchange
 * request asks for. Every call signs a new proof with a new nonce: the exchange spends a
 * proof before it asks STS, so a retried request needs a fresh one, never a cached one.
 * Signed by lib/proof/sigv4.ts (node:crypto alone; checked against AWS's SigV4 test
 * vectors and @smithy/signature-v4), the in-process client's signer too: @smithy's signer
 * and its dependencies were a fifth of the extension's bundle, compiled at every cold start.
 */
import { type BatchAsk, batchBinding, bindingOf, type ProofAsk } from "../../../lib/proof/binding.js";
import { buildLeanProof } from "../../../lib/proof/lean-proof.js";
import type { Proof } from "../../../lib/proof/proof-format.js";
import type { CredentialProvider } from "./credentials.js";

export type { BatchAsk, ProofAsk };

export interface ProofBuilder {
  /** A fresh, single-use proof for one exchange request. */
  proofFor(ask: ProofAsk): Promise<Proof>;
  /** A fresh, single-use proof for one POST /v1/svid/batch, bound to every ask in it (batchBinding). */
  proofForBatch(ask: BatchAsk): Promise<Proof>;
}

export interface StsProofBuilderOptions {
  credentials: CredentialProvider;
  /** The function's region: the proof names its regional STS endpoint. */
  region: string;
  /** The bridge's server ID (SVID_BRIDGE_SERVER_ID), signed into every proof. */
  serverId: string;
}

export function stsProofBuilder(options: StsProofBuilderOptions): ProofBuilder {
  const credentials = async () => {
    const c = await options.credentials();
    return {
      accessKeyId: c.accessKeyId,
      secretAccessKey: c.secretAccessKey,
      ...(c.sessionToken !== undefined && { sessionToken: c.sessionToken }),
    };
  };
  const proofBoundTo = (binding: string) =>
    buildLeanProof({ region: options.region, credentials, serverId: options.serverId, binding });
  return {
    proofFor: (ask) => proofBoundTo(bindingOf(ask)),
    proofForBatch: (ask) => proofBoundTo(batchBinding(ask)),
  };
}
