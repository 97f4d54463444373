import { Hono } from "hono";
import { cors } from "hono/cors";
import { html } from "hono/html";
import { base64url, importJWK, jwtVerify, SignJWT } from "jose";
import type { PrivateJwk } from "../../shared/config.ts";
import { publicOf } from "../../shared/crypto/keys.ts";
import { DEV_IDP_AUDIENCE, DEV_TOKEN_TTL_S, IDP_BASE } from "../auth/dev-idp.ts";
import { ProblemError, sendProblem } from "../problem.ts";

/**
 * A development OpenID Connect provider for the local cluster and tests: named test users, no
 * passwords. It must only be mounted when a dev flag is on — anyone who can reach it can sign in
 * as any listed user.
 *
 * Authorization codes are themselves short JWS signed with the IdP key, so the flow works when
 * /authorize and /token land on different function instances; they are therefore not single-use
 * (acceptable for a dev IdP, and they live for CODE_TTL_S only).
 */

/** An authorization code is redeemed at once by the client; a minute covers slow redirects. */
const CODE_TTL_S = 60;
const CODE_TYP = "tessera-idp-code+jwt";
/** Usernames appear in HTML, URLs and `sub`: keep them plain. */
const USERNAME_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/** PKCE verifier rules (RFC 7636 §4.1). */
const CODE_VERIFIER_RE = /^[A-Za-z0-9._~-]{43,128}$/;
const FIELD_CHARS_MAX = 2048;

export interface IdpOptions {
  /** Absolute URL of the IdP as clients see it, ending in /idp, e.g. "http://127.0.0.1:8787/idp". */
  issuer: string;
  /** Ed25519 signing key of the IdP. */
  key: PrivateJwk;
  users: string[];
  /** Wall clock in ms. */
  now: () => number;
  /** `aud` of access tokens; must equal TESSERA_OIDC_AUDIENCE. */
  audience?: string;
}

type Fields = Record<string, string | undefined>;

export function idpRoutes(opts: IdpOptions) {
  const idp = readyIdp(opts);
  const app = new Hono();
  app.onError((err, c) => {
    if (err instanceof ProblemError) return sendProblem(c, err);
    throw err;
  });
  // Token, key and discovery endpoints are called by browser apps on other origins; there are no
  // cookies involved, so a wildcard origin grants nothing extra.
  app.use(`${IDP_BASE}/.well-known/*`, cors());
  app.use(`${IDP_BASE}/jwks.json`, cors());
  app.use(`${IDP_BASE}/token`, cors());

  discoveryRoute(app, idp);
  jwksRoute(app, idp);
  signInFormRoute(app, idp);
  authorizeRoute(app, idp);
  tokenRoute(app, idp);
  return app;
}

/** The options checked and the keys imported, once per app. */
function readyIdp(opts: IdpOptions) {
  const issuer = opts.issuer.replace(/\/+$/, "");
  const audience = opts.audience ?? DEV_IDP_AUDIENCE;
  const users = new Set(opts.users);
  for (const u of users) {
    if (!USERNAME_RE.test(u)) throw new Error(`dev IdP: bad username ${JSON.stringify(u)}`);
  }
  const publicJwk = { ...publicOf(opts.key), alg: "EdDSA", use: "sig" };
  const privateKey = importJWK({ ...opts.key }, "EdDSA");
  const publicKey = importJWK({ ...publicOf(opts.key) }, "EdDSA");
  return {
    issuer,
    audience,
    users,
    publicJwk,
    privateKey,
    publicKey,
    kid: opts.key.kid,
    now: opts.now,
  };
}
type Idp = ReturnType<typeof readyIdp>;

const bad = (error: string, detail: string) =>
  new ProblemError(400, `idp-${error.replaceAll("_", "-")}`, "Sign-in refused", detail, {
    error, // the RFC 6749 §5.2 code, for OAuth client libraries
  });

async function sign(idp: Idp, claims: Record<string, unknown>, typ: string, ttlS: number) {
  const iat = Math.floor(idp.now() / 1000);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "EdDSA", typ, kid: idp.kid })
    .setIssuer(idp.issuer)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttlS)
    .sign(await idp.privateKey);
}

