import { compactVerify, createLocalJWKSet, importJWK, SignJWT } from "jose";
import { z } from "zod";
import { Ed25519PublicJwk, type PrivateJwk, type PublicJwk } from "../config.ts";
import { isSafeLine } from "../domain/text.ts";
import { joseReason } from "./oidc.ts";
import { parseScopes, SCOPE_RE } from "./scopes.ts";

/**
 * Theater license certificates: a compact JWS (EdDSA) by a governance key saying "theater <sub>,
 * holder of key <cnf.jwk>, may manage <scope> on cluster <aud> until <exp>". Providers hold only the
 * governance public keys, so admitting a theater needs no shared database and no call home.
 */

export const LICENSE_ISSUER = "tessera-governance";
/** Explicit type so a license can never be replayed as another kind of token (RFC 8725 §3.11). */
export const LICENSE_TYP = "tessera-license+jwt";
/** Skew allowed between the governance host's clock and a provider's, in seconds. */
export const LICENSE_CLOCK_TOLERANCE_S = 60;
/** A license is re-issued at least every ~10 years; longer is almost surely a typo in --days. */
export const LICENSE_TTL_MAX_S = 3660 * 24 * 3600;
/** Real licenses are ~700 chars; the bound keeps a hostile header from costing decode work. */
export const LICENSE_CHARS_MAX = 4096;
/** Ids travel in URLs, keys and logs: keep them plain. */
export const THEATER_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const NAME_CHARS_MAX = 200;

export const LicenseClaims = z.object({
  iss: z.literal(LICENSE_ISSUER),
  sub: z.string().regex(THEATER_ID_RE),
  /** The cluster the license is valid on. */
  aud: z.string().min(1),
  name: z.string().min(1).max(NAME_CHARS_MAX).refine(isSafeLine, "no control or bidi characters"),
  cnf: z.object({ jwk: Ed25519PublicJwk }),
  scope: z.string().refine((s) => parseScopes(s).every((x) => SCOPE_RE.test(x)), "bad scope"),
  iat: z.number().int(),
  nbf: z.number().int(),
  exp: z.number().int(),
  jti: z.string().min(1).max(128),
});
export type LicenseClaims = z.infer<typeof LicenseClaims>;

export interface IssueLicenseInput {
  governanceKey: PrivateJwk;
  theaterId: string;
  name: string;
  /** The theater's own public key; its management tokens must be signed by the private half. */
  theaterKey: PublicJwk;
  scopes: string[];
  clusterId: string;
  /** Issue time, ms since the epoch; the license is valid from then. */
  now: number;
  ttlS: number;
  /** License id; a fresh UUID when absent. */
  jti?: string;
}

export async function issueLicense(input: IssueLicenseInput): Promise<string> {
  if (!THEATER_ID_RE.test(input.theaterId)) throw new Error(`bad theater id: ${input.theaterId}`);
  if (!Number.isInteger(input.ttlS) || input.ttlS <= 0 || input.ttlS > LICENSE_TTL_MAX_S) {
    throw new Error(`license lifetime must be 1..${LICENSE_TTL_MAX_S} s`);
  }
  const scopes = [...new Set(input.scopes)];
  const badScope = scopes.find((s) => !SCOPE_RE.test(s));
  if (scopes.length === 0 || badScope !== undefined) {
    throw new Error(`bad scope list: ${JSON.stringify(input.scopes)}`);
  }
  const iat = Math.floor(input.now / 1000);
  const claims: LicenseClaims = {
    iss: LICENSE_ISSUER,
    sub: input.theaterId,
    aud: input.clusterId,
    name: input.name,
    cnf: { jwk: Ed25519PublicJwk.parse(input.theaterKey) },
    scope: scopes.join(" "),
    iat,
    nbf: iat,
    exp: iat + input.ttlS,
    jti: input.jti ?? crypto.randomUUID(),
  };
  LicenseClaims.parse(claims);
  const key = await importJWK({ ...input.governanceKey }, "EdDSA");
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "EdDSA", typ: LICENSE_TYP, kid: input.governanceKey.kid })
    .sign(key);
}

export type LicenseFailure =
  | "malformed"
  | "unknown-signer"
  | "wrong-cluster"
  | "revoked"
  | "not-yet-valid"
  | "expired";

export interface License {
  theaterId: string;
  name: string;
  scopes: string[];
  licenseId: string;
  theaterKey: PublicJwk;
  clusterId: string;
  issuedAtS: number;
  notBeforeS: number;
  expiresAtS: number;
}

export type LicenseResult =
  | { ok: true; license: License }
  | { ok: false; reason: LicenseFailure; detail: string };

export type Revoked = Set<string> | ReadonlySet<string> | ((jti: string) => boolean);

export interface VerifyLicenseOptions {
  governanceKeys: readonly PublicJwk[];
  /** ms since the epoch. */
  now: number;
  revoked: Revoked;
  clusterId: string;
}

export const isRevoked = (revoked: Revoked, jti: string) =>
  typeof revoked === "function" ? revoked(jti) : revoked.has(jti);

/**
 * Checks, in order: governance signature, claims shape, cluster, revocation, validity window.
 * The signature comes before anything the claims say, so a forged license is only ever reported
 * as "unknown-signer", whatever it claims.
 */
export async function verifyLicense(
  license: string,
  opts: VerifyLicenseOptions,
): Promise<LicenseResult> {
  const fail = (reason: LicenseFailure, detail: string): LicenseResult => ({
    ok: false,
    reason,
    detail,
  });
  if (license.length > LICENSE_CHARS_MAX) return fail("malformed", "license too large");
  let payload: unknown;
  try {
    // jose checks the alg and the signature; the local set picks the key by the header's kid (or
    // tries each key when there is none). Every claim, times included, is judged below so that
    // each refusal gets its own reason.
    const jwks = createLocalJWKSet({ keys: opts.governanceKeys.map((k) => ({ ...k })) });
    const r = await compactVerify(license, jwks, { algorithms: ["EdDSA"] });
    if (r.protectedHeader.typ !== LICENSE_TYP) return fail("malformed", "not a license (typ)");
    payload = JSON.parse(new TextDecoder().decode(r.payload));
  } catch (e) {
    if (e instanceof SyntaxError) return fail("malformed", "payload is not JSON");
    const { reason } = joseReason(e);
    if (reason === "bad signature" || reason === "unknown signing key") {
      return fail("unknown-signer", "not signed by a governance key of this cluster");
    }
    return fail("malformed", reason);
  }
  const parsed = LicenseClaims.safeParse(payload);
  if (!parsed.success) return fail("malformed", "license claims do not match the schema");
  const c = parsed.data;
  if (c.aud !== opts.clusterId) return fail("wrong-cluster", `license is for cluster ${c.aud}`);
  if (isRevoked(opts.revoked, c.jti)) return fail("revoked", `license ${c.jti} is revoked`);
  const nowS = Math.floor(opts.now / 1000);
  if (nowS + LICENSE_CLOCK_TOLERANCE_S < c.nbf)
    return fail("not-yet-valid", "license not yet valid");
  if (nowS - LICENSE_CLOCK_TOLERANCE_S >= c.exp) return fail("expired", "license expired");
  return {
    ok: true,
    license: {
      theaterId: c.sub,
      name: c.name,
      scopes: parseScopes(c.scope),
      licenseId: c.jti,
      theaterKey: c.cnf.jwk,
      clusterId: c.aud,
      issuedAtS: c.iat,
      notBeforeS: c.nbf,
      expiresAtS: c.exp,
    },
  };
}
