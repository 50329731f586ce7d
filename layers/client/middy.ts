/**
 * middy middlewares, for either SvidSource (the layer's extension, or in process: see
 * source-from-env.ts; by default the process's shared source):
 * - `svidBridge()` puts the function's SVIDs on the handler's context
 *   (`context.svid.jwt` for a configured audience, `context.svid.x509`);
 * - `verifyJwtSvid()` checks the JWT-SVID an incoming request carries
 *   (`Authorization: Bearer …`) against the bridge's bundle,
 *   puts the caller on `context.caller`, and answers 401 `{error, message}` otherwise.
 */
import type { MiddlewareObj } from "@middy/core";
import { sharedSvidSource } from "./source-from-env.js";
import {
  type JwtSvid,
  SvidBridgeClientError,
  type SvidSource,
  type ValidatedJwtSvid,
  type X509Svid,
} from "./svid-source.js";

export interface SvidContext {
  svid: { jwt?: JwtSvid; x509?: X509Svid };
}

export interface CallerContext {
  caller: ValidatedJwtSvid;
}

export interface SvidBridgeMiddlewareOptions {
  /** Fetch a JWT-SVID for this audience before the handler runs. */
  audience?: string;
  /** Fetch the X.509-SVID (with key and bundle) before the handler runs. */
  x509?: boolean;
  /** Default: sharedSvidSource(), the mode the environment names. */
  client?: SvidSource;
}

export function svidBridge(options: SvidBridgeMiddlewareOptions = {}): MiddlewareObj {
  let client = options.client;
  return {
    before: async (request) => {
      client ??= sharedSvidSource();
      const svid: SvidContext["svid"] = {};
      const [jwt, x509] = await Promise.all([
        options.audience ? client.jwtSvid(options.audience) : undefined,
        options.x509 ? client.x509Svid() : undefined,
      ]);
      if (jwt) svid.jwt = jwt;
      if (x509) svid.x509 = x509;
      Object.assign(request.context as object, { svid });
    },
  };
}

export interface VerifyJwtSvidOptions {
  /** This function's own audience: the token's `aud` must contain it. */
  audience: string;
  /** Default "authorization" (a Bearer token). */
  header?: string;
  /** Default: sharedSvidSource(), the mode the environment names. */
  client?: SvidSource;
}

function unauthorized(code: string, message: string) {
  return {
    statusCode: 401,
    headers: { "content-type": "application/json", "www-authenticate": "Bearer" },
    body: JSON.stringify({ error: code, message }),
  };
}

export function verifyJwtSvid(options: VerifyJwtSvidOptions): MiddlewareObj {
  let client = options.client;
  const header = (options.header ?? "authorization").toLowerCase();
  return {
    before: async (request) => {
      client ??= sharedSvidSource();
      const headers = ((request.event as { headers?: Record<string, string | undefined> })?.headers ??
        {}) as Record<string, string | undefined>;
      const raw = Object.entries(headers).find(([k]) => k.toLowerCase() === header)?.[1];
      const token = header === "authorization" ? /^Bearer\s+(\S+)$/i.exec(raw ?? "")?.[1] : raw;
      if (!token) return unauthorized("unauthorized", `send a JWT-SVID in ${header}`);
      try {
        const caller = await client.validateJwtSvid(token, options.audience);
        Object.assign(request.context as object, { caller });
      } catch (error) {
        // A token the bridge refuses is the caller's fault; an unreachable bridge is ours.
        // (400: the extension's local API refused the token's shape before validating it.)
        if (error instanceof SvidBridgeClientError && (error.status === 401 || error.status === 400))
          return unauthorized(error.code, error.message);
        throw error;
      }
      return undefined;
    },
  };
}
