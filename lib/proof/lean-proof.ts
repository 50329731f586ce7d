/**
 * The client half of the proof with node:crypto only (lib/proof/sigv4.ts), for the
 * in-process client of Node.js functions: the same request as lib/proof/client.ts builds
 * (lib/proof/proof-request.ts), signed without @smithy/signature-v4, so a function's
 * bundle stays small. Same options, same output.
 */
import { type Clock, systemClock } from "../clock.js";
import type { Proof } from "./proof-format.js";
import { type UnsignedProofOptions, unsignedProof } from "./proof-request.js";
import { type SigV4Credentials, signSigV4 } from "./sigv4.js";

export interface LeanProofOptions extends UnsignedProofOptions {
  credentials: SigV4Credentials | (() => Promise<SigV4Credentials>);
  clock?: Clock;
}

export async function buildLeanProof(options: LeanProofOptions): Promise<Proof> {
  const unsigned = unsignedProof(options);
  const credentials =
    typeof options.credentials === "function" ? await options.credentials() : options.credentials;
  const signed = signSigV4(
    { method: "POST", path: "/", headers: unsigned.headers, body: unsigned.body },
    {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      ...(credentials.sessionToken !== undefined && { sessionToken: credentials.sessionToken }),
    },
    { region: unsigned.region, service: "sts", date: new Date((options.clock ?? systemClock).now()) },
  );
  return { method: "POST", headers: Object.entries(signed), body: unsigned.body };
}
