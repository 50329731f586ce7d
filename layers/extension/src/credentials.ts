/**
 * The function's own AWS credentials, from the environment (on-demand, provisioned) or
 * from the container-credentials endpoint (SnapStart). The endpoint's answer is the
 * documented ECS/Lambda shape; it is cached until five minutes before it expires.
 */
import type { Clock } from "../../../lib/clock.js";
import { BridgeError } from "../../../lib/errors.js";
import type { AwsCredentialSource } from "./config.js";
import { callJson, type HttpResult } from "./http-client.js";

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** Epoch ms; absent for static keys. */
  expiration?: number;
}

export type CredentialProvider = () => Promise<AwsCredentials>;

const EARLY_REFRESH_MS = 5 * 60_000;

export function credentialProvider(source: AwsCredentialSource, clock: Clock): CredentialProvider {
  if (source.env) {
    const creds = { ...source.env };
    return async () => creds;
  }
  const container = source.container!;
  let cached: AwsCredentials | undefined;
  return async () => {
    if (cached && (cached.expiration === undefined || cached.expiration - EARLY_REFRESH_MS > clock.now()))
      return cached;
    cached = await fetchContainerCredentials(container.fullUri, container.authorizationToken);
    return cached;
  };
}

async function fetchContainerCredentials(uri: string, token: string): Promise<AwsCredentials> {
  let res: HttpResult;
  try {
    res = await callJson(uri, { headers: { Authorization: token }, timeoutMs: 2_000 });
  } catch (cause) {
    throw new BridgeError("exchange_unavailable", "the container credentials endpoint is unreachable", {
      cause,
    });
  }
  if (res.status !== 200)
    throw new BridgeError(
      "exchange_unavailable",
      `the container credentials endpoint answered HTTP ${res.status}`,
    );
  const { AccessKeyId, SecretAccessKey, Token, Expiration } = (res.json ?? {}) as Record<string, unknown>;
  if (typeof AccessKeyId !== "string" || typeof SecretAccessKey !== "string")
    throw new BridgeError("exchange_unavailable", "the container credentials endpoint sent no keys");
  const expiration = typeof Expiration === "string" ? Date.parse(Expiration) : Number.NaN;
  return {
    accessKeyId: AccessKeyId,
    secretAccessKey: SecretAccessKey,
    ...(typeof Token === "string" && { sessionToken: Token }),
    ...(Number.isFinite(expiration) && { expiration }),
  };
}
