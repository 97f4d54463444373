import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppDeps } from "./deps.ts";
import { ProblemError, problemResponse, sendProblem } from "./problem.ts";
import { healthRoutes } from "./routes/health.ts";
import { internalRoutes } from "./routes/internal.ts";

/** Builds the one handler set every provider serves. Only this file registers routes. */
export function createApp(deps: AppDeps) {
  const app = new OpenAPIHono();
  app.route("/", healthRoutes(deps));
  app.route("/", internalRoutes(deps));

  app.notFound((c) =>
    sendProblem(c, new ProblemError(404, "not-found", "Not Found", `no route for ${c.req.path}`)),
  );
  app.onError((err, c) => {
    if (err instanceof ProblemError) return sendProblem(c, err);
    // A store or peer failure the route did not turn into a clear answer: say so as 503 (the
    // client may retry elsewhere) and log it, rather than leaking a stack as a bare 500.
    console.error(`[${deps.provider}] ${c.req.method} ${c.req.path}:`, err);
    return problemResponse(
      {
        type: "https://tessera.dev/problems/unavailable",
        title: "Service unavailable",
        status: 503,
        detail: "a store or peer failed while handling the request; retry",
        instance: c.req.path,
      },
      { "retry-after": "1" },
    );
  });
  return app;
}
export type App = ReturnType<typeof createApp>;
