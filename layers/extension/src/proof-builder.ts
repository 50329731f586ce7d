/**
 * The seam to the proof of identity (lib/proof, built on its own branch): the exchange
 * client asks for a proof bound to what one request asks for, and gets the proof JSON
 * the exchange expects. Wiring the real builder is one line in main.ts (see there).
 *
 * Until lib/proof lands, `interimProofBuilder` signs (and never sends) an
 * sts:GetCallerIdentity with @smithy/signature-v4, carrying the server-ID and binding
 * headers: enough for the fake exchange (which accepts any proof) and for measuring the
 * layer's size with the real signer inside. Its header names and binding hash are
 * placeholders for lib/proof's; the exchange will check lib/proof's, not these.
 */
import { createHash } from "node:crypto";
import { Sha256 } from "@aws-crypto/sha256-js";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import type { CredentialProvider } from "./credentials.js";

/** What a proof is bound to: the exchange recomputes it from the request it accompanies. */
export type ProofBinding =
  | { kind: "jwt"; audience: readonly string[]; spiffeId?: string }
  | { kind: "x509" /** DER SubjectPublicKeyInfo of the CSR's key. */; spki: Uint8Array };

export interface ProofBuilder {
  /** A fresh, single-use proof for one exchange request. */
  proofFor(binding: ProofBinding): Promise<unknown>;
}

const BODY = "Action=GetCallerIdentity&Version=2011-06-15";

/** Placeholder binding hash: base64url SHA-256 over a canonical JSON of the binding. */
export function interimBindingHash(binding: ProofBinding): string {
  const canonical =
    binding.kind === "jwt"
      ? JSON.stringify({ kind: "jwt", audience: [...binding.audience], spiffe_id: binding.spiffeId ?? null })
      : JSON.stringify({ kind: "x509", spki: Buffer.from(binding.spki).toString("base64") });
  return createHash("sha256").update(canonical).digest("base64url");
}

export function interimProofBuilder(options: {
  credentials: CredentialProvider;
  region: string;
  serverId: string;
}): ProofBuilder {
  const host = `sts.${options.region}.amazonaws.com`;
  return {
    async proofFor(binding) {
      const signer = new SignatureV4({
        service: "sts",
        region: options.region,
        credentials: async () => {
          const c = await options.credentials();
          return {
            accessKeyId: c.accessKeyId,
            secretAccessKey: c.secretAccessKey,
            ...(c.sessionToken && { sessionToken: c.sessionToken }),
          };
        },
        sha256: Sha256,
      });
      const signed = await signer.sign(
        new HttpRequest({
          method: "POST",
          protocol: "https:",
          hostname: host,
          path: "/",
          headers: {
            host,
            "content-type": "application/x-www-form-urlencoded; charset=utf-8",
            "x-svid-bridge-server-id": options.serverId,
            "x-svid-bridge-binding": interimBindingHash(binding),
          },
          body: BODY,
        }),
      );
      return { method: "POST", url: `https://${host}/`, headers: signed.headers, body: BODY };
    },
  };
}
