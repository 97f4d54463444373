import { OpenAPIHono } from "@hono/zod-openapi";
import type { Services } from "../../services/index.ts";

/** Venue-management API for licensed theaters (/v1/manage/...). */
export function manageRoutes(_s: Services) {
  const app = new OpenAPIHono();
  return app;
}
