/**
 * The proof before it is signed: which STS host and signing region it names and which
 * headers it carries (host, content type, the bridge's server ID, the binding, a fresh
 * nonce) around the fixed GetCallerIdentity body. One source for every signer of proofs:
 * lib/proof/client.ts (@smithy/signature-v4, the extension and the CLI) and
 * lib/proof/lean-proof.ts (node:crypto only, the in-process client).
 */
import { randomBytes } from "node:crypto";
import {
  DEFAULT_BINDING_HEADER,
  DEFAULT_SERVER_ID_HEADER,
  FORM_CONTENT_TYPE,
  GET_CALLER_IDENTITY_BODY,
  NONCE_HEADER,
} from "./proof-format.js";
import { GLOBAL_STS_HOST, GLOBAL_STS_REGION, regionalStsHost } from "./sts-endpoints.js";

export interface UnsignedProofOptions {
  /** The caller's region: the proof names the regional STS endpoint of it. */
  region: string;
  /** The bridge's identifier (e.g. its issuer URL): a proof for one bridge is useless at another. */
  serverId: string;
  /** From jwtBinding() or x509Binding(): what this exchange request asks for. */
  binding: string;
  serverIdHeader?: string;
  bindingHeader?: string;
  /** Sign for the global endpoint (sts.amazonaws.com, scope us-east-1) instead. Default false. */
  global?: boolean;
}

export interface UnsignedProof {
  /** The SigV4 signing region. */
  region: string;
  host: string;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: string;
}

export function unsignedProof(options: UnsignedProofOptions): UnsignedProof {
  const region = options.global ? GLOBAL_STS_REGION : options.region;
  const host = options.global ? GLOBAL_STS_HOST : regionalStsHost(options.region);
  return {
    region,
    host,
    headers: {
      host,
      "content-type": FORM_CONTENT_TYPE,
      [(options.serverIdHeader ?? DEFAULT_SERVER_ID_HEADER).toLowerCase()]: options.serverId,
      [(options.bindingHeader ?? DEFAULT_BINDING_HEADER).toLowerCase()]: options.binding,
      // SigV4 is deterministic: without it two proofs in the same second are one proof.
      [NONCE_HEADER]: randomBytes(16).toString("base64url"),
    },
    body: GET_CALLER_IDENTITY_BODY,
  };
}
