/**
 * Client half of the proof: sign an sts:GetCallerIdentity with the caller's own AWS
 * credentials and do not send it. Uses the SigV4 signer alone (no STS client) so the
 * Lambda extension's bundle stays small; where the credentials come from is the
 * caller's choice (pass `fromNodeProviderChain()` or static credentials).
 */
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { type Clock, systemClock } from "../clock.js";
import { NodeSha256 } from "../crypto/node-sha256.js";
import type { Proof } from "./proof-format.js";
import { type UnsignedProofOptions, unsignedProof } from "./proof-request.js";

/** AWS credentials as every SDK credential provider resolves them. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

/** Static credentials, or a provider such as `fromNodeProviderChain()` (it caches and refreshes). */
export type CredentialSource = AwsCredentials | (() => Promise<AwsCredentials>);

export interface BuildProofOptions extends UnsignedProofOptions {
  credentials: CredentialSource;
  clock?: Clock;
}

export async function buildProof(options: BuildProofOptions): Promise<Proof> {
  const unsigned = unsignedProof(options);
  const signer = new SignatureV4({
    service: "sts",
    region: unsigned.region,
    credentials: options.credentials,
    sha256: NodeSha256,
    // STS computes the payload hash itself; an x-amz-content-sha256 header would only add bytes.
    applyChecksum: false,
  });
  const request = new HttpRequest({
    method: "POST",
    protocol: "https:",
    hostname: unsigned.host,
    path: "/",
    headers: unsigned.headers,
    body: unsigned.body,
  });
  const signed = await signer.sign(request, {
    signingDate: new Date((options.clock ?? systemClock).now()),
  });
  const headers = Object.entries(signed.headers).map(
    ([name, value]) => [name.toLowerCase(), String(value)] as [string, string],
  );
  return { method: "POST", headers, body: unsigned.body };
}
