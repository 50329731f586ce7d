/**
 * Shared pieces for the proof tests: dev principals, a frozen time, and a raw signer
 * that can make the malformed proofs the client half never would (unsigned headers,
 * other bodies, other methods) with a real SigV4 signature.
 */

import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { expect } from "vitest";
import { NodeSha256 as Sha256 } from "../../lib/crypto/node-sha256.js";
import { BridgeError } from "../../lib/errors.js";
import type { DevPrincipal } from "../../lib/local/sts-server.js";
import {
  DEFAULT_BINDING_HEADER,
  DEFAULT_SERVER_ID_HEADER,
  FORM_CONTENT_TYPE,
  GET_CALLER_IDENTITY_BODY,
  type Proof,
} from "../../lib/proof/proof-format.js";

export const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
export const SERVER_ID = "https://svid.example.org";

export const ROLE: DevPrincipal = {
  accessKeyId: "ASIAFAKEROLE00000001",
  secretAccessKey: "role-secret-0000000000000000000000000000",
  sessionToken: "IQoJb3JpZ2luX2VjEFAKESESSIONTOKEN////////",
  arn: "arn:aws:sts::111122223333:assumed-role/app-role/my-function",
  userId: "AROAFAKEROLEID000001:my-function",
};

export const USER: DevPrincipal = {
  accessKeyId: "AKIAFAKEUSER00000001",
  secretAccessKey: "user-secret-0000000000000000000000000000",
  arn: "arn:aws:iam::111122223333:user/dev/alice",
  userId: "AIDAFAKEUSERID000001",
};

export const EXPIRED: DevPrincipal = {
  ...ROLE,
  accessKeyId: "ASIAFAKEEXPIRED00001",
  expired: true,
};

export interface RawSignOptions {
  principal?: DevPrincipal;
  region?: string;
  host?: string;
  method?: string;
  body?: string;
  /** Headers to add before signing (names lower-case). */
  headers?: Record<string, string>;
  /** Header names to leave out of the signature, though they are sent. */
  unsigned?: string[];
  at?: number;
  serverId?: string | null;
  binding?: string | null;
}

/** Signs like the client half, but lets a test choose every part. */
export async function rawProof(options: RawSignOptions = {}): Promise<Proof> {
  const principal = options.principal ?? ROLE;
  const region = options.region ?? "eu-west-1";
  const host = options.host ?? `sts.${region}.amazonaws.com`;
  const headers: Record<string, string> = { host, "content-type": FORM_CONTENT_TYPE };
  if (options.serverId !== null) headers[DEFAULT_SERVER_ID_HEADER] = options.serverId ?? SERVER_ID;
  if (options.binding !== null) headers[DEFAULT_BINDING_HEADER] = options.binding ?? "";
  Object.assign(headers, options.headers);
  const signer = new SignatureV4({
    service: "sts",
    region,
    credentials: principal,
    sha256: Sha256,
    applyChecksum: false,
  });
  const signed = await signer.sign(
    new HttpRequest({
      method: options.method ?? "POST",
      hostname: host,
      path: "/",
      headers,
      body: options.body ?? GET_CALLER_IDENTITY_BODY,
    }),
    {
      signingDate: new Date(options.at ?? T0),
      ...(options.unsigned && { unsignableHeaders: new Set(options.unsigned) }),
    },
  );
  return {
    method: options.method ?? "POST",
    headers: Object.entries(signed.headers).map(([k, v]) => [k, String(v)] as [string, string]),
    body: options.body ?? GET_CALLER_IDENTITY_BODY,
  };
}

export function setHeader(proof: Proof, name: string, value: string): Proof {
  return {
    ...proof,
    headers: proof.headers.map(([n, v]) => [n, n === name ? value : v] as [string, string]),
  };
}

export function dropHeader(proof: Proof, name: string): Proof {
  return { ...proof, headers: proof.headers.filter(([n]) => n !== name) };
}

export function addHeader(proof: Proof, name: string, value: string): Proof {
  return { ...proof, headers: [...proof.headers, [name, value]] };
}

export function header(proof: Proof, name: string): string {
  return proof.headers.find(([n]) => n === name)![1];
}

export async function expectRefusal(
  promise: Promise<unknown>,
  code: string,
  rule?: string,
): Promise<BridgeError> {
  const error = await promise.then(
    () => {
      throw new Error(`expected a refusal with ${code}, but the proof was accepted`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BridgeError);
  const bridgeError = error as BridgeError;
  expect({ code: bridgeError.code, rule: bridgeError.details?.rule }).toEqual({
    code,
    rule: rule ?? bridgeError.details?.rule,
  });
  expect(bridgeError.status).toBeLessThan(
    code === "sts_unavailable" || code === "store_unavailable" ? 600 : 500,
  );
  return bridgeError;
}
