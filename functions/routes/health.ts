import { Hono } from "hono";
import type { Deps } from "../deps.ts";
import { errorText } from "../problem.ts";
import { checkHealth } from "../services/health.ts";

export function healthRoutes(deps: Deps) {
  const app = new Hono();

  app.get("/livez", (c) => c.json({ provider: deps.provider, ok: true }));

  // Anyone may call /health: it says what failed, never the error text.
  app.get("/health", async (c) => {
    const rid = c.get("requestId" as never) as string | undefined;
    const body = await checkHealth(deps, (what, e) =>
      console.error(`[${deps.provider}] [${rid ?? "-"}] /health: ${what}: ${errorText(e)}`),
    );
    return c.json(body, body.store.ok ? 200 : 503);
  });
  return app;
}
