/**
 * Wires an InProcessSvidSource from the function's environment (config.ts): its own
 * credentials (environment keys, or the container-credentials endpoint under SnapStart,
 * the extension's provider), proofs signed with lib/proof/lean-proof.ts, and the
 * extension's exchange client, so both modes send the bridge the same requests.
 */
import { type Clock, systemClock } from "../../../lib/clock.js";
import { batchBinding, bindingOf } from "../../../lib/proof/binding.js";
import { buildLeanProof } from "../../../lib/proof/lean-proof.js";
import { credentialProvider } from "../../extension/src/credentials.js";
import { HttpExchangeClient } from "../../extension/src/exchange-client.js";
import type { ProofBuilder } from "../../extension/src/proof-builder.js";
import { readInProcessConfig } from "./config.js";
import { type InProcessSourceOptions, InProcessSvidSource } from "./in-process-source.js";

export type InProcessOverrides = Partial<Omit<InProcessSourceOptions, "exchange">> & {
  /** Per exchange request. Default 3 s (the extension's). */
  timeoutMs?: number;
};

export function inProcessSourceFromEnv(
  env: Record<string, string | undefined> = process.env,
  overrides: InProcessOverrides = {},
): InProcessSvidSource {
  const config = readInProcessConfig(env);
  const clock: Clock = overrides.clock ?? systemClock;
  const credentials = credentialProvider(config.credentials, clock);
  const proofBoundTo = (binding: string) =>
    buildLeanProof({ region: config.region, credentials, serverId: config.serverId, binding, clock });
  const proofs: ProofBuilder = {
    proofFor: (ask) => proofBoundTo(bindingOf(ask)),
    proofForBatch: (ask) => proofBoundTo(batchBinding(ask)),
  };
  const { timeoutMs, ...options } = overrides;
  const exchange = new HttpExchangeClient({
    baseUrl: config.bridgeUrl,
    proofs,
    ...(timeoutMs !== undefined && { timeoutMs }),
  });
  return new InProcessSvidSource({
    exchange,
    ...(config.spiffeId && { spiffeId: config.spiffeId }),
    ...(config.trustDomain && { trustDomain: config.trustDomain }),
    jwtAudiences: config.jwtAudiences,
    x509: config.x509,
    snapStart: config.snapStart,
    clockJumpMs: config.clockJumpMs,
    ...options,
  });
}
