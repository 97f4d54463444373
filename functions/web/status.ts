import { PROVIDERS } from "../../shared/config.ts";
import { QUORUM } from "../../shared/quorum/tally.ts";
import { errorText } from "../problem.ts";
import { checkHealth } from "../services/health.ts";
import type { Services } from "../services/index.ts";
import type { ClusterStatus, ProviderHealth } from "./status-types.ts";

/**
 * The cluster's health as /status shows it, gathered on the server: this provider's own /health
 * in-process, the others' over HTTP (server to server, so no CORS). Each /health already reports
 * its store and which peers it reaches; this puts the three side by side and says whether two
 * stores (the quorum) answer.
 */

/**
 * How long one provider's /health may take. It waits up to LIVEZ_TIMEOUT_MS (1.5 s, services/health.ts)
 * for its own peers, so this leaves room for that plus a slow link.
 */
const HEALTH_TIMEOUT_MS = 3_000;

interface HealthBody {
  store?: { name: string; ok: boolean; latencyMs?: number; error?: string };
  peers?: Record<string, { ok: boolean; latencyMs?: number }>;
}

export function statusReporter(s: Services) {
  const own = () =>
    checkHealth(s.deps, (what, e) =>
      console.error(`[${s.deps.provider}] /status: own ${what}: ${errorText(e)}`),
    );
  const doFetch = s.deps.fetch;
  const clock = s.now;

  const probe = async (provider: (typeof PROVIDERS)[number]): Promise<ProviderHealth> => {
    const url = s.deps.cluster.providers[provider].url;
    const t0 = clock();
    try {
      const body: HealthBody =
        provider === s.deps.provider
          ? await own()
          : await doFetch(`${url}/health`, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) }).then(
              (r) => r.json() as Promise<HealthBody>,
            );
      return {
        provider,
        url,
        reachable: true,
        latencyMs: clock() - t0,
        ...(body.store ? { store: body.store } : {}),
        ...(body.peers ? { peers: body.peers } : {}),
      };
    } catch (e) {
      // The page is public: it says what failed; the error text goes to the log.
      console.error(`[${s.deps.provider}] /status: ${provider}: ${errorText(e)}`);
      return { provider, url, reachable: false, error: shortError(e) };
    }
  };

  return async (): Promise<ClusterStatus> => {
    const providers = await Promise.all(PROVIDERS.map(probe));
    const storesUp = providers.filter((p) => p.reachable && p.store?.ok).length;
    return {
      clusterId: s.deps.cluster.clusterId,
      servedBy: s.deps.provider,
      checkedAt: new Date(clock()).toISOString(),
      providers,
      quorum: { storesUp, needed: QUORUM, available: storesUp >= QUORUM },
    };
  };
}

function shortError(e: unknown): string {
  return e instanceof Error && e.name === "TimeoutError" ? "timed out" : "unreachable";
}
