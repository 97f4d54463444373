import { mkdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { Miniflare, type MiniflareOptions } from "miniflare";
import { EDGE_ADDRESS_HEADERS, type EdgeFront, startEdgeFront } from "./edge.ts";
import type { LocalProvider, LocalProviderOptions } from "./types.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const WORKER_ENTRY = join(ROOT, "adapters/cloudflare/index.ts");
/** Same as wrangler.toml: the runtime behaviour the deployed worker gets. */
export const COMPATIBILITY_DATE = "2026-04-26";
/**
 * Same name as wrangler.toml: Miniflare keys Durable Object storage by `<worker>-<class>`, so every
 * local run (and `wrangler dev`) over one data folder sees the same objects.
 */
export const WORKER_NAME = "tessera";

/** Bundles a module worker the way wrangler does (workerd export conditions, runtime modules
 * left to workerd), in memory. */
export async function bundleWorker(entry: string): Promise<string> {
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    conditions: ["workerd", "worker", "browser"],
    external: ["cloudflare:*"],
    target: "es2022",
    logLevel: "silent",
  });
  const file = out.outputFiles[0];
  if (!file) throw new Error(`esbuild produced no output for ${entry}`);
  return file.text;
}

/**
 * Miniflare options for a worker with Tessera's bindings (ACCEPTORS Durable Objects on SQLite,
 * BLOBS on R2), persisted under `dataDir` (or in memory when it is undefined). `cf: false` keeps
 * Miniflare from downloading the request.cf template, so nothing leaves the machine.
 */
export function workerOptions(o: {
  script: string;
  dataDir?: string;
  port?: number;
  bindings?: Record<string, string>;
}): MiniflareOptions {
  return {
    name: WORKER_NAME,
    modules: true,
    script: o.script,
    compatibilityDate: COMPATIBILITY_DATE,
    durableObjects: { ACCEPTORS: { className: "AcceptorObject", useSQLite: true } },
    r2Buckets: ["BLOBS"],
    bindings: o.bindings ?? {},
    cf: false,
    host: "127.0.0.1",
    ...(o.port === undefined ? {} : { port: o.port }),
    ...(o.dataDir === undefined
      ? {}
      : {
          durableObjectsPersist: join(o.dataDir, "durable-objects"),
          r2Persist: join(o.dataDir, "r2"),
        }),
  };
}

/**
 * The Cloudflare provider locally: the worker bundle in workerd (via Miniflare) with Durable
 * Objects and R2 persisted under opts.dataDir, behind a front that sets CF-Connecting-IP as
 * Cloudflare's edge does (scripts/local/edge.ts). The "workerd" stand-in stops and restarts the
 * runtime and its front on the same port and data folder, as a Cloudflare outage and recovery
 * would look.
 */
export async function startCloudflare(opts: LocalProviderOptions): Promise<LocalProvider> {
  // Only wrangler reads these, but a shell that later runs wrangler from this process inherits them.
  process.env.WRANGLER_SEND_METRICS ??= "false";
  process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= "false";
  await mkdir(opts.dataDir, { recursive: true });
  const script = await bundleWorker(WORKER_ENTRY);
  let port = opts.port;
  let workerdPort = 0;
  const launch = async () => {
    const mf = new Miniflare(
      workerOptions({ script, dataDir: opts.dataDir, port: 0, bindings: opts.env }),
    );
    workerdPort = Number((await mf.ready).port);
    const front = await startEdgeFront({
      port,
      upstreamPort: () => workerdPort,
      names: EDGE_ADDRESS_HEADERS.cloudflare,
    }).catch(async (e: unknown) => {
      await mf.dispose();
      throw e;
    });
    // Keep the port the front got so that a restart comes back at the same URL.
    port = front.port;
    return { mf, front };
  };

  let current: { mf: Miniflare; front: EdgeFront } | undefined;
  current = await launch();
  const url = `http://127.0.0.1:${port}`;

  const stopWorkerd = async () => {
    const c = current;
    current = undefined;
    await c?.front.close();
    await c?.mf.dispose();
  };
  let stopped: Promise<void> | undefined;
  return {
    provider: "cloudflare",
    url,
    stop: () => {
      stopped ??= stopWorkerd();
      return stopped;
    },
    standIns: {
      workerd: {
        stop: stopWorkerd,
        start: async () => {
          if (current || stopped) return;
          current = await launch();
        },
      },
    },
  };
}
