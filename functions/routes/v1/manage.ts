import { OpenAPIHono } from "@hono/zod-openapi";
import { THEATER_SCHEME } from "../../auth/theater.ts";
import type { AuthVariables } from "../../auth/variables.ts";
import type { Services } from "../../services/index.ts";
import { validationHook } from "../api.ts";
import { backupRoutes } from "./manage/backup.ts";
import { eventRoutes } from "./manage/events.ts";
import { orderRoutes } from "./manage/orders.ts";
import { planRoutes } from "./manage/plans.ts";
import { venueRoutes } from "./manage/venues.ts";

/**
 * Venue-management API for licensed theaters (/v1/manage/...). A theatre reads and changes only
 * its own plans, venues, events and orders: another theatre's ids answer 404 exactly like ids that
 * do not exist (never 403, which would confirm they exist), and change nothing.
 *
 * Also registers the API's two security schemes, which the buyer routes reference by name.
 */
export function manageRoutes(s: Services) {
  const app = new OpenAPIHono<{ Variables: AuthVariables }>({ defaultHook: validationHook });
  app.openAPIRegistry.registerComponent("securitySchemes", "buyerBearer", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description:
      "An access token (JWT) from the buyers' OpenID Connect provider: " +
      "`Authorization: Bearer <token>`. Verified as RFC8725 (JWT Best Current Practices) asks: " +
      "asymmetric algorithms from a fixed allow-list only (EdDSA, ES256, RS256; never `none` or " +
      "HMAC), keys from the issuer's JWKS, `iss`, `aud` and lifetime checked.",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "theaterToken", {
    type: "apiKey",
    in: "header",
    name: "Authorization",
    description:
      `\`Authorization: ${THEATER_SCHEME} <token>\`. The token is a short-lived JWS (≤ 300 s) ` +
      "signed with the theatre's own key, carrying its license (signed by a governance key) in " +
      "the `lic` header, and bound to ONE method and path (`htm`, `htu` claims): make one per " +
      "call, e.g. with `tessera license token --method GET --path /v1/manage/events`. See " +
      "docs/identity.md.",
  });
  planRoutes(app, s);
  venueRoutes(app, s);
  eventRoutes(app, s);
  orderRoutes(app, s);
  backupRoutes(app, s);
  return app;
}
