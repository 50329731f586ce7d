/**
 * The function side of the extension's local API, for Node.js functions: no dependency,
 * nothing from lib/ but the error code table (a function's bundle stays small). One of the
 * two SvidSources. Reads the endpoint from
 * SVID_BRIDGE_ENDPOINT (set by the exec wrapper) and the guard token from the function's
 * own AWS_SESSION_TOKEN (or AWS_CONTAINER_AUTHORIZATION_TOKEN under SnapStart).
 */

import { ERROR_STATUS, isErrorCode } from "../../lib/errors.js";
import type { BundleDocument, JwtSvid, SvidSource, ValidatedJwtSvid, X509Svid } from "./svid-source.js";
import { SvidBridgeClientError } from "./svid-source.js";

export const DEFAULT_ENDPOINT = "http://127.0.0.1:2775";
export const TOKEN_HEADER = "X-Svid-Bridge-Token";

export type { BundleDocument, JwtSvid, ValidatedJwtSvid, X509Svid } from "./svid-source.js";
export { SvidBridgeClientError };

export interface SvidBridgeClientOptions {
  endpoint?: string;
  token?: string;
  timeoutMs?: number;
  env?: Record<string, string | undefined>;
}

export class SvidBridgeClient implements SvidSource {
  readonly mode = "extension";
  readonly endpoint: string;
  readonly #token: string;
  readonly #timeoutMs: number;

  constructor(options: SvidBridgeClientOptions = {}) {
    const env = options.env ?? process.env;
    this.endpoint = (
      options.endpoint ??
      env.SVID_BRIDGE_ENDPOINT ??
      (env.SVID_BRIDGE_HTTP_PORT ? `http://127.0.0.1:${env.SVID_BRIDGE_HTTP_PORT}` : DEFAULT_ENDPOINT)
    ).replace(/\/+$/, "");
    const token = options.token ?? env.AWS_SESSION_TOKEN ?? env.AWS_CONTAINER_AUTHORIZATION_TOKEN;
    if (!token)
      throw new SvidBridgeClientError(
        "config_invalid",
        0,
        "no AWS_SESSION_TOKEN: is this running in Lambda?",
      );
    this.#token = token;
    this.#timeoutMs = options.timeoutMs ?? 5_000;
  }

  async jwtSvid(audience: string): Promise<JwtSvid> {
    const b = await this.#call<Record<string, unknown>>(
      `/v1/jwt-svid?audience=${encodeURIComponent(audience)}`,
    );
    return {
      spiffeId: b.spiffe_id as string,
      token: b.token as string,
      audience: b.audience as string,
      expiresAt: b.expires_at as number,
    };
  }

  async x509Svid(): Promise<X509Svid> {
    const b = await this.#call<Record<string, unknown>>("/v1/x509-svid");
    return {
      spiffeId: b.spiffe_id as string,
      certificateChain: b.certificate_chain as string,
      privateKey: b.private_key as string,
      bundle: b.bundle as string,
      expiresAt: b.expires_at as number,
    };
  }

  /** The SPIFFE bundle document (JWT authorities and X.509 roots). */
  bundle(): Promise<BundleDocument> {
    return this.#call("/v1/bundle");
  }

  async validateJwtSvid(token: string, audience: string): Promise<ValidatedJwtSvid> {
    const b = await this.#call<{ spiffe_id: string; claims: Record<string, unknown> }>("/v1/validate-jwt", {
      token,
      audience,
    });
    return { spiffeId: b.spiffe_id, claims: b.claims };
  }

  /** The extension fetched the configured SVIDs in its own init: nothing to do. */
  async prefetch(): Promise<void> {}

  async #call<T>(path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.endpoint}${path}`, {
        method: body === undefined ? "GET" : "POST",
        headers: {
          [TOKEN_HEADER]: this.#token,
          ...(body !== undefined && { "content-type": "application/json" }),
        },
        ...(body !== undefined && { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (cause) {
      throw new SvidBridgeClientError(
        "extension_unreachable",
        0,
        `the svid-bridge extension is unreachable: ${cause}`,
      );
    }
    const json = (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined;
    if (!res.ok) throw refusalOf(res.status, json);
    return json as T;
  }
}

/**
 * A local API refusal as the function sees it, with the code the in-process source gives
 * for the same refusal: the exchange's own code and status when the exchange refused this
 * function (`exchange_rejected` with `upstream`), else the local API's. Never a code made
 * up from the status: an answer without one of our codes is `extension_unreachable`.
 */
function refusalOf(status: number, json: Record<string, unknown> | undefined): SvidBridgeClientError {
  const message = typeof json?.message === "string" ? json.message : `HTTP ${status}`;
  if (json?.error === "exchange_rejected" && isErrorCode(json.upstream))
    return new SvidBridgeClientError(json.upstream, ERROR_STATUS[json.upstream], message);
  if (isErrorCode(json?.error)) return new SvidBridgeClientError(json.error, status, message);
  return new SvidBridgeClientError(
    "extension_unreachable",
    status,
    `the svid-bridge extension's local API did not answer with an error code (HTTP ${status}): ${message}`,
  );
}
