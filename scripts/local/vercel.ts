import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import { buildApp } from "../../adapters/vercel/app.ts";
import { EDGE_ADDRESS_HEADERS, socketAddress, withEdgeAddress } from "./edge.ts";
import { startRedis } from "./redis.ts";
import type { LocalProvider, LocalProviderOptions } from "./types.ts";
import { startUpstashBridge } from "./upstash-bridge.ts";

export interface LocalVercel extends LocalProvider {
  /** The bridge's REST endpoint, for tests and tools that talk to the store directly. */
  readonly upstash: { readonly url: string; readonly token: string };
}

/**
 * The Vercel provider on loopback: a real redis-server (data in <dataDir>/redis), the Upstash REST
 * bridge in front of it, and the Vercel adapter's own app served by Node, so the code path from
 * @upstash/redis down to the Lua scripts is the production one.
 */
export async function startVercel(opts: LocalProviderOptions): Promise<LocalVercel> {
  const redis = await startRedis({ dataDir: join(opts.dataDir, "redis") });
  const bridge = await startUpstashBridge({ redisPort: redis.port }).catch(async (e: unknown) => {
    await redis.stop();
    throw e;
  });
  let server: ReturnType<typeof serve> | undefined;
  try {
    const app = buildApp({
      ...opts.env,
      UPSTASH_REDIS_REST_URL: bridge.url,
      UPSTASH_REDIS_REST_TOKEN: bridge.token,
    });
    const info = await new Promise<AddressInfo>((resolve, reject) => {
      // As Vercel's edge does: the client address headers come from the connection.
      // Like hono/vercel's handle(), the app gets the request alone.
      const fetch = (req: Request, env: { incoming: { socket: { remoteAddress?: string } } }) =>
        app.fetch(withEdgeAddress(req, EDGE_ADDRESS_HEADERS.vercel, socketAddress(env.incoming)));
      server = serve({ fetch, port: opts.port, hostname: "127.0.0.1" }, resolve);
      server.once("error", reject);
    });
    let stopped: Promise<void> | undefined;
    const stop = () => {
      stopped ??= (async () => {
        await new Promise<void>((resolve) => {
          if (!server) return resolve();
          if ("closeAllConnections" in server) server.closeAllConnections();
          server.close(() => resolve());
        });
        await bridge.stop();
        await redis.stop();
      })();
      return stopped;
    };
    return {
      provider: "vercel",
      url: `http://127.0.0.1:${info.port}`,
      stop,
      standIns: { "redis-server": { stop: redis.stop, start: redis.start } },
      upstash: { url: bridge.url, token: bridge.token },
    };
  } catch (e) {
    server?.close();
    await bridge.stop();
    await redis.stop();
    throw e;
  }
}
