/**
 * svid-bridge/client: a Node.js function's SPIFFE identity, in one of two modes chosen by
 * configuration (source-from-env.ts), with one interface (SvidSource):
 *
 *   import { sharedSvidSource } from "svid-bridge/client";
 *   const svids = sharedSvidSource();
 *   await svids.prefetch();                     // optional: in the init phase (ESM top-level await)
 *   export const handler = async () => {
 *     const jwt = await svids.jwtSvid("https://api.example.org");
 *     …
 *   };
 *
 * - extension: the layer's extension holds the SVIDs; SvidBridgeClient asks its local API.
 * - in-process: InProcessSvidSource proves the function's role and calls the exchange
 *   itself; no layer, no second process.
 * The middy middlewares (svidBridge, verifyJwtSvid) work with either.
 */

export { type InProcessOverrides, inProcessSourceFromEnv } from "./in-process/from-env.js";
export { type InProcessSourceOptions, InProcessSvidSource } from "./in-process/in-process-source.js";
export {
  type CallerContext,
  type SvidBridgeMiddlewareOptions,
  type SvidContext,
  svidBridge,
  type VerifyJwtSvidOptions,
  verifyJwtSvid,
} from "./middy.js";
export {
  type SvidSourceMode,
  sharedSvidSource,
  svidSourceFromEnv,
  svidSourceMode,
} from "./source-from-env.js";
export { SvidBridgeClient, type SvidBridgeClientOptions } from "./svid-bridge-client.js";
export {
  type BundleDocument,
  type JwtSvid,
  SvidBridgeClientError,
  type SvidSource,
  type ValidatedJwtSvid,
  type X509Svid,
} from "./svid-source.js";