async function tokensFor(idp: Idp, username: string, clientId: string | undefined, nonce?: string) {
  const profile = { sub: username, name: username, email: `${username}@example.test` };
  const [access, id] = await Promise.all([
    sign(
      idp,
      { ...profile, aud: idp.audience, scope: "openid profile email" },
      "at+jwt",
      DEV_TOKEN_TTL_S,
    ),
    sign(
      idp,
      { ...profile, aud: clientId ?? idp.audience, ...(nonce ? { nonce } : {}) },
      "JWT",
      DEV_TOKEN_TTL_S,
    ),
  ]);
  return {
    access_token: access,
    id_token: id,
    token_type: "Bearer" as const,
    expires_in: DEV_TOKEN_TTL_S,
  };
}

function discoveryRoute(app: Hono, { issuer }: Idp) {
  app.get(`${IDP_BASE}/.well-known/openid-configuration`, (c) =>
    c.json({
      issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      jwks_uri: `${issuer}/jwks.json`,
      response_types_supported: ["code"],
      grant_types_supported: ["authorization_code", "password"],
      subject_types_supported: ["public"],
      id_token_signing_alg_values_supported: ["EdDSA"],
      token_endpoint_auth_methods_supported: ["none"],
      code_challenge_methods_supported: ["S256"],
      scopes_supported: ["openid", "profile", "email"],
      claims_supported: ["iss", "aud", "sub", "exp", "iat", "name", "email", "nonce"],
    }),
  );
}

function jwksRoute(app: Hono, { publicJwk }: Idp) {
  app.get(`${IDP_BASE}/jwks.json`, (c) => c.json({ keys: [publicJwk] }));
}

/** GET /authorize: a page with one button per test user, carrying the request on. */
function signInFormRoute(app: Hono, { issuer, users }: Idp) {
  app.get(`${IDP_BASE}/authorize`, (c) => {
    const q = checkAuthorize(c.req.query(), bad);
    const hidden = Object.entries(q)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}" />`);
    const buttons = [...users].map(
      (u) => html`<p><button name="username" value="${u}">Sign in as ${u}</button></p>`,
    );
    return c.html(
      html`<!doctype html>
        <html lang="en">
          <head>
            <meta charset="utf-8" />
            <title>Tessera dev sign-in</title>
          </head>
          <body>
            <h1>Tessera development sign-in</h1>
            <p>Test users only. Never enable this identity provider in production.</p>
            <form method="post" action="${issuer}/authorize">${hidden}${buttons}</form>
          </body>
        </html>`,
    );
  });
}

/** POST /authorize: the chosen user's code, sent back to the client's redirect URI. */
function authorizeRoute(app: Hono, idp: Idp) {
  const { issuer, users } = idp;
  app.post(`${IDP_BASE}/authorize`, async (c) => {
    const f = await readFields(c.req.raw);
    const q = checkAuthorize(f, bad);
    const username = f.username;
    if (!username || !users.has(username)) throw bad("access_denied", "unknown test user");
    const code = await sign(
      idp,
      {
        sub: username,
        aud: `${issuer}/token`,
        client_id: q.client_id,
        redirect_uri: q.redirect_uri,
        ...(q.code_challenge ? { code_challenge: q.code_challenge } : {}),
        ...(q.nonce ? { nonce: q.nonce } : {}),
      },
      CODE_TYP,
      CODE_TTL_S,
    );
    const back = new URL(q.redirect_uri);
    back.searchParams.set("code", code);
    if (q.state !== undefined) back.searchParams.set("state", q.state);
    back.searchParams.set("iss", issuer); // RFC 9207: lets the client detect IdP mix-up
    return c.redirect(back.toString(), 302);
  });
}

