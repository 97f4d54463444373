/* What the pages and the SDK need to know of the development identity provider (routes/idp.ts)
 * without mounting it. */

/** Where the dev IdP is mounted on every provider when it is on. */
export const IDP_BASE = "/idp";
/** Default `aud` of access tokens when the caller does not name one. */
export const DEV_IDP_AUDIENCE = "tessera";
/** One hour: long enough for a manual session, short enough to exercise refresh-by-login. */
export const DEV_TOKEN_TTL_S = 3600;
