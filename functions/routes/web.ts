import { type Context, Hono } from "hono";
import { ID_PATTERN } from "../../shared/domain/ids.ts";
import type { Services } from "../services/index.ts";
import { APP_CSS, APP_CSS_HASH, APP_JS, APP_JS_HASH } from "../web/assets.generated.ts";
import { connectOrigins, webConfig } from "../web/config.ts";
import { type PageName, renderPage } from "../web/render.tsx";
import { statusReporter } from "../web/status.ts";

/**
 * The web front: server-rendered pages for buyers (/, /events/{id}, /me/tickets), theaters
 * (/theater/...) and /status, plus their one script and stylesheet. Every provider serves the same
 * pages; each page knows the other providers' URLs and falls back to them for API calls
 * (functions/web/client/api.ts). See docs/web.md.
 */

/** Assets are named by content hash, so a cached copy can never be stale. */
const IMMUTABLE = "public, max-age=31536000, immutable";
/** Pages are small and carry the cluster config: always revalidate. */
const PAGE_CACHE = "no-cache";

export function webRoutes(s: Services) {
  const app = new Hono();
  const config = webConfig(s);
  const status = statusReporter(s);
  // No inline script or style may run; the config is a JSON data block, which CSP does not execute.
  const csp = [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    `connect-src 'self' ${connectOrigins(config).join(" ")}`,
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join("; ");

  const secure = (c: Context) => {
    c.header("content-security-policy", csp);
    c.header("x-content-type-options", "nosniff");
    // The sign-in callback URL carries an authorization code: never leak it in a Referer.
    c.header("referrer-policy", "no-referrer");
  };
  /** A handler rendering `name`; with `withId`, about the id in the path (404 when malformed). */
  const page =
    (name: PageName, withId = false) =>
    async (c: Context) => {
      secure(c);
      c.header("cache-control", PAGE_CACHE);
      const id = withId ? c.req.param("id") : undefined;
      if (id !== undefined && !ID_PATTERN.test(id)) {
        return c.html(await renderPage("home", { config }), 404);
      }
      return c.html(await renderPage(name, { config, ...(id ? { id } : {}) }));
    };

  app.get("/", page("home"));
  app.get("/events/:id", page("event", true));
  app.get("/me/tickets", page("tickets"));
  app.get("/signin/callback", page("callback"));
  app.get("/theater", page("theater"));
  app.get("/theater/plans/new", page("theater-plan"));
  app.get("/theater/plans/:id", page("theater-plan", true));
  app.get("/theater/events/new", page("theater-event-new"));
  app.get("/theater/events/:id", page("theater-event", true));
  app.get("/status", async (c) => {
    const st = await status();
    secure(c);
    c.header("cache-control", "no-store");
    return c.html(await renderPage("status", { config }, { status: st }));
  });

  app.get("/web/config.json", (c) => {
    c.header("cache-control", PAGE_CACHE);
    return c.json(config);
  });
  app.get("/web/status.json", async (c) => {
    c.header("cache-control", "no-store");
    return c.json(await status());
  });
  // An asset URL with an older hash (a page rendered by a provider one deploy behind) still gets
  // the current asset, just not cached for long.
  app.get("/web/:file{app\\.[0-9a-f]+\\.js}", (c) => {
    const current = c.req.param("file") === `app.${APP_JS_HASH}.js`;
    return c.body(APP_JS, 200, {
      "content-type": "text/javascript; charset=utf-8",
      "cache-control": current ? IMMUTABLE : PAGE_CACHE,
      "x-content-type-options": "nosniff",
    });
  });
  app.get("/web/:file{app\\.[0-9a-f]+\\.css}", (c) => {
    const current = c.req.param("file") === `app.${APP_CSS_HASH}.css`;
    return c.body(APP_CSS, 200, {
      "content-type": "text/css; charset=utf-8",
      "cache-control": current ? IMMUTABLE : PAGE_CACHE,
      "x-content-type-options": "nosniff",
    });
  });
  return app;
}
