import type { ProviderId } from "../../shared/config.ts";
import type { SeatRef } from "../../shared/domain/keys.ts";
import type { SaleBackend } from "./backend.ts";
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

/** One buyer at a time through the public API: what a buyer waits on a quiet day. */
export interface CalmHttpFigures {
  /** Purchases tried (each a one-seat hold, then its confirm), round-robin over providers. */
  readonly purchases: number;
  readonly holdMs: number;
  readonly confirmMs: number;
  /** Each operation over its provider's calm t2 (the backend's, from measureCalm), then the
   * median. */
  readonly holdT2: number;
  readonly confirmT2: number;
  /** The confirm less the card processor's time (Server-Timing), over calm t2; and that time. */
  readonly confirmNetT2: number;
  /** The same, per provider that coordinated the confirm: where the platform keeps working after
   * the answer (Workers, Vercel) the order's record follows it; on Lambda the answer waits. */
  readonly confirmNetT2ByProvider: Readonly<Record<string, number>>;
  readonly processorMs: number;
  /** Where a hold's time went on the server (Server-Timing steps, median ms each). */
  readonly holdStepsMs: Readonly<Record<string, number>>;
  /** Where a confirm's time went on the server (Server-Timing steps, median ms each). */
  readonly confirmStepsMs: Readonly<Record<string, number>>;
  /** Some of these orders refunded afterwards (measureCalmRefunds). */
  readonly refund?: CalmRefundFigures;
  /** Operations that did not succeed (they are left out of the medians). */
  readonly failed: number;
}

/** Eight per provider: enough for a per-provider median of the confirm. */
export const CALM_PURCHASES = 24;

/** Calm purchases refunded in full by the theatre afterwards, one at a time, round-robin. */
export const CALM_REFUNDS = 6;

export interface CalmRefundFigures {
  readonly refunds: number;
  /** A whole-order refund (payment, order, seats, quota, and its tickets revoked), p50. */
  readonly refundMs: number;
  readonly refundT2: number;
}

/** Refunds the first calm orders (one seat each) one at a time, timing each from the client. */
export async function measureCalmRefunds(
  orders: readonly { at: ProviderId; orderId: string }[],
  refund: (at: ProviderId, orderId: string) => Promise<number>,
  t2Of: (p: ProviderId) => number | undefined,
): Promise<CalmRefundFigures> {
  const done: { ms: number; t2: number }[] = [];
  for (const o of orders.slice(0, CALM_REFUNDS)) {
    const ms = await refund(o.at, o.orderId);
    done.push({ ms, t2: t2Of(o.at) ?? Number.NaN });
  }
  return {
    refunds: done.length,
    refundMs: round(median(done.map((x) => x.ms)), 1),
    refundT2: round(median(done.filter((x) => x.t2 > 0).map((x) => x.ms / x.t2)), 2),
  };
}

export async function measureCalmHttp(
  backend: SaleBackend,
  eventId: string,
  seats: readonly SeatRef[],
  purchases = CALM_PURCHASES,
  onOrder: (at: ProviderId, orderId: string) => void = () => undefined,
): Promise<CalmHttpFigures> {
  const hold: { ms: number; t2: number }[] = [];
  const confirm: { ms: number; t2: number }[] = [];
  const confirmNet: { ms: number; t2: number; at: string }[] = [];
  const processor: { ms: number }[] = [];
  const holdSteps = new Map<string, number[]>();
  const confirmSteps = new Map<string, number[]>();
  const keep = (into: Map<string, number[]>, steps: Readonly<Record<string, number>> = {}) => {
    for (const [step, v] of Object.entries(steps)) into.set(step, [...(into.get(step) ?? []), v]);
  };
  let failed = 0;
  const n = Math.min(purchases, seats.length);
  for (let i = 0; i < n; i++) {
    const at = backend.providers[i % backend.providers.length]!;
    const buyer = await backend.buyer(900_000 + i);
    // Buyers pick seats on the seat map first (untimed): as in a real sale, the plan they hold
    // seats of is then in the memory of the instance they reach.
    await backend.freeOnMap(at, buyer, eventId, [seats[i]!]).catch(() => null);
    const h = await backend.hold(at, buyer, `calm-h-${eventId}-${i}`, eventId, [seats[i]!]);
    if (!h.outcome.ok) {
      failed++;
      continue;
    }
    hold.push({ ms: h.measure.latencyMs, t2: h.measure.t2Ms ?? Number.NaN });
    keep(holdSteps, h.measure.serverSteps);
    const c = await backend.confirm(at, buyer, `calm-c-${eventId}-${i}`, h.outcome.value.holdId);
    if (!c.outcome.ok) {
      failed++;
      continue;
    }
    onOrder(at, c.outcome.value.orderId);
    confirm.push({ ms: c.measure.latencyMs, t2: c.measure.t2Ms ?? Number.NaN });
    keep(confirmSteps, c.measure.serverSteps);
    const p = c.measure.processorMs ?? 0;
    processor.push({ ms: p });
    confirmNet.push({ ms: c.measure.latencyMs - p, t2: c.measure.t2Ms ?? Number.NaN, at });
  }
  const ms = (xs: { ms: number }[]) => round(median(xs.map((x) => x.ms)), 1);
  const inT2 = (xs: { ms: number; t2: number }[]) =>
    round(median(xs.filter((x) => x.t2 > 0).map((x) => x.ms / x.t2)), 2);
  return {
    purchases: n,
    holdMs: ms(hold),
    confirmMs: ms(confirm),
    holdT2: inT2(hold),
    confirmT2: inT2(confirm),
    confirmNetT2: inT2(confirmNet),
    confirmNetT2ByProvider: Object.fromEntries(
      backend.providers.map((p) => [p, inT2(confirmNet.filter((x) => x.at === p))] as const),
    ),
    processorMs: ms(processor),
    holdStepsMs: medians(holdSteps),
    confirmStepsMs: medians(confirmSteps),
    failed,
  };
}

const medians = (steps: ReadonlyMap<string, number[]>): Record<string, number> =>
  Object.fromEntries([...steps].map(([step, xs]) => [step, round(median(xs), 1)] as const));
