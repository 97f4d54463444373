import { errors, type JWTVerifyGetKey, jwtVerify } from "jose";

/**
 * Buyer identity: an OpenID Connect bearer token (ID token or JWT access token) from the configured
 * issuer, checked against the issuer's published keys.
 */

/** A key resolver: jose's `createLocalJWKSet(jwks)` or `createRemoteJWKSet(url)`. */
export type JWKSGetter = JWTVerifyGetKey;

/**
 * Asymmetric algorithms only: an HMAC token could be forged by anyone who knows the "secret", which
 * for a public JWKS would be the public key itself (the classic alg-confusion attack); "none" is
 * never accepted by jwtVerify.
 */
export const BUYER_TOKEN_ALGORITHMS = ["EdDSA", "ES256", "RS256"] as const;

/** Default allowance for clock skew between the issuer and the provider, in seconds. */
export const BUYER_CLOCK_TOLERANCE_S = 30;

/** Bearer tokens are a few hundred bytes; refuse anything absurd before base64-decoding it. */
export const BUYER_TOKEN_CHARS_MAX = 16 * 1024;

export interface Buyer {
  /** The issuer's stable subject identifier: the buyer id orders are filed under. */
  sub: string;
  name?: string;
  email?: string;
}

/**
 * `unavailable` marks failures that are not the token's fault (the issuer's keys could not be
 * fetched): the caller answers 503 rather than telling a buyer their good token is bad.
 */
export type BuyerResult =
  | { ok: true; buyer: Buyer }
  | { ok: false; reason: string; unavailable?: true };

export interface BuyerVerifierOptions {
  issuer: string;
  audience: string;
  jwks: JWKSGetter;
  /** Wall clock in ms; jose reads the system clock when absent. */
  now?: () => number;
  clockToleranceS?: number;
}

export interface BuyerVerifier {
  verify(token: string): Promise<BuyerResult>;
}

export function createBuyerVerifier(opts: BuyerVerifierOptions): BuyerVerifier {
  const tolerance = opts.clockToleranceS ?? BUYER_CLOCK_TOLERANCE_S;
  return {
    async verify(token) {
      if (token.length > BUYER_TOKEN_CHARS_MAX) return { ok: false, reason: "token too large" };
      try {
        const { payload } = await jwtVerify(token, opts.jwks, {
          issuer: opts.issuer,
          audience: opts.audience,
          algorithms: [...BUYER_TOKEN_ALGORITHMS],
          requiredClaims: ["exp", "sub"],
          clockTolerance: tolerance,
          ...(opts.now ? { currentDate: new Date(opts.now()) } : {}),
        });
        const sub = payload.sub;
        if (typeof sub !== "string" || sub.length === 0) return { ok: false, reason: "no subject" };
        const buyer: Buyer = { sub };
        if (typeof payload.name === "string") buyer.name = payload.name;
        if (typeof payload.email === "string") buyer.email = payload.email;
        return { ok: true, buyer };
      } catch (e) {
        return { ok: false, ...joseReason(e) };
      }
    },
  };
}

/** A short, client-safe reason for a jose failure (never a stack or key material). */
export function joseReason(e: unknown): { reason: string; unavailable?: true } {
  if (e instanceof errors.JWTExpired) return { reason: "expired" };
  if (e instanceof errors.JWTClaimValidationFailed) {
    return { reason: e.claim === "nbf" ? "not yet valid" : `invalid ${e.claim} claim` };
  }
  if (e instanceof errors.JOSEAlgNotAllowed) return { reason: "algorithm not allowed" };
  if (e instanceof errors.JWSSignatureVerificationFailed) return { reason: "bad signature" };
  if (e instanceof errors.JWKSNoMatchingKey) return { reason: "unknown signing key" };
  // Fetching or parsing the issuer's JWKS failed (jose reports that as a bare JOSEError, a
  // timeout, or lets the fetch error through): nothing is known about the token itself.
  if (
    e instanceof errors.JWKSTimeout ||
    e instanceof errors.JWKSInvalid ||
    !(e instanceof errors.JOSEError) ||
    e.code === errors.JOSEError.code
  ) {
    return { reason: "issuer keys unavailable", unavailable: true };
  }
  return { reason: "malformed token" };
}
