/**
 * The limits on JWT-SVIDs that several modules apply, each defined once (issue 17): the
 * exchange's request parser, the registration validator, the extension's local API,
 * Workload API and configuration, and the in-process source all import them from here.
 */

/**
 * The size cap on a JWT-SVID presented for validation, checked before any parsing.
 * Generous for a JWS of a few claims; an RS4096 token is under 2 KiB.
 */
export const MAX_JWT_SVID_LENGTH = 16_384;

/** The longest audience: AWS STS's own limit for an audience (a web identity token's `aud`). */
export const MAX_AUDIENCE_LENGTH = 1000;
/** How many audiences one JWT-SVID may carry (one exchange ask, one FetchJWTSVID). */
export const MAX_AUDIENCES = 10;
/** How many audiences' JWT-SVIDs a sandbox keeps (the extension's manager, the in-process source). */
export const MAX_CACHED_AUDIENCES = 64;
const AUDIENCE_CHARS = /^[\x21-\x7e]+$/;

/**
 * The one audience rule: 1–1000 printable ASCII characters, no spaces. What a request may
 * ask for and what a registration may allow are the same set, so no entry allows an
 * audience no request can name.
 * @returns why `value` is not an audience, or undefined when it is one.
 */
export function audienceRule(value: string): string | undefined {
  if (value.length === 0) return "must not be empty";
  if (value.length > MAX_AUDIENCE_LENGTH) return `must be at most ${MAX_AUDIENCE_LENGTH} characters`;
  if (!AUDIENCE_CHARS.test(value)) return "may contain only printable ASCII without spaces";
  return undefined;
}
