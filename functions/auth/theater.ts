import { createMiddleware } from "hono/factory";
import type { Revoked } from "../../shared/auth/license.ts";
import { type Theater, verifyTheaterToken } from "../../shared/auth/theater-token.ts";
import type { PublicJwk } from "../../shared/config.ts";
import { chargeIdentity } from "../middleware/rate-limit.ts";
import { ProblemError } from "../problem.ts";
import { AUTH_REALM } from "./buyer.ts";
import { credentialsFor, quoted } from "./header.ts";

/** `Authorization: Tessera-Theater <token>`; see docs/identity.md. */
export const THEATER_SCHEME = "Tessera-Theater";

export interface TheaterAuthOptions {
  governanceKeys: readonly PublicJwk[];
  clusterId: string;
  revoked: Revoked;
  /** Wall clock in ms; injectable so tests can skew it. */
  now: () => number;
  /** Scopes every route behind this middleware needs (403 without); see also requireScope. */
  scopes?: readonly string[];
}

/**
 * Admits a licensed theater: verifies the license, then the token signed with the licensed key and
 * bound to this request's method and path. Any failure of either is 401; a missing scope is 403.
 */
export function theaterAuth(opts: TheaterAuthOptions) {
  return createMiddleware<{ Variables: { theater: Theater } }>(async (c, next) => {
    const token = credentialsFor(c.req.header("authorization"), THEATER_SCHEME);
    if (token === undefined) {
      throw new ProblemError(
        401,
        "unauthorized",
        "Unauthorized",
        `this call needs \`Authorization: ${THEATER_SCHEME} <token>\` (see \`tessera license token\`)`,
        { reason: "missing" },
        { "www-authenticate": `${THEATER_SCHEME} realm="${AUTH_REALM}"` },
      );
    }
    const r = await verifyTheaterToken(token, {
      governanceKeys: opts.governanceKeys,
      clusterId: opts.clusterId,
      revoked: opts.revoked,
      now: opts.now(),
      method: c.req.method,
      path: c.req.path,
      query: new URL(c.req.url).search.slice(1),
      ...(opts.scopes ? { requiredScopes: opts.scopes } : {}),
    });
    if (!r.ok) {
      if (r.status === 403) throw insufficientScope(r.detail);
      throw new ProblemError(
        401,
        "unauthorized",
        "Unauthorized",
        `theater token refused: ${r.detail}`,
        { reason: r.reason },
        {
          "www-authenticate": `${THEATER_SCHEME} realm="${AUTH_REALM}", error="invalid_token", error_description=${quoted(r.reason)}`,
        },
      );
    }
    chargeIdentity(c, "theater", r.theater.id);
    c.set("theater", r.theater);
    await next();
  });
}

/** 403 unless the admitted theater's license carries every scope named. Use after theaterAuth. */
export function requireScope(...scopes: string[]) {
  return createMiddleware<{ Variables: { theater: Theater } }>(async (c, next) => {
    const theater = c.get("theater") as Theater | undefined;
    if (!theater) {
      // A wiring mistake, not the client's: fail closed and loudly.
      throw new Error("requireScope used on a route without theaterAuth");
    }
    const missing = scopes.filter((s) => !theater.scopes.includes(s));
    if (missing.length > 0) throw insufficientScope(`license lacks scope ${missing.join(" ")}`);
    await next();
  });
}

function insufficientScope(detail: string) {
  return new ProblemError(
    403,
    "forbidden",
    "Forbidden",
    detail,
    { reason: "insufficient-scope" },
    {
      "www-authenticate": `${THEATER_SCHEME} realm="${AUTH_REALM}", error="insufficient_scope", error_description=${quoted(detail)}`,
    },
  );
}
