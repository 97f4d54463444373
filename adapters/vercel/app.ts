import { z } from "zod";
import { createApp } from "../../functions/app.ts";
import type { AppDeps } from "../../functions/deps.ts";
import { loadConfig } from "../../shared/config.ts";
import { DeploymentEnv } from "../../shared/env.ts";
import { UpstashAcceptor } from "./acceptor-upstash.ts";
import { UpstashBlobs } from "./blobs-upstash.ts";
import { createUpstashClient } from "./redis-client.ts";

/** The Vercel deployment's environment: the common settings plus its Upstash database. */
export const VercelEnv = DeploymentEnv.extend({
  // A Vercel deployment configured as another provider would sign as that provider: refuse it.
  TESSERA_PROVIDER: z.literal("vercel"),
  UPSTASH_REDIS_REST_URL: z.url(),
  UPSTASH_REDIS_REST_TOKEN: z.string().min(1),
});
export type VercelEnv = z.infer<typeof VercelEnv>;

export const STORE_NAME = "upstash-redis";

/**
 * Builds the Vercel app from an environment; throws a ConfigError naming every bad variable.
 * Kept apart from the entry (index.ts), which runs it on process.env at import, so tests can build
 * the same app from their own environment without side effects. (The local Vercel provider runs
 * the built entry itself, in its own process: scripts/local/vercel.ts.)
 */
export function buildApp(env: Record<string, unknown>, opts: { retry?: false } = {}) {
  const cfg = loadConfig(VercelEnv, env);
  const redis = createUpstashClient({
    url: cfg.UPSTASH_REDIS_REST_URL,
    token: cfg.UPSTASH_REDIS_REST_TOKEN,
    ...opts,
  });
  const deps: AppDeps = {
    provider: cfg.TESSERA_PROVIDER,
    cluster: cfg.TESSERA_CLUSTER,
    signingKey: cfg.TESSERA_SIGNING_KEY,
    settings: cfg,
    acceptor: new UpstashAcceptor(redis),
    blobs: new UpstashBlobs(redis),
    storeName: STORE_NAME,
    // Set by Vercel's edge from the connection, replacing any value the client sent
    // (hono/vercel getConnInfo reads the same header).
    clientAddress: (c) => c.req.header("x-real-ip"),
  };
  return createApp(deps);
}
