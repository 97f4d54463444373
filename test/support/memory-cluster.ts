import { type App, createApp } from "../../functions/app.ts";
import type { RateLimits } from "../../functions/middleware/rate-limit.ts";
import { makeTestCluster, type TestCluster } from "../../scripts/local/throwaway-cluster.ts";
import { loadConfig, PROVIDERS, type ProviderId } from "../../shared/config.ts";
import { DeploymentEnv } from "../../shared/env.ts";
import { MemoryAcceptor, MemoryBlobs } from "../../shared/storage/memory.ts";
import { directStore, seedEvent } from "./seed.ts";

/** Default test clock: a fixed instant, so tests that move time do so explicitly. */
export const MEMORY_CLUSTER_EPOCH_MS = Date.UTC(2026, 10, 25, 12);

export interface MemoryClusterOptions {
  /** Start of the shared clock (ms); every app reads `clock.ms`. */
  startMs?: number;
  clusterId?: string;
  /** Rate limit overrides for every app (functions/middleware/rate-limit.ts). */
  rateLimits?: Partial<RateLimits>;
  /** Extra deployment environment for all three providers (e.g. TESSERA_TRUSTED_CLUSTERS). */
  env?: Record<string, string>;
  /** false: stores sign nothing in their accept replies (tickets are then asked for after). */
  witnessAccepts?: false;
  /** The in-process platform's `waitUntil` (as Workers and Vercel give one): absent, the apps
   * see no execution context, as on Lambda, and finish all work before answering. */
  afterAnswer?: (work: Promise<unknown>) => void;
}

/** What the in-process "platform" reports of a request (see MemoryCluster.request). */
interface PlatformEnv {
  readonly remoteAddress?: string;
}

export interface MemoryCluster {
  apps: Record<ProviderId, App>;
  /** A fetch that reaches the cluster's apps in-process by their configured URLs, as seen from
   * `provider` (cut providers are unreachable from everyone, and cannot reach anyone). */
  fetchVia(provider: ProviderId): typeof fetch;
  tc: TestCluster;
  acceptors: Record<ProviderId, MemoryAcceptor>;
  /** The one clock all three apps share; move it with `clock.ms += ...`. */
  clock: { ms: number };
  /** Makes `provider` unreachable over the (in-process) network until `heal`. */
  cut(provider: ProviderId): void;
  heal(provider: ProviderId): void;
  /** Makes every peer call whose path starts with `prefix` fail (e.g. one internal endpoint). */
  cutPath(prefix: string): void;
  healPath(prefix: string): void;
  /** A dev-IdP access token for a test user (alice, bob, carol, dave). */
  tokenFor(username: string, via?: ProviderId): Promise<string>;
  /** `app.request` on one provider with an absolute URL of its configured origin; `from` is the
   * client address the platform reports (none when absent, as for in-process calls). */
  request(provider: ProviderId, path: string, init?: RequestInit, from?: string): Promise<Response>;
}

/**
 * Three apps, one per provider, each on its own MemoryAcceptor, whose peer calls go to each other
 * in-process: a whole cluster with no sockets, for route tests. A single app on its own cannot
 * write (its QuorumClient needs a second store), hence three.
 */
export async function startMemoryCluster(o: MemoryClusterOptions = {}): Promise<MemoryCluster> {
  const tc = await makeTestCluster({}, o.clusterId ?? "test-memory");
  const clock = { ms: o.startMs ?? MEMORY_CLUSTER_EPOCH_MS };
  const cutSet = new Set<ProviderId>();
  const cutPaths = new Set<string>();
  const apps = {} as Record<ProviderId, App>;
  const acceptors = {} as Record<ProviderId, MemoryAcceptor>;
  const byOrigin = new Map<string, ProviderId>(
    PROVIDERS.map((p) => [new URL(tc.cluster.providers[p].url).origin, p]),
  );

  const fetchVia =
    (from: ProviderId): typeof fetch =>
    async (input, init) => {
      const req = new Request(input, init);
      const to = byOrigin.get(new URL(req.url).origin);
      if (to === undefined) throw new TypeError(`memory cluster: no provider at ${req.url}`);
      if (cutSet.has(to) || cutSet.has(from)) {
        throw new TypeError(`memory cluster: ${from} → ${to} is cut`);
      }
      const path = new URL(req.url).pathname;
      if ([...cutPaths].some((p) => path.startsWith(p))) {
        throw new TypeError(`memory cluster: ${path} is cut`);
      }
      return await apps[to].request(req);
    };

  for (const p of PROVIDERS) {
    acceptors[p] = new MemoryAcceptor();
    apps[p] = createApp({
      provider: p,
      cluster: tc.cluster,
      signingKey: tc.keys[p],
      settings: o.env
        ? loadConfig(DeploymentEnv, { ...tc.envFor(p), ...o.env })
        : tc.settingsFor(p),
      acceptor: acceptors[p],
      blobs: new MemoryBlobs(),
      storeName: "memory",
      now: () => clock.ms,
      fetch: fetchVia(p),
      clientAddress: (c) => (c.env as PlatformEnv | undefined)?.remoteAddress,
      ...(o.rateLimits ? { rateLimits: o.rateLimits } : {}),
      ...(o.witnessAccepts === false ? { witnessAccepts: false as const } : {}),
    });
  }

  const request = async (p: ProviderId, path: string, init?: RequestInit, from?: string) => {
    const env: PlatformEnv = from === undefined ? {} : { remoteAddress: from };
    const waitUntil = o.afterAnswer;
    const ctx = waitUntil && { waitUntil, passThroughOnException: () => undefined, props: {} };
    return await apps[p].request(
      new Request(`${tc.cluster.providers[p].url}${path}`, init),
      undefined,
      env,
      ctx,
    );
  };

  return {
    apps,
    fetchVia,
    tc,
    acceptors,
    clock,
    cut: (p) => cutSet.add(p),
    heal: (p) => cutSet.delete(p),
    cutPath: (prefix) => cutPaths.add(prefix),
    healPath: (prefix) => cutPaths.delete(prefix),
    request,
    async tokenFor(username, via = "cloudflare") {
      const r = await request(via, "/idp/token", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username }),
      });
      if (!r.ok) throw new Error(`dev IdP refused ${username}: ${r.status} ${await r.text()}`);
      return ((await r.json()) as { access_token: string }).access_token;
    },
  };
}

/** A memory cluster with one seeded on-sale event (test/support/seed.ts defaults). */
export async function startSeededMemoryCluster(o: MemoryClusterOptions = {}) {
  const mc = await startMemoryCluster(o);
  const ev = await seedEvent(
    directStore(mc.acceptors, () => mc.clock.ms),
    { nowMs: mc.clock.ms },
  );
  return { mc, ev };
}
