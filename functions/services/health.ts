import { PROVIDERS } from "../../shared/config.ts";
import { QUORUM } from "../../shared/quorum/tally.ts";
import type { Deps } from "../deps.ts";

/** How long a peer may take to answer /livez before /health calls it unreachable. */
export const LIVEZ_TIMEOUT_MS = 1500;

interface PeerHealth {
  ok: boolean;
  latencyMs?: number;
  error?: string;
}

export interface HealthReport {
  readonly provider: string;
  readonly clusterId: string;
  readonly store: { name: string; ok: boolean; latencyMs?: number; error?: string };
  readonly peers: Record<string, PeerHealth>;
  readonly quorum: { reachable: number; available: boolean };
}

/**
 * This provider's health: its store pinged, its peers' /livez called. What failed is said, never
 * the error text (store hosts, driver messages): that goes to `log`, with the request's id.
 */
export async function checkHealth(
  deps: Deps,
  log: (what: string, e: unknown) => void,
): Promise<HealthReport> {
  const now = deps.now;
  const t0 = now();
  const store = await deps.acceptor.ping().then(
    () => ({ name: deps.storeName, ok: true, latencyMs: now() - t0 }),
    (e: unknown) => {
      log("store", e);
      return { name: deps.storeName, ok: false, error: "store did not answer" };
    },
  );
  const peers = Object.fromEntries(
    await Promise.all(
      PROVIDERS.filter((p) => p !== deps.provider).map(async (p) => {
        const t = now();
        try {
          const r = await deps.fetch(`${deps.cluster.providers[p].url}/livez`, {
            signal: AbortSignal.timeout(LIVEZ_TIMEOUT_MS),
          });
          const res: PeerHealth = { ok: r.ok, latencyMs: now() - t };
          return [p, res] as const;
        } catch (e) {
          log(p, e);
          const timedOut = e instanceof Error && e.name === "TimeoutError";
          const res: PeerHealth = { ok: false, error: timedOut ? "timed out" : "unreachable" };
          return [p, res] as const;
        }
      }),
    ),
  );
  const reachable = 1 + Object.values(peers).filter((x) => x.ok).length;
  return {
    provider: deps.provider,
    clusterId: deps.cluster.clusterId,
    store,
    peers,
    quorum: { reachable, available: store.ok ? reachable >= QUORUM : reachable - 1 >= QUORUM },
  };
}
