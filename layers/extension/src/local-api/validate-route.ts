/**
 * POST /v1/validate-jwt `{"token", "audience"}`: validates a JWT-SVID another service sent
 * against the bridge's bundle (lib/spiffe/jwt-svid.ts rules), with `iss` pinned to the
 * bridge's issuer (issue 14, fault 6: a token another issuer signed with a key the bundle
 * holds was accepted). 200 `{spiffe_id, claims}`; a bad token is 401 with the validator's
 * stable code.
 */
import { BridgeError } from "../../../../lib/errors.js";
import { validateJwtSvid } from "../../../../lib/spiffe/jwt-svid.js";
import { MAX_AUDIENCE_LENGTH, MAX_JWT_SVID_LENGTH } from "../../../../lib/spiffe/jwt-svid-limits.js";
import type { SvidManager } from "../svid-manager.js";
import { json, type Reply } from "./http.js";

export async function validateRoute(body: unknown, manager: SvidManager, issuer: string): Promise<Reply> {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw new BridgeError("invalid_request", 'send {"token", "audience"}');
  const { token, audience, ...rest } = body as Record<string, unknown>;
  const extra = Object.keys(rest)[0];
  if (extra !== undefined) throw new BridgeError("unknown_field", `unknown field ${JSON.stringify(extra)}`);
  if (typeof token !== "string" || token.length === 0 || token.length > MAX_JWT_SVID_LENGTH)
    throw new BridgeError("invalid_request", "token must be a JWT of at most 16 KiB");
  if (typeof audience !== "string" || audience.length === 0 || audience.length > MAX_AUDIENCE_LENGTH)
    throw new BridgeError("invalid_request", "audience must be a non-empty string");
  const bundle = await manager.bundle();
  const valid = await validateJwtSvid(token, {
    audience,
    bundles: bundle,
    trustDomains: [bundle.trustDomain],
    issuer,
  });
  return json({ spiffe_id: valid.spiffeId.toString(), claims: valid.claims });
}
