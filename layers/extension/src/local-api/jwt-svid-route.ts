/**
 * GET /v1/jwt-svid?audience=A[&format=json|token]: the JWT-SVID for one audience, from
 * the cache or minted on demand. JSON `{spiffe_id, token, audience, expires_at}`; `token`
 * is the bare JWT (for shell scripts and token-file readers).
 */
import { BridgeError } from "../../../../lib/errors.js";
import { audienceRule } from "../../../../lib/spiffe/jwt-svid-limits.js";
import type { SvidManager } from "../svid-manager.js";
import { format, json, type Reply, text } from "./http.js";

export async function jwtSvidRoute(url: URL, manager: SvidManager): Promise<Reply> {
  const audiences = url.searchParams.getAll("audience");
  if (audiences.length !== 1 || audiences[0]!.trim() === "")
    throw new BridgeError("invalid_request", "name exactly one audience: ?audience=…");
  const audience = audiences[0]!;
  const broken = audienceRule(audience);
  if (broken) throw new BridgeError("invalid_request", `the audience ${broken}`);
  const f = format(url, ["json", "token"] as const);
  const svid = await manager.jwtSvid(audience);
  if (f === "token") return text(svid.token, "application/jwt");
  return json({
    spiffe_id: svid.spiffeId,
    token: svid.token,
    audience: svid.audience,
    expires_at: svid.expiresAt,
  });
}
