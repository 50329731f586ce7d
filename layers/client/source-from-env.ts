/**
 * Which SvidSource serves this function: configuration, not code.
 *
 *   SVID_BRIDGE_MODE=extension|in-process   explicit;
 *   otherwise "extension" when the layer's exec wrapper set SVID_BRIDGE_ENDPOINT, and
 *   "in-process" when only SVID_BRIDGE_URL (the exchange) is set: no layer attached.
 *
 * The same handler code runs in either mode; `sharedSvidSource()` is the one per process
 * that the middy middlewares use unless given another.
 */
import { BridgeError } from "../../lib/errors.js";
import { inProcessSourceFromEnv } from "./in-process/from-env.js";
import { SvidBridgeClient } from "./svid-bridge-client.js";
import { SvidBridgeClientError, type SvidSource } from "./svid-source.js";

export type SvidSourceMode = SvidSource["mode"];

type Env = Record<string, string | undefined>;

export function svidSourceMode(env: Env = process.env): SvidSourceMode {
  const mode = env.SVID_BRIDGE_MODE?.trim().toLowerCase();
  if (mode === "extension" || mode === "in-process") return mode;
  if (mode)
    throw new SvidBridgeClientError(
      "config_invalid",
      0,
      `SVID_BRIDGE_MODE must be extension or in-process, not ${JSON.stringify(mode)}`,
    );
  if (env.SVID_BRIDGE_ENDPOINT) return "extension";
  return env.SVID_BRIDGE_URL ? "in-process" : "extension";
}

/** A new source for this environment. Configuration errors throw `config_invalid`, naming the variable. */
export function svidSourceFromEnv(env: Env = process.env): SvidSource {
  if (svidSourceMode(env) === "extension") return new SvidBridgeClient({ env });
  try {
    return inProcessSourceFromEnv(env);
  } catch (error) {
    if (error instanceof BridgeError)
      throw new SvidBridgeClientError(error.code, 0, error.message, { cause: error });
    throw error;
  }
}

let shared: SvidSource | undefined;

/** The process's one source (made from process.env on first call): one cache for every caller. */
export function sharedSvidSource(): SvidSource {
  shared ??= svidSourceFromEnv();
  return shared;
}
