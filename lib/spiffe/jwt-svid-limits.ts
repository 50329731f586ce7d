/**
 * The size cap on a JWT-SVID presented for validation, checked before any parsing: the
 * extension's local API (POST /v1/validate-jwt) and the in-process source apply the same.
 * Generous for a JWS of a few claims; an RS4096 token is under 2 KiB.
 */
export const MAX_JWT_SVID_LENGTH = 16_384;
