import { createLocalJWKSet, createRemoteJWKSet, customFetch, type JSONWebKeySet } from "jose";
import type { AuthEnv } from "../../shared/auth/config.ts";
import type { JWKSGetter } from "../../shared/auth/oidc.ts";
import { type BuyerVerifier, createBuyerVerifier } from "../../shared/auth/oidc.ts";

/** How long discovery may take before the request that triggered it fails with 503. */
const DISCOVERY_TIMEOUT_MS = 5000;

/**
 * The issuer's JWKS found through OIDC discovery (`<issuer>/.well-known/openid-configuration` →
 * `jwks_uri`), resolved on first use so a cold start never waits on the identity provider, and
 * retried on the next request if it failed. jose's remote set then caches and refreshes keys.
 */
export function discoveredJwks(issuer: string, doFetch: typeof fetch = fetch): JWKSGetter {
  let remote: Promise<JWKSGetter> | undefined;
  const discover = async (): Promise<JWKSGetter> => {
    const url = `${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`;
    const r = await doFetch(url, { signal: AbortSignal.timeout(DISCOVERY_TIMEOUT_MS) });
    if (!r.ok) throw new Error(`OIDC discovery ${url}: HTTP ${r.status}`);
    const doc = (await r.json()) as { jwks_uri?: unknown };
    if (typeof doc.jwks_uri !== "string") throw new Error(`OIDC discovery ${url}: no jwks_uri`);
    return createRemoteJWKSet(new URL(doc.jwks_uri), {
      [customFetch]: (u: string, init: RequestInit) => doFetch(u, init),
    });
  };
  return async (header, token) => {
    remote ??= discover().catch((e: unknown) => {
      remote = undefined;
      throw e;
    });
    return (await remote)(header, token);
  };
}

/** The buyer verifier the configuration describes: inline TESSERA_OIDC_JWKS, else discovery. */
export function buyerVerifierFromEnv(
  env: Pick<AuthEnv, "TESSERA_OIDC_ISSUER" | "TESSERA_OIDC_AUDIENCE" | "TESSERA_OIDC_JWKS">,
  opts: { fetch?: typeof fetch; now?: () => number } = {},
): BuyerVerifier {
  const jwks = env.TESSERA_OIDC_JWKS
    ? createLocalJWKSet(env.TESSERA_OIDC_JWKS as JSONWebKeySet)
    : discoveredJwks(env.TESSERA_OIDC_ISSUER, opts.fetch);
  return createBuyerVerifier({
    issuer: env.TESSERA_OIDC_ISSUER,
    audience: env.TESSERA_OIDC_AUDIENCE,
    jwks,
    ...(opts.now ? { now: opts.now } : {}),
  });
}
