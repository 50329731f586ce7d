/**
 * The SSRF guard: every request must carry the function's own secret (AWS_SESSION_TOKEN,
 * or AWS_CONTAINER_AUTHORIZATION_TOKEN where that is what the sandbox has) in
 * X-Svid-Bridge-Token. A server-side request forgery through the function cannot set
 * that header. Compared in constant time over fixed-length digests.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

export const TOKEN_HEADER = "x-svid-bridge-token";

export function tokenGuard(expected: string): (req: IncomingMessage) => boolean {
  const want = createHash("sha256").update(expected).digest();
  return (req) => {
    const got = req.headers[TOKEN_HEADER];
    if (typeof got !== "string" || got.length === 0) return false;
    return timingSafeEqual(createHash("sha256").update(got).digest(), want);
  };
}
