/**
 * GET /v1/bundle[?format=json|pem]: the trust domain's SPIFFE bundle (JWT authorities and
 * X.509 roots, the SPIFFE bundle format) or its X.509 roots as PEM.
 */
import type { SvidManager } from "../svid-manager.js";
import { format, json, type Reply, text } from "./http.js";

export async function bundleRoute(url: URL, manager: SvidManager): Promise<Reply> {
  const f = format(url, ["json", "pem"] as const);
  const bundle = await manager.bundle();
  if (f === "pem") return text(bundle.toX509Pem(), "application/x-pem-file");
  return json(await bundle.toDocument());
}
