import { b64url, jwsPayload, randomB64url } from "./b64.ts";
import { config } from "./config.ts";

/**
 * Buyer sign-in: OpenID Connect authorization code flow with PKCE (RFC 7636), as a public client.
 * The access token lives in sessionStorage: per tab, gone when the tab closes, never sent as a
 * cookie (so no CSRF surface), and sent to whichever provider answers as `Authorization: Bearer`.
 */

const TOKEN_KEY = "tessera.buyer.token";
const FLOW_KEY = "tessera.buyer.signin";
export const CALLBACK_PATH = "/signin/callback";
/** Treat a token as gone this long before it expires, so a call never races its expiry. */
const EXPIRY_MARGIN_MS = 30_000;
/** 32 random bytes → a 43-char verifier, the RFC 7636 minimum length and 256 bits of entropy. */
const VERIFIER_BYTES = 32;

interface StoredToken {
  accessToken: string;
  expiresAt: number;
  name: string;
}

interface Flow {
  verifier: string;
  state: string;
  returnTo: string;
}

function stored(): StoredToken | undefined {
  try {
    const t = JSON.parse(sessionStorage.getItem(TOKEN_KEY) ?? "null") as StoredToken | null;
    if (t && t.expiresAt - EXPIRY_MARGIN_MS > Date.now()) return t;
  } catch {
    // a damaged entry is the same as none
  }
  return undefined;
}

export function buyerToken(): string | undefined {
  return stored()?.accessToken;
}

export function buyerName(): string | undefined {
  return stored()?.name;
}

export function signOut(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

interface Discovery {
  authorization_endpoint?: string;
  token_endpoint?: string;
}

/** The IdP's OpenID Connect discovery document (only needed for a non-development IdP). */
async function discovery(): Promise<Discovery> {
  const res = await fetch(`${config().oidc.issuer}/.well-known/openid-configuration`);
  if (!res.ok) throw new Error(`the identity provider did not answer (${res.status})`);
  return (await res.json()) as Discovery;
}

async function authorizationEndpoint(): Promise<string> {
  const o = config().oidc;
  if (o.authorizationEndpoint) return o.authorizationEndpoint;
  const url = (await discovery()).authorization_endpoint;
  if (!url) throw new Error("the identity provider has no authorization endpoint");
  return url;
}

async function tokenEndpoints(): Promise<readonly string[]> {
  const o = config().oidc;
  if (o.tokenEndpoints.length > 0) return o.tokenEndpoints;
  const url = (await discovery()).token_endpoint;
  if (!url) throw new Error("the identity provider has no token endpoint");
  return [url];
}

const redirectUri = () => `${location.origin}${CALLBACK_PATH}`;

/** Leaves for the identity provider; comes back to `returnTo` signed in. */
export async function signIn(returnTo = location.pathname + location.search): Promise<void> {
  const verifier = randomB64url(VERIFIER_BYTES);
  const challenge = b64url(
    new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))),
  );
  const flow: Flow = { verifier, state: randomB64url(16), returnTo };
  sessionStorage.setItem(FLOW_KEY, JSON.stringify(flow));
  const url = new URL(await authorizationEndpoint());
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: config().oidc.clientId,
    redirect_uri: redirectUri(),
    scope: "openid profile",
    state: flow.state,
    code_challenge: challenge,
    code_challenge_method: "S256",
  }).toString();
  location.assign(url.toString());
}

/** On the callback page: trades the code for tokens and goes back where sign-in started. */
export async function completeSignIn(): Promise<string> {
  const q = new URLSearchParams(location.search);
  const flow = JSON.parse(sessionStorage.getItem(FLOW_KEY) ?? "null") as Flow | null;
  sessionStorage.removeItem(FLOW_KEY);
  if (q.get("error")) throw new Error(`sign-in refused: ${q.get("error")}`);
  const code = q.get("code");
  if (!flow || !code || q.get("state") !== flow.state) {
    throw new Error("this sign-in was not started from this tab; please sign in again");
  }
  const o = config().oidc;
  const body = new URLSearchParams({
    grant_type: "authorization_code",
    code,
    redirect_uri: redirectUri(),
    client_id: o.clientId,
    code_verifier: flow.verifier,
  });
  let lastError = "no token endpoint";
  // The development IdP is served by every provider with one key: any of them can redeem the code.
  for (const endpoint of await tokenEndpoints()) {
    try {
      const res = await fetch(endpoint, { method: "POST", body, credentials: "omit" });
      if (res.status >= 500) {
        lastError = `HTTP ${res.status}`;
        continue;
      }
      const t = (await res.json()) as {
        access_token?: string;
        expires_in?: number;
        detail?: string;
      };
      if (!res.ok || !t.access_token) throw new Error(t.detail ?? `sign-in failed (${res.status})`);
      const claims = jwsPayload(t.access_token) ?? {};
      const name = String(claims.name ?? claims.sub ?? "signed in");
      const token: StoredToken = {
        accessToken: t.access_token,
        expiresAt: Date.now() + (t.expires_in ?? 300) * 1000,
        name,
      };
      sessionStorage.setItem(TOKEN_KEY, JSON.stringify(token));
      return flow.returnTo.startsWith("/") ? flow.returnTo : "/";
    } catch (e) {
      if (e instanceof TypeError) {
        lastError = e.message; // network error: try the next provider
        continue;
      }
      throw e;
    }
  }
  throw new Error(`no identity endpoint answered (${lastError})`);
}
