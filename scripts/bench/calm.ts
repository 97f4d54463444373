import type { ProviderId } from "../../shared/config.ts";
import type { ChangeSample } from "./measure.ts";
import type { Coordinator } from "./protocol-backend.ts";
import { median, round } from "./stats.ts";

/**
 * Commit cost on a calm cluster, before the crowd arrives: one change at a time from each
 * coordinator, on fresh keys (cold: prepare + accept) and on a key the coordinator just wrote
 * (warm: its cached promise lets it go straight to accept). Here latency / t2 shows the protocol's
 * round trips without any queueing.
 */
export interface CalmFigures {
  readonly coldMs: number;
  readonly warmMs: number;
  readonly t2Ms: number;
  readonly coldRoundTrips: number;
  readonly warmRoundTrips: number;
}

/** Changes per kind and coordinator: enough for a stable median, quick on a calm cluster. */
export const CALM_CHANGES = 15;

export async function measureCalm(
  coordinators: Record<ProviderId, Coordinator>,
  runTag: string,
  changes = CALM_CHANGES,
): Promise<Record<string, CalmFigures>> {
  const out: Record<string, CalmFigures> = {};
  for (const [p, c] of Object.entries(coordinators)) {
    const cold: ChangeSample[] = [];
    const warm: ChangeSample[] = [];
    for (let i = 0; i < changes; i++) {
      const before = c.client.samples.length;
      const key = `bench/calm/${runTag}/${p}/${i}`;
      await c.client.change<number>([key], () => ({ values: [1] }));
      const first = c.client.samples[before];
      await c.client.change<number>([key], () => ({ values: [2] }));
      const second = c.client.samples[before + 1];
      if (first?.status === "ok") cold.push(first);
      if (second?.status === "ok") warm.push(second);
    }
    const t2 = median([...cold, ...warm].map((s) => s.t2Ms));
    const coldMs = median(cold.map((s) => s.latencyMs));
    const warmMs = median(warm.map((s) => s.latencyMs));
    out[p] = {
      coldMs: round(coldMs, 1),
      warmMs: round(warmMs, 1),
      t2Ms: round(t2, 1),
      coldRoundTrips: round(median(cold.map((s) => s.latencyMs / s.t2Ms)), 2),
      warmRoundTrips: round(median(warm.map((s) => s.latencyMs / s.t2Ms)), 2),
    };
  }
  return out;
}
