/**
 * SVID lifetime ceilings, seconds, each defined once (issue 17): the exchange's and the
 * rotation's configuration, the exchange's defaults, the registration validator and the
 * JWT-SVID validator read them here. The rotation keeps a retired JWT key published for
 * the longest JWT-SVID the exchange mints, so both must use the same default.
 */

/** The longest JWT-SVID lifetime the bridge issues (SVID_BRIDGE_MAX_JWT_TTL's upper bound). */
export const MAX_JWT_SVID_TTL_SECONDS = 48 * 3600;
/** SVID_BRIDGE_MAX_JWT_TTL's default: the exchange's cap and the rotation's publication window. */
export const DEFAULT_MAX_JWT_TTL_SECONDS = 3600;
/** The longest X.509-SVID lifetime the bridge issues (SVID_BRIDGE_MAX_X509_TTL's upper bound). */
export const MAX_X509_SVID_TTL_SECONDS = 7 * 86_400;
/** SVID_BRIDGE_MAX_X509_TTL's default. */
export const DEFAULT_MAX_X509_TTL_SECONDS = 86_400;
