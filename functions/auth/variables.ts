import type { Buyer } from "../../shared/auth/oidc.ts";
import type { Theater } from "../../shared/auth/theater-token.ts";

/**
 * Hono context variables the auth middleware sets. Type an app with
 * `new Hono<{ Variables: AuthVariables }>()`; after `buyerAuth`/`theaterAuth` on a route, Hono
 * narrows `c.get("buyer")` / `c.get("theater")` to defined values.
 */
export type AuthVariables = {
  buyer?: Buyer;
  theater?: Theater;
};
export type { Buyer, Theater };
