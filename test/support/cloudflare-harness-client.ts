import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";
import { bundleWorker, workerOptions } from "../../scripts/local/cloudflare.ts";
import type { AcceptorPort, BlobPort } from "../../shared/storage/ports.ts";

const HARNESS = join(dirname(fileURLToPath(import.meta.url)), "cloudflare-harness.ts");

export interface CloudflareHarness {
  /** The real DurableObjectAcceptor, running in workerd, seen through fetch. */
  readonly acceptor: AcceptorPort;
  /** The real R2Blobs, running in workerd, seen through fetch. */
  readonly blobs: BlobPort;
  /** Id of the Durable Object holding `key`, and every key that object stores. */
  placement(key: string): Promise<{ objectId: string; keys: string[] }>;
  dispose(): Promise<void>;
}

let script: Promise<string> | undefined;

/**
 * Runs test/support/cloudflare-harness.ts in Miniflare with the same bindings (and, given a
 * dataDir, the same storage layout) as scripts/local/cloudflare.ts. No port is opened:
 * calls go through `dispatchFetch`.
 */
export async function startCloudflareHarness(dataDir?: string): Promise<CloudflareHarness> {
  script ??= bundleWorker(HARNESS);
  const mf = new Miniflare(workerOptions({ script: await script, dataDir }));
  await mf.ready;

  const call = async <T>(path: string, args: unknown): Promise<T> => {
    const res = await mf.dispatchFetch(`http://harness.local${path}`, {
      method: "POST",
      body: JSON.stringify(args ?? null),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`harness ${path}: ${res.status} ${text}`);
    return JSON.parse(text) as T;
  };

  return {
    acceptor: {
      prepare: (req) => call("/acceptor/prepare", req),
      accept: (entries) => call("/acceptor/accept", entries),
      deleteIf: (entries) => call("/acceptor/delete", entries),
      read: (keys) => call("/acceptor/read", keys),
      scan: (prefix, opts) => call("/acceptor/scan", { prefix, opts }),
      ping: async () => {
        await call("/acceptor/ping", null);
      },
    },
    blobs: {
      put: async (key, body, opts) => {
        const payload =
          typeof body === "string"
            ? { text: body }
            : { base64: Buffer.from(body).toString("base64") };
        await call("/blobs/put", { key, ...payload, opts });
      },
      get: async (key) => {
        const r = await call<{ base64: string } | null>("/blobs/get", { key });
        return r && new Uint8Array(Buffer.from(r.base64, "base64"));
      },
      list: (prefix, opts) => call("/blobs/list", { prefix, opts }),
    },
    placement: (key) => call("/debug/placement", { key }),
    dispose: () => mf.dispose(),
  };
}
