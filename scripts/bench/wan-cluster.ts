import type { IncomingHttpHeaders } from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROVIDERS, type PrivateJwk, type ProviderId } from "../../shared/config.ts";
import { type LocalCluster, startLocalCluster } from "../local/cluster.ts";
import { deploymentEnv } from "../local/env.ts";
import { freePort } from "../local/redis.ts";
import {
  type LinkProfile,
  oneWayMs,
  peerSourceOf,
  startWanProxy,
  WAN_JITTER_SHARE,
  type WanProxy,
} from "../local/wan-proxy.ts";

/**
 * The real local cluster with a WAN proxy in front of each provider: the cluster configuration
 * names the proxies, so every provider-to-provider call (and every peer call the benchmark makes
 * as a coordinator "at" a provider) crosses the link profile between the two regions. Buyers reach
 * their provider directly.
 */
export interface WanCluster {
  readonly local: LocalCluster;
  readonly proxies: Record<ProviderId, WanProxy>;
  /** Provider URL without the proxy (what a buyer in its region reaches). */
  readonly direct: Record<ProviderId, string>;
  readonly dataDir: string;
  /** The CRON_SECRET every local provider was given (scripts/local/env.ts derives it). */
  readonly cronSecret: string;
  /** A provider whose key may sign calls to `to` (any provider but `to` itself). */
  signerFor(to: ProviderId): { provider: ProviderId; key: PrivateJwk };
  stop(): Promise<void>;
}

export interface WanClusterOptions {
  /** Data folder; a fresh temporary one (removed on stop) when absent. */
  readonly dataDir?: string;
  readonly seed?: number;
  /** Multiplies every link delay (0 = no WAN latency). */
  readonly latencyScale?: number;
  readonly clusterId?: string;
}

export async function startWanCluster(o: WanClusterOptions = {}): Promise<WanCluster> {
  const dataDir = o.dataDir ?? (await mkdtemp(join(tmpdir(), "tessera-bench-")));
  const ownsDir = o.dataDir === undefined;
  const scale = o.latencyScale ?? 1;
  const ports = Object.fromEntries(
    await Promise.all(PROVIDERS.map(async (p) => [p, await freePort()] as const)),
  ) as Record<ProviderId, number>;

  // The keys (and so the source of each signed call) exist only once the cluster started; until
  // then the proxies treat calls as coming from nowhere in particular.
  let sourceOf: (h: IncomingHttpHeaders) => ProviderId | undefined = () => undefined;
  const proxies = {} as Record<ProviderId, WanProxy>;
  try {
    for (const [i, p] of PROVIDERS.entries()) {
      const links: Record<string, Partial<LinkProfile>> = {};
      for (const q of PROVIDERS) {
        const d = oneWayMs(q, p) * scale;
        links[q] = { delayMs: d, jitterMs: d * WAN_JITTER_SHARE };
      }
      proxies[p] = await startWanProxy({
        target: `http://127.0.0.1:${ports[p]}`,
        seed: (o.seed ?? 1) * 31 + i,
        sourceOf: (h) => sourceOf(h),
        links,
      });
    }
    const local = await startLocalCluster({
      dataDir,
      ports,
      clusterId: o.clusterId ?? "tessera-bench",
      urlFor: (p) => proxies[p].url,
    });
    sourceOf = peerSourceOf(local.cluster);
    const direct = Object.fromEntries(
      PROVIDERS.map((p) => [p, local.providers[p].url]),
    ) as Record<ProviderId, string>;
    // Derived exactly as the providers got it, so a change to its recipe cannot go out of step.
    const cronSecret =
      deploymentEnv({
        provider: "cloudflare",
        cluster: local.cluster,
        signingKey: local.keys.cloudflare,
        governanceKey: local.governanceKey,
        idpKey: local.idpKey,
      }).CRON_SECRET ?? "";
    return {
      local,
      proxies,
      direct,
      dataDir,
      cronSecret,
      signerFor(to) {
        const provider = PROVIDERS.find((p) => p !== to) as ProviderId;
        return { provider, key: local.keys[provider] };
      },
      async stop() {
        await local.stop();
        await Promise.all(PROVIDERS.map((p) => proxies[p].stop()));
        if (ownsDir) await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await Promise.all(Object.values(proxies).map((p) => p.stop()));
    if (ownsDir) await rm(dataDir, { recursive: true, force: true });
    throw e;
  }
}
