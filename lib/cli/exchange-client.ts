/**
 * What `svid-bridge token` and `x509` share: where the exchange is (`--url` or
 * SVID_BRIDGE_URL), which bridge the proof is for (`--server-id`, SVID_BRIDGE_SERVER_ID,
 * else SVID_BRIDGE_ISSUER: the exchange's own default), the caller's AWS credentials (the
 * SDK's default chain, or `--profile`) and region, and one POST with the proof.
 */
import { fromNodeProviderChain } from "@aws-sdk/credential-providers";
import type { Command } from "commander";
import { BridgeError, isErrorCode } from "../errors.js";
import { buildProof } from "../proof/client.js";
import { UsageError } from "./exit-codes.js";
import { awsRegion, baseUrl, baseUrlFromEnv, checkRegion } from "./values.js";

export interface ExchangeFlags {
  url?: string;
  serverId?: string;
  region?: string;
  profile?: string;
  json?: boolean;
}

export function addExchangeOptions(command: Command): Command {
  return command
    .option("--url <url>", "the exchange's base URL (default: SVID_BRIDGE_URL)", baseUrl)
    .option(
      "--server-id <id>",
      "the bridge's server ID the proof is signed for (default: SVID_BRIDGE_SERVER_ID, else SVID_BRIDGE_ISSUER)",
    )
    .option(
      "--region <region>",
      "AWS Region whose STS vouches for you (default: AWS_REGION, AWS_DEFAULT_REGION)",
      awsRegion,
    )
    .option("--profile <name>", "named AWS profile (default: the SDK's chain: env, AWS_PROFILE, SSO, …)")
    .option("--json", "print the exchange's whole answer as JSON");
}

export interface ExchangeTarget {
  url: string;
  serverId: string;
  region: string;
  profile?: string;
}

export function exchangeTarget(flags: ExchangeFlags, env: NodeJS.ProcessEnv): ExchangeTarget {
  const url = flags.url ?? (env.SVID_BRIDGE_URL && baseUrlFromEnv("SVID_BRIDGE_URL", env.SVID_BRIDGE_URL));
  if (!url)
    throw new UsageError(
      "no exchange URL: pass --url or set SVID_BRIDGE_URL (for svid-bridge dev: source .svid-bridge/env)",
    );
  const serverId = flags.serverId ?? env.SVID_BRIDGE_SERVER_ID ?? env.SVID_BRIDGE_ISSUER;
  if (!serverId)
    throw new UsageError(
      "no server ID: pass --server-id or set SVID_BRIDGE_SERVER_ID (or SVID_BRIDGE_ISSUER, its default)",
    );
  const region = flags.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) throw new UsageError("no AWS Region: pass --region or set AWS_REGION");
  if (!checkRegion(region))
    throw new UsageError(`AWS_REGION=${region} is not an AWS Region (e.g. us-east-1)`);
  return { url: url.replace(/\/+$/, ""), serverId, region, ...(flags.profile && { profile: flags.profile }) };
}

/** Signs a fresh proof (every attempt needs its own: the exchange spends each once). */
export function proofFor(target: ExchangeTarget, binding: string) {
  return buildProof({
    region: target.region,
    credentials: fromNodeProviderChain(target.profile ? { profile: target.profile } : {}),
    serverId: target.serverId,
    binding,
  });
}

/**
 * One SVID request: a fresh proof bound to the request (`binding`), then a POST of
 * `fields`, `spiffe_id` when one is asked for, and the proof to `path`.
 */
export async function requestSvids<T>(
  target: ExchangeTarget,
  path: string,
  fields: Record<string, unknown>,
  spiffeId: string | undefined,
  binding: string,
): Promise<T> {
  const proof = await proofFor(target, binding);
  return postExchange<T>(target, path, { ...fields, ...(spiffeId && { spiffe_id: spiffeId }), proof });
}

/** POSTs to the exchange; a refusal becomes a BridgeError with the exchange's code and message. */
export async function postExchange<T>(target: ExchangeTarget, path: string, body: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${target.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (cause) {
    throw new BridgeError("exchange_unavailable", `cannot reach ${target.url}: ${reason(cause)}`, { cause });
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    const err = parsed as { error?: unknown; message?: unknown } | undefined;
    const said = typeof err?.message === "string" ? err.message : `HTTP ${response.status}`;
    if (isErrorCode(err?.error)) throw new BridgeError(err.error, said);
    // A code this build does not know (a newer bridge) is still a refusal, and keeps its name.
    const upstream = typeof err?.error === "string" ? err.error : `HTTP ${response.status}`;
    throw new BridgeError("exchange_rejected", `${upstream}: ${said}`, {
      details: { upstream, upstreamStatus: response.status },
    });
  }
  if (parsed === undefined)
    throw new BridgeError("exchange_rejected", `the exchange answered ${response.status} with no JSON`);
  return parsed as T;
}

function reason(cause: unknown): string {
  const inner = (cause as { cause?: { code?: string; message?: string } }).cause;
  return inner?.code ?? inner?.message ?? (cause instanceof Error ? cause.message : String(cause));
}
