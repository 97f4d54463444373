import { b64url, b64urlText, jwsPayload } from "./b64.ts";

/**
 * Theater sign-in. A theater holds a license (a JWS from the cluster's governance key naming its
 * public key) and the matching private key. The page signs a fresh short-lived token for every API
 * call with WebCrypto Ed25519, in exactly the format of shared/auth/theater-token.ts: header
 * {alg: EdDSA, typ, kid, lic: <license>}, claims {sub, iat, exp, jti, htm, htu}.
 *
 * The license and key are kept in sessionStorage: this tab only, gone when it closes. The private
 * key is imported as a non-extractable CryptoKey for signing.
 */

const SESSION_KEY = "tessera.theater";
const TOKEN_TYP = "tessera-theater+jwt";
/** Well under THEATER_TOKEN_TTL_MAX_S (300): a token is used once, right away. */
const TOKEN_TTL_S = 120;

export interface TheaterSession {
  license: string;
  jwk: { kty: "OKP"; crv: "Ed25519"; x: string; d: string; kid?: string };
  theaterId: string;
  name: string;
  scopes: string[];
  expiresAt: number;
}

let key: { x: string; key: Promise<CryptoKey> } | undefined;

export function theaterSession(): TheaterSession | undefined {
  try {
    const s = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? "null") as TheaterSession | null;
    if (s && s.expiresAt > Date.now()) return s;
  } catch {
    // a damaged entry is the same as none
  }
  return undefined;
}

export function theaterSignOut(): void {
  sessionStorage.removeItem(SESSION_KEY);
  key = undefined;
}

function importKey(jwk: TheaterSession["jwk"]): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    "jwk",
    { kty: "OKP", crv: "Ed25519", x: jwk.x, d: jwk.d },
    { name: "Ed25519" },
    false,
    ["sign"],
  );
}

/**
 * Checks a pasted license and key belong together and keeps them for this tab. Only the shape and
 * the key match are checked here; the first API call is the real test of the license.
 */
export async function theaterSignIn(licenseText: string, jwkText: string): Promise<TheaterSession> {
  const license = licenseText.trim();
  const claims = jwsPayload(license);
  if (!claims || license.split(".").length !== 3) {
    throw new Error("the license is not a compact JWS (three base64url parts)");
  }
  let jwk: TheaterSession["jwk"];
  try {
    jwk = JSON.parse(jwkText) as TheaterSession["jwk"];
  } catch {
    throw new Error("the key is not JSON (paste the theater's private JWK)");
  }
  if (jwk?.kty !== "OKP" || jwk.crv !== "Ed25519" || typeof jwk.d !== "string") {
    throw new Error("the key must be a private Ed25519 JWK (kty OKP, crv Ed25519, with d)");
  }
  const cnf = (claims.cnf as { jwk?: { x?: string } } | undefined)?.jwk;
  if (cnf?.x !== jwk.x) throw new Error("this key is not the one the license names");
  try {
    await importKey(jwk);
  } catch {
    throw new Error("the browser could not use this key (Ed25519 WebCrypto)");
  }
  const session: TheaterSession = {
    license,
    jwk: { kty: "OKP", crv: "Ed25519", x: jwk.x, d: jwk.d, ...(jwk.kid ? { kid: jwk.kid } : {}) },
    theaterId: String(claims.sub ?? ""),
    name: String(claims.name ?? claims.sub ?? ""),
    scopes: String(claims.scope ?? "")
      .split(" ")
      .filter(Boolean),
    expiresAt: Number(claims.exp ?? 0) * 1000,
  };
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  key = undefined;
  return session;
}

/** A token for one call: `method`, and `path` with its query (bound as `htq`), as the server
 * will see them. */
export async function theaterToken(method: string, path: string): Promise<string> {
  const session = theaterSession();
  if (!session) throw new Error("not signed in as a theater");
  if (!key || key.x !== session.jwk.x) key = { x: session.jwk.x, key: importKey(session.jwk) };
  const iat = Math.floor(Date.now() / 1000);
  const header = {
    alg: "EdDSA",
    typ: TOKEN_TYP,
    ...(session.jwk.kid ? { kid: session.jwk.kid } : {}),
    lic: session.license,
  };
  const q = path.indexOf("?");
  const claims = {
    htm: method.toUpperCase(),
    htu: q < 0 ? path : path.slice(0, q),
    ...(q < 0 || q === path.length - 1 ? {} : { htq: path.slice(q + 1) }),
    sub: session.theaterId,
    iat,
    exp: iat + TOKEN_TTL_S,
    jti: crypto.randomUUID(),
  };
  const input = `${b64urlText(JSON.stringify(header))}.${b64urlText(JSON.stringify(claims))}`;
  const sig = await crypto.subtle.sign(
    { name: "Ed25519" },
    await key.key,
    new TextEncoder().encode(input),
  );
  return `${input}.${b64url(new Uint8Array(sig))}`;
}
