import type { ExecutionContext } from "hono";
import { type App, createApp } from "../../functions/app.ts";
import type { AppDeps } from "../../functions/deps.ts";
import { PROBLEM_BASE, problemResponse } from "../../functions/problem.ts";
import { ConfigError, loadConfig } from "../../shared/config.ts";
import { DurableObjectAcceptor } from "./acceptor-durable-objects.ts";
import { R2Blobs } from "./blobs-r2.ts";
import { CloudflareEnv } from "./env.ts";
import type { ScheduledController } from "./runtime-types.ts";

export { AcceptorObject } from "./acceptor-object.ts";

/** Built on the first request of an isolate: bindings and secrets are fixed for its lifetime. */
let built: { deps: AppDeps; app: App } | { error: string } | undefined;

function build(env: Record<string, unknown>): NonNullable<typeof built> {
  try {
    const cfg = loadConfig(CloudflareEnv, env);
    const deps: AppDeps = {
      provider: "cloudflare",
      cluster: cfg.TESSERA_CLUSTER,
      signingKey: cfg.TESSERA_SIGNING_KEY,
      settings: cfg,
      acceptor: new DurableObjectAcceptor(cfg.ACCEPTORS),
      blobs: new R2Blobs(cfg.BLOBS),
      storeName: "durable-objects",
      // Set by Cloudflare's edge from the connection, replacing any value the client sent
      // (hono/cloudflare-workers getConnInfo reads the same header).
      clientAddress: (c) => c.req.header("cf-connecting-ip"),
    };
    return { deps, app: createApp(deps) };
  } catch (e) {
    if (e instanceof ConfigError) return { error: e.message };
    throw e;
  }
}

export default {
  fetch(req: Request, env: Record<string, unknown>, ctx: ExecutionContext) {
    built ??= build(env);
    if ("app" in built) return built.app.fetch(req, env, ctx);
    // A Worker has no start-up to fail: every request answers the configuration error (and logs it,
    // so `wrangler tail` shows which variable to fix) until a deploy with a good config.
    console.error(`[cloudflare] ${built.error}`);
    return problemResponse({
      type: `${PROBLEM_BASE}misconfigured`,
      title: "Deployment misconfigured",
      status: 500,
      detail: built.error,
    });
  },

  // Cron trigger (wrangler.toml [triggers]): one anti-entropy sweep through the same route every
  // provider's scheduler calls, in-process with CRON_SECRET.
  scheduled(_controller: ScheduledController, env: Record<string, unknown>, ctx: ExecutionContext) {
    built ??= build(env);
    if (!("app" in built)) return;
    const app = built.app;
    const secret = typeof env.CRON_SECRET === "string" ? env.CRON_SECRET : "";
    ctx.waitUntil(
      Promise.resolve(
        app.request("/internal/anti-entropy", {
          method: "POST",
          headers: { authorization: `Bearer ${secret}` },
        }),
      ).then((r) => {
        if (r.status >= 500) console.error(`[cloudflare] anti-entropy sweep failed: ${r.status}`);
      }),
    );
  },
};
