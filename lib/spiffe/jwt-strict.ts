/**
 * Token checks that make the JWT-SVID validator as strict as its signer (issue 14,
 * fault 6). The signer writes each JSON member once and `exp` at most the longest
 * lifetime the bridge issues ahead; a validator that let the last of two `alg` or `sub`
 * members win, or took an `exp` of 1e20, would accept what no bridge ever signed.
 *
 * Duplicate members: RFC 7515 §5.2 and RFC 7519 §4 say a JOSE header or claims set with
 * duplicate names MUST be rejected (or the last taken); we reject. JSON.parse keeps the
 * last, so lib/strict-json.ts scans the decoded JSON text for a repeated member name.
 */
import { BridgeError } from "../errors.js";
import { findDuplicateMember } from "../strict-json.js";

export { findDuplicateMember };

function refuse(code: "jwt_header_invalid" | "jwt_claims_invalid" | "jwt_malformed", message: string): never {
  throw new BridgeError(code, message);
}

/**
 * Refuses a JWS whose header or claims JSON (the decoded segments, valid JSON text)
 * repeats a member name (401 jwt_header_invalid / jwt_claims_invalid).
 */
export function assertNoDuplicateMembers(headerJson: string, claimsJson: string): void {
  const inHeader = findDuplicateMember(headerJson);
  if (inHeader !== undefined)
    refuse("jwt_header_invalid", `the header has member ${JSON.stringify(inHeader)} twice`);
  const inClaims = findDuplicateMember(claimsJson);
  if (inClaims !== undefined)
    refuse("jwt_claims_invalid", `the claims have member ${JSON.stringify(inClaims)} twice`);
}

/**
 * Refuses (401 jwt_claims_invalid) an `exp` further ahead of `nowSeconds` than
 * `maxLifetimeSeconds` + `skewSeconds`: no signer this validator trusts issues one.
 */
export function assertExpWithin(
  exp: unknown,
  nowSeconds: number,
  maxLifetimeSeconds: number,
  skewSeconds: number,
): void {
  if (typeof exp !== "number" || !Number.isFinite(exp)) refuse("jwt_claims_invalid", "exp must be a number");
  if (exp > nowSeconds + maxLifetimeSeconds + skewSeconds)
    refuse(
      "jwt_claims_invalid",
      `exp is more than ${maxLifetimeSeconds} s (the longest lifetime issued) plus ${skewSeconds} s ahead`,
    );
}
