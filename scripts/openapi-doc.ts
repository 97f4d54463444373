import { writeFile } from "node:fs/promises";
import { createApp } from "../functions/app.ts";
import type { ProviderId } from "../shared/config.ts";
import { MemoryAcceptor, MemoryBlobs } from "../shared/storage/memory.ts";
import { makeTestCluster } from "./local/throwaway-cluster.ts";

/**
 * Writes the API's OpenAPI document, exactly as `/openapi.json` serves it, to the file named by
 * the first argument (stdout without one). Offline: one app on in-memory stores with throwaway
 * keys; the document holds nothing deployment-specific but the three server URLs.
 */
export async function openApiText(urls: Partial<Record<ProviderId, string>> = {}): Promise<string> {
  const tc = await makeTestCluster(urls);
  const app = createApp({
    provider: "cloudflare",
    cluster: tc.cluster,
    signingKey: tc.keys.cloudflare,
    settings: tc.settingsFor("cloudflare"),
    acceptor: new MemoryAcceptor(),
    blobs: new MemoryBlobs(),
    storeName: "memory",
  });
  const r = await app.request(new Request(`${tc.cluster.providers.cloudflare.url}/openapi.json`));
  if (r.status !== 200) throw new Error(`/openapi.json answered ${r.status}`);
  return JSON.stringify(JSON.parse(await r.text()), null, 2);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = process.argv[2];
  const text = await openApiText();
  if (out) await writeFile(out, `${text}\n`);
  else process.stdout.write(`${text}\n`);
}
