/**
 * GET /v1/x509-svid[?format=json|pem]: the X.509-SVID, its private key and the bundle.
 * JSON `{spiffe_id, certificate_chain, private_key, bundle, expires_at}` (PEM strings);
 * `pem` is one PEM stream: chain (leaf first), then the key.
 */
import type { SvidManager } from "../svid-manager.js";
import { format, json, type Reply, text } from "./http.js";

export async function x509SvidRoute(url: URL, manager: SvidManager): Promise<Reply> {
  const f = format(url, ["json", "pem"] as const);
  const svid = await manager.x509Svid();
  if (f === "pem")
    return text(`${svid.certificateChainPem.trimEnd()}\n${svid.privateKeyPem}`, "application/x-pem-file");
  return json({
    spiffe_id: svid.spiffeId,
    certificate_chain: svid.certificateChainPem,
    private_key: svid.privateKeyPem,
    bundle: svid.bundlePem,
    expires_at: svid.expiresAt,
  });
}
