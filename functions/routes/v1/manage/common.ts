import type { OpenAPIHono } from "@hono/zod-openapi";
import { requireScope, theaterAuth } from "../../../auth/theater.ts";
import type { AuthVariables, Theater } from "../../../auth/variables.ts";
import type { Services } from "../../../services/index.ts";

/** The sub-app type every management module registers its routes on. */
export type ManageApp = OpenAPIHono<{ Variables: AuthVariables }>;

export const MANAGE_TAG = "Management";

/** Security requirement of every management route (scheme registered in manage.ts). */
export const THEATER_SECURITY = [{ theaterToken: [] }];

/** Licensed theatre with these scopes, else 401 (no or bad token) / 403 (scope missing). */
export function theaterGuard(s: Services, ...scopes: string[]) {
  const guard: [ReturnType<typeof theaterAuth>, ReturnType<typeof requireScope>] = [
    theaterAuth(s.theaterAuth),
    requireScope(...scopes),
  ];
  return guard;
}

/** The admitted theatre; only called behind theaterGuard. */
export function theaterOf(c: { var: object }): Theater {
  const t = (c.var as AuthVariables).theater;
  if (!t) throw new Error("route without theaterAuth");
  return t;
}
