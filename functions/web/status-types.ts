/** What /web/status.json answers and /status shows (written by status.ts, read by the page). */
export interface ProviderHealth {
  readonly provider: string;
  readonly url: string;
  /** Whether its /health answered at all. */
  readonly reachable: boolean;
  readonly latencyMs?: number;
  readonly error?: string;
  readonly store?: { name: string; ok: boolean; latencyMs?: number; error?: string };
  /** Which peers this provider itself can reach. */
  readonly peers?: Record<string, { ok: boolean; latencyMs?: number }>;
}

export interface ClusterStatus {
  readonly clusterId: string;
  readonly servedBy: string;
  readonly checkedAt: string;
  readonly providers: readonly ProviderHealth[];
  readonly quorum: {
    readonly storesUp: number;
    readonly needed: number;
    readonly available: boolean;
  };
}