/** POST /token: the password grant for scripts, the authorization-code grant for browsers. */
function tokenRoute(app: Hono, idp: Idp) {
  app.post(`${IDP_BASE}/token`, async (c) => {
    const f = await readFields(c.req.raw);
    const grant = f.grant_type ?? "password";
    if (grant === "password") {
      const username = f.username;
      if (!username || !idp.users.has(username)) throw bad("invalid_grant", "unknown test user");
      return c.json(await tokensFor(idp, username, f.client_id));
    }
    if (grant !== "authorization_code") {
      throw bad("unsupported_grant_type", `grant_type ${grant} is not supported`);
    }
    return c.json(await redeemCode(idp, f));
  });
}

/** The tokens an authorization code stands for, once it and its PKCE verifier check out. */
async function redeemCode(idp: Idp, f: Fields) {
  const { issuer, users } = idp;
  if (!f.code) throw bad("invalid_request", "code is required");
  let code: Record<string, unknown>;
  try {
    const r = await jwtVerify(f.code, await idp.publicKey, {
      algorithms: ["EdDSA"],
      typ: CODE_TYP,
      issuer,
      audience: `${issuer}/token`,
      currentDate: new Date(idp.now()),
    });
    code = r.payload;
  } catch {
    throw bad("invalid_grant", "authorization code invalid or expired");
  }
  if (code.redirect_uri !== f.redirect_uri) throw bad("invalid_grant", "redirect_uri mismatch");
  if (f.client_id !== undefined && code.client_id !== f.client_id) {
    throw bad("invalid_grant", "client_id mismatch");
  }
  if (typeof code.code_challenge === "string") {
    const v = f.code_verifier;
    if (!v || !CODE_VERIFIER_RE.test(v) || (await s256(v)) !== code.code_challenge) {
      throw bad("invalid_grant", "PKCE code_verifier does not match");
    }
  }
  const username = String(code.sub);
  if (!users.has(username)) throw bad("invalid_grant", "unknown test user");
  return await tokensFor(
    idp,
    username,
    String(code.client_id),
    typeof code.nonce === "string" ? code.nonce : undefined,
  );
}

interface AuthorizeRequest {
  response_type: string;
  client_id: string;
  redirect_uri: string;
  state?: string;
  nonce?: string;
  scope?: string;
  code_challenge?: string;
  code_challenge_method?: string;
}

function checkAuthorize(
  q: Fields,
  bad: (error: string, detail: string) => ProblemError,
): AuthorizeRequest {
  for (const [k, v] of Object.entries(q)) {
    if (v !== undefined && v.length > FIELD_CHARS_MAX)
      throw bad("invalid_request", `${k} too long`);
  }
  if (q.response_type !== "code") throw bad("unsupported_response_type", "response_type=code only");
  if (!q.client_id) throw bad("invalid_request", "client_id is required");
  let redirect: URL;
  try {
    redirect = new URL(q.redirect_uri ?? "");
  } catch {
    throw bad("invalid_request", "redirect_uri must be an absolute URL");
  }
  if (redirect.protocol !== "http:" && redirect.protocol !== "https:") {
    throw bad("invalid_request", "redirect_uri must be http(s)");
  }
  if (q.code_challenge !== undefined && (q.code_challenge_method ?? "plain") !== "S256") {
    throw bad("invalid_request", "only code_challenge_method=S256 is supported");
  }
  const out: AuthorizeRequest = {
    response_type: "code",
    client_id: q.client_id,
    redirect_uri: q.redirect_uri!,
  };
  for (const k of ["state", "nonce", "scope", "code_challenge", "code_challenge_method"] as const) {
    if (q[k] !== undefined) out[k] = q[k];
  }
  return out;
}

/** Form-encoded or JSON body as flat string fields; anything else is an empty body. */
async function readFields(req: Request): Promise<Fields> {
  const type = req.headers.get("content-type") ?? "";
  let raw: unknown;
  try {
    if (type.startsWith("application/json")) raw = await req.json();
    else if (type.startsWith("application/x-www-form-urlencoded")) {
      raw = Object.fromEntries(new URLSearchParams(await req.text()));
    } else raw = {};
  } catch {
    raw = {};
  }
  const out: Fields = {};
  if (raw && typeof raw === "object") {
    for (const [k, v] of Object.entries(raw)) if (typeof v === "string") out[k] = v;
  }
  return out;
}

async function s256(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url.encode(new Uint8Array(digest));
}
