import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppDeps } from "./deps.ts";
import { healthRoutes } from "./routes/health.ts";

/** Builds the one handler set every provider serves. Only this file registers routes. */
export function createApp(deps: AppDeps) {
  const app = new OpenAPIHono();
  app.route("/", healthRoutes(deps));
  return app;
}
export type App = ReturnType<typeof createApp>;
