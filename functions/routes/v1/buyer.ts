import { OpenAPIHono } from "@hono/zod-openapi";
import type { AuthVariables } from "../../auth/variables.ts";
import type { Services } from "../../services/index.ts";
import { validationHook } from "../api.ts";
import { holdRoutes } from "./buyer/holds.ts";
import { orderRoutes } from "./buyer/orders.ts";
import { ticketRoutes } from "./buyer/tickets.ts";

/** Buyer API (/v1/events/{id}/holds, /v1/holds, /v1/me/orders, /v1/me/tickets, ticket QR codes). */
export function buyerRoutes(s: Services) {
  // Validation runs in the app that registered the route: same one-problem answer as app.ts.
  const app = new OpenAPIHono<{ Variables: AuthVariables }>({ defaultHook: validationHook });
  holdRoutes(app, s);
  orderRoutes(app, s);
  ticketRoutes(app, s);
  return app;
}
