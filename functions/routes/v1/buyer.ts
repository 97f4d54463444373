import { OpenAPIHono } from "@hono/zod-openapi";
import type { Services } from "../../services/index.ts";

/** Buyer API (/v1/events, holds, orders, tickets). */
export function buyerRoutes(_s: Services) {
  const app = new OpenAPIHono();
  return app;
}
