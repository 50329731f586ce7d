/**
 * Client half of the proof: sign an sts:GetCallerIdentity with the caller's own AWS
 * credentials and do not send it. Uses the SigV4 signer alone (no STS client) so the
 * Lambda extension's bundle stays small; where the credentials come from is the
 * caller's choice (pass `fromNodeProviderChain()` or static credentials).
 */
import { randomBytes } from "node:crypto";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { type Clock, systemClock } from "../clock.js";
import { NodeSha256 } from "../crypto/node-sha256.js";
import {
  DEFAULT_BINDING_HEADER,
  DEFAULT_SERVER_ID_HEADER,
  FORM_CONTENT_TYPE,
  GET_CALLER_IDENTITY_BODY,
  NONCE_HEADER,
  type Proof,
} from "./proof-format.js";
import { GLOBAL_STS_HOST, GLOBAL_STS_REGION, regionalStsHost } from "./sts-endpoints.js";

/** AWS credentials as every SDK credential provider resolves them. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

/** Static credentials, or a provider such as `fromNodeProviderChain()` (it caches and refreshes). */
export type CredentialSource = AwsCredentials | (() => Promise<AwsCredentials>);

export interface BuildProofOptions {
  /** The caller's region: the proof names the regional STS endpoint of it. */
  region: string;
  credentials: CredentialSource;
  /** The bridge's identifier (e.g. its issuer URL): a proof for one bridge is useless at another. */
  serverId: string;
  /** From jwtBinding() or x509Binding(): what this exchange request asks for. */
  binding: string;
  serverIdHeader?: string;
  bindingHeader?: string;
  /** Sign for the global endpoint (sts.amazonaws.com, scope us-east-1) instead. Default false. */
  global?: boolean;
  clock?: Clock;
}

export async function buildProof(options: BuildProofOptions): Promise<Proof> {
  const region = options.global ? GLOBAL_STS_REGION : options.region;
  const host = options.global ? GLOBAL_STS_HOST : regionalStsHost(options.region);
  const signer = new SignatureV4({
    service: "sts",
    region,
    credentials: options.credentials,
    sha256: NodeSha256,
    // STS computes the payload hash itself; an x-amz-content-sha256 header would only add bytes.
    applyChecksum: false,
  });
  const request = new HttpRequest({
    method: "POST",
    protocol: "https:",
    hostname: host,
    path: "/",
    headers: {
      host,
      "content-type": FORM_CONTENT_TYPE,
      [(options.serverIdHeader ?? DEFAULT_SERVER_ID_HEADER).toLowerCase()]: options.serverId,
      [(options.bindingHeader ?? DEFAULT_BINDING_HEADER).toLowerCase()]: options.binding,
      [NONCE_HEADER]: randomBytes(16).toString("base64url"),
    },
    body: GET_CALLER_IDENTITY_BODY,
  });
  const signed = await signer.sign(request, {
    signingDate: new Date((options.clock ?? systemClock).now()),
  });
  const headers = Object.entries(signed.headers).map(
    ([name, value]) => [name.toLowerCase(), String(value)] as [string, string],
  );
  return { method: "POST", headers, body: GET_CALLER_IDENTITY_BODY };
}
