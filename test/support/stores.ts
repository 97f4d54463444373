import { RemoteAcceptor } from "../../functions/peers/remote-acceptor.ts";
import type { LocalCluster } from "../../scripts/local/cluster.ts";
import { PROVIDERS, type ProviderId } from "../../shared/config.ts";
import type { AcceptorRecord } from "../../shared/quorum/messages.ts";
import type { AcceptorPort } from "../../shared/storage/ports.ts";

/**
 * Each provider's own store as seen through its signed internal acceptor endpoint, signing as
 * another provider of the cluster (a test holds every key): lets tests compare the three stores
 * directly, bypassing the quorum.
 */
export function storesOf(cluster: LocalCluster): Record<ProviderId, AcceptorPort> {
  return Object.fromEntries(
    PROVIDERS.map((p) => {
      const signer = p === "cloudflare" ? "vercel" : "cloudflare";
      return [
        p,
        new RemoteAcceptor({
          to: p,
          url: cluster.providers[p].url,
          key: cluster.keys[signer],
          now: Date.now,
        }),
      ];
    }),
  ) as unknown as Record<ProviderId, AcceptorPort>;
}

export async function scanAll(store: AcceptorPort, prefix: string): Promise<AcceptorRecord[]> {
  const out: AcceptorRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.scan(prefix, { limit: 500, ...(cursor ? { cursor } : {}) });
    out.push(...page.records);
    cursor = page.cursor;
  } while (cursor);
  return out;
}

/** Keys under `prefix` whose accepted ballot or value differ between the three stores. */
export async function divergentKeys(cluster: LocalCluster, prefix: string): Promise<string[]> {
  const stores = storesOf(cluster);
  const scans = await Promise.all(PROVIDERS.map((p) => scanAll(stores[p], prefix)));
  const maps = scans.map((s) => new Map(s.map((r) => [r.key, `${r.accepted}|${r.value}`])));
  const keys = new Set(scans.flatMap((s) => s.map((r) => r.key)));
  return [...keys].filter((k) => new Set(maps.map((m) => m.get(k) ?? "|null")).size > 1).sort();
}
