import { decodeJwt, decodeProtectedHeader, importJWK, jwtVerify, SignJWT } from "jose";
import { z } from "zod";
import type { PrivateJwk, PublicJwk } from "../config.ts";
import { LICENSE_CHARS_MAX, type LicenseFailure, type Revoked, verifyLicense } from "./license.ts";
import { joseReason } from "./oidc.ts";

/**
 * Theater management tokens: a short-lived JWS signed with the theater's own key, carrying its
 * license in the protected header (`lic`, the way `x5c` carries a certificate chain). Claims bind
 * it to one HTTP method, path and query string, like a DPoP proof (RFC 9449) plus the query
 * (`htq`, absent for none), so a token seen in a log is useless for any other call; within its
 * lifetime it may be replayed against the same method, path and query.
 */

export const THEATER_TOKEN_TYP = "tessera-theater+jwt";
/** Upper bound on a token's lifetime: short enough that replay and a stolen token age out fast. */
export const THEATER_TOKEN_TTL_MAX_S = 300;
export const THEATER_TOKEN_TTL_DEFAULT_S = 120;
/** Skew allowed between a theater's clock and a provider's, in seconds. */
export const THEATER_TOKEN_CLOCK_TOLERANCE_S = 30;
/** The license plus a few claims and a signature; anything far larger is not ours. */
export const THEATER_TOKEN_CHARS_MAX = LICENSE_CHARS_MAX * 2;

const TokenClaims = z.object({
  sub: z.string().min(1),
  iat: z.number().int(),
  exp: z.number().int(),
  jti: z.string().min(1).max(128),
  htm: z.string().min(1),
  htu: z.string().startsWith("/"),
  /** The raw query string without "?"; absent when the request has none. */
  htq: z.string().min(1).max(2048).optional(),
});

export interface CreateTheaterTokenInput {
  license: string;
  theaterKey: PrivateJwk;
  method: string;
  /** Request path and query as the server sees them (no scheme or host), e.g.
   * "/v1/manage/events?limit=100"; the query is bound as `htq`. */
  path: string;
  /** ms since the epoch. */
  now: number;
  ttlS?: number;
  /** Token id; a fresh UUID when absent. */
  jti?: string;
}

export async function createTheaterToken(input: CreateTheaterTokenInput): Promise<string> {
  const ttl = input.ttlS ?? THEATER_TOKEN_TTL_DEFAULT_S;
  if (!Number.isInteger(ttl) || ttl <= 0 || ttl > THEATER_TOKEN_TTL_MAX_S) {
    throw new Error(`theater token lifetime must be 1..${THEATER_TOKEN_TTL_MAX_S} s`);
  }
  if (!input.path.startsWith("/")) throw new Error("path must start with /");
  // The subject is the license's; read it without verifying (the verifier will).
  const sub = decodeJwt(input.license).sub;
  if (!sub) throw new Error("license has no subject");
  const iat = Math.floor(input.now / 1000);
  const key = await importJWK({ ...input.theaterKey }, "EdDSA");
  const q = input.path.indexOf("?");
  const htu = q < 0 ? input.path : input.path.slice(0, q);
  const htq = q < 0 ? "" : input.path.slice(q + 1);
  return new SignJWT({ htm: input.method.toUpperCase(), htu, ...(htq ? { htq } : {}) })
    .setProtectedHeader({
      alg: "EdDSA",
      typ: THEATER_TOKEN_TYP,
      kid: input.theaterKey.kid,
      lic: input.license,
    })
    .setSubject(sub)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttl)
    .setJti(input.jti ?? crypto.randomUUID())
    .sign(key);
}

export interface Theater {
  id: string;
  name: string;
  scopes: string[];
  licenseId: string;
}

export type TheaterTokenFailure =
  | LicenseFailure
  | "malformed-token"
  | "bad-token-signature"
  | "token-expired"
  | "token-not-yet-valid"
  | "token-lifetime-too-long"
  | "wrong-binding"
  | "insufficient-scope";

export type TheaterTokenResult =
  | { ok: true; theater: Theater }
  | { ok: false; status: 401 | 403; reason: TheaterTokenFailure; detail: string };

export interface VerifyTheaterTokenOptions {
  governanceKeys: readonly PublicJwk[];
  /** ms since the epoch. */
  now: number;
  revoked: Revoked;
  clusterId: string;
  method: string;
  path: string;
  /** The request's raw query string without "?"; "" or absent when none. */
  query?: string;
  /** Scopes the call needs; a valid token without them gets 403. */
  requiredScopes?: readonly string[];
}

/**
 * The license first (is this a theater of this cluster at all?), then the token's signature with
 * the key the license certifies, then lifetime and binding, then scope.
 */
export async function verifyTheaterToken(
  token: string,
  opts: VerifyTheaterTokenOptions,
): Promise<TheaterTokenResult> {
  const fail = (reason: TheaterTokenFailure, detail: string, status: 401 | 403 = 401) =>
    ({ ok: false, status, reason, detail }) as const;
  if (token.length > THEATER_TOKEN_CHARS_MAX) return fail("malformed-token", "token too large");
  let lic: unknown;
  try {
    lic = decodeProtectedHeader(token).lic;
  } catch {
    return fail("malformed-token", "not a compact JWS");
  }
  if (typeof lic !== "string") return fail("malformed-token", "no license in the token header");
  const l = await verifyLicense(lic, opts);
  if (!l.ok) return fail(l.reason, l.detail);
  const license = l.license;

  let payload: unknown;
  try {
    const key = await importJWK({ ...license.theaterKey }, "EdDSA");
    const r = await jwtVerify(token, key, {
      algorithms: ["EdDSA"],
      typ: THEATER_TOKEN_TYP,
      subject: license.theaterId,
      requiredClaims: ["exp", "iat", "jti"],
      // maxTokenAge makes jose refuse an iat in the future as well as one too old.
      maxTokenAge: THEATER_TOKEN_TTL_MAX_S,
      currentDate: new Date(opts.now),
      clockTolerance: THEATER_TOKEN_CLOCK_TOLERANCE_S,
    });
    payload = r.payload;
  } catch (e) {
    const { reason } = joseReason(e);
    if (reason === "bad signature") {
      return fail("bad-token-signature", "token not signed by the licensed theater key");
    }
    if (reason === "expired") return fail("token-expired", "theater token expired");
    if (reason === "invalid iat claim")
      return fail("token-not-yet-valid", "token issued in the future");
    return fail("malformed-token", reason);
  }
  const parsed = TokenClaims.safeParse(payload);
  if (!parsed.success) return fail("malformed-token", "token claims do not match the schema");
  const c = parsed.data;
  if (c.exp - c.iat > THEATER_TOKEN_TTL_MAX_S) {
    return fail("token-lifetime-too-long", `exp must be at most iat+${THEATER_TOKEN_TTL_MAX_S}`);
  }
  if (
    c.htm !== opts.method.toUpperCase() ||
    c.htu !== opts.path ||
    (c.htq ?? "") !== (opts.query ?? "")
  ) {
    return fail("wrong-binding", `token is for ${c.htm} ${c.htu}${c.htq ? `?${c.htq}` : ""}`);
  }
  const missing = (opts.requiredScopes ?? []).filter((s) => !license.scopes.includes(s));
  if (missing.length > 0) {
    return fail("insufficient-scope", `license lacks scope ${missing.join(" ")}`, 403);
  }
  return {
    ok: true,
    theater: {
      id: license.theaterId,
      name: license.name,
      scopes: license.scopes,
      licenseId: license.licenseId,
    },
  };
}
