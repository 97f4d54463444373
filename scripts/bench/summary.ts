import type { ChangeSample } from "./measure.ts";
import type { OpKind, OpRecord, SaleLog } from "./sale.ts";
import { median, type Percentiles, percentiles, round } from "./stats.ts";

/** The figures of one sale (one system under test), as they go into the report. */

export interface LatencyFigures {
  /** Milliseconds as the buyer (or coordinator, in protocol mode) saw them. */
  readonly ms: Percentiles;
  /** The same in units of t2 (each operation divided by its own t2); absent without t2. */
  readonly t2?: Percentiles;
}

export interface TimelinePoint {
  /** Bucket end, seconds since the sale started. */
  readonly t: number;
  readonly reservationsPerSec: number;
  readonly seatsPerSec: number;
  readonly holdP50Ms: number;
  readonly holdP95Ms: number;
}

export interface SaleSummary {
  readonly system: string;
  readonly customers: number;
  readonly holds: number;
  readonly orders: number;
  readonly seatsReserved: number;
  readonly durationS: number;
  readonly sellOutS: number | null;
  readonly reservationsPerSec: number;
  readonly seatsReservedPerSec: number;
  readonly ordersPerSec: number;
  /** Commit (hold) and sale (confirm) latency, first tries that succeeded, by order size. */
  readonly latency: Readonly<Record<string, LatencyFigures>>;
  /** t2 as each operation's coordinator saw it. */
  readonly t2Ms?: Percentiles;
  /** Quorum changes: latency over t2 of the change itself. */
  readonly changes?: {
    readonly count: number;
    readonly roundTrips: Percentiles;
    readonly p50RoundTrips: number;
    /** Reply time per acceptor, as seen by the coordinators (p50 ms), e.g. "vercel→aws". */
    readonly replyP50Ms: Readonly<Record<string, number>>;
  };
  readonly contention: {
    readonly conflicts: number;
    readonly holdRetries: number;
    readonly resends: number;
    /** Seats shown taken that the live map showed free again before the sale ended. */
    readonly seatsBackOnMap: number;
    readonly conflictsPerSeat: number;
    readonly retriesPerSeat: number;
    /** Ballot refusals counted in acceptor replies (proposers racing on one key). */
    readonly ballotRefusals?: number;
  };
  /** Answers by code (ok, taken, unavailable, aborted...). */
  readonly outcomes: Readonly<Record<string, number>>;
  readonly soldOutTurnedAway: number;
  readonly gaveUp: number;
  readonly unresolved: number;
  readonly timeline: readonly TimelinePoint[];
}

/** About this many points in a timeline: enough for a plot, small in the JSON. */
const TIMELINE_POINTS = 60;
const TIMELINE_BUCKET_MIN_MS = 250;

const firstOk = (ops: readonly OpRecord[], kind: OpKind, seats?: number) =>
  ops.filter(
    (o) =>
      o.kind === kind &&
      o.status === 200 &&
      o.retry === 0 &&
      (seats === undefined || o.seats === seats),
  );

function latencyOf(ops: readonly OpRecord[]): LatencyFigures {
  const ms = percentiles(ops.map((o) => o.latencyMs));
  const withT2 = ops.filter((o) => o.t2Ms !== undefined && o.t2Ms > 0);
  return withT2.length > 0
    ? {
        ms,
        t2: percentiles(
          withT2.map((o) => o.latencyMs / (o.t2Ms as number)),
          2,
        ),
      }
    : { ms };
}

export function summarizeSale(
  system: string,
  log: SaleLog,
  /** Changes made during the sale, per coordinator (null: none measured). */
  samplesBy: Readonly<Record<string, readonly ChangeSample[]>> | null,
  providerOrder: readonly string[],
): SaleSummary {
  const samples = samplesBy ? Object.values(samplesBy).flat() : [];
  const holdsOk = log.ops.filter((o) => o.kind === "hold" && o.status === 200);
  const seatsReserved = holdsOk.reduce((n, o) => n + o.seats, 0);
  const windowMs = Math.max(1, log.sellOutMs ?? log.durationMs);
  const confirmsOk = log.ops.filter((o) => o.kind === "confirm" && o.status === 200);
  const perS = (n: number, ms: number) => round(n / (ms / 1000), 1);

  const latency: Record<string, LatencyFigures> = {
    commit1: latencyOf(firstOk(log.ops, "hold", 1)),
    commit6: latencyOf(firstOk(log.ops, "hold", 6)),
    commitAll: latencyOf(firstOk(log.ops, "hold")),
    confirm1: latencyOf(firstOk(log.ops, "confirm", 1)),
    confirm6: latencyOf(firstOk(log.ops, "confirm", 6)),
    confirmAll: latencyOf(firstOk(log.ops, "confirm")),
  };
  const outcomes: Record<string, number> = {};
  for (const o of log.ops) outcomes[o.code] = (outcomes[o.code] ?? 0) + 1;

  let changes: SaleSummary["changes"];
  let ballotRefusals: number | undefined;
  if (samplesBy && samples.length > 0) {
    const rt = samples
      .filter((s) => s.status === "ok" && Number.isFinite(s.t2Ms) && s.t2Ms > 0)
      .map((s) => s.latencyMs / s.t2Ms);
    const replies = new Map<string, number[]>();
    ballotRefusals = 0;
    for (const [from, list] of Object.entries(samplesBy)) {
      for (const s of list) {
        for (const c of s.calls) {
          ballotRefusals += c.refused;
          const k = `${from}→${providerOrder[c.acceptor] ?? c.acceptor}`;
          const durs = replies.get(k) ?? [];
          durs.push(c.durMs);
          replies.set(k, durs);
        }
      }
    }
    const rtp = percentiles(rt, 2);
    changes = {
      count: samples.length,
      roundTrips: rtp,
      p50RoundTrips: rtp.p50,
      replyP50Ms: Object.fromEntries(
        [...replies.entries()].sort().map(([k, v]) => [k, round(median(v), 1)]),
      ),
    };
  }
  const t2s = log.ops.flatMap((o) => (o.t2Ms === undefined ? [] : [o.t2Ms]));
  return {
    system,
    customers: log.customers,
    holds: holdsOk.length,
    orders: log.orders.length,
    seatsReserved,
    durationS: round(log.durationMs / 1000, 2),
    sellOutS: log.sellOutMs === null ? null : round(log.sellOutMs / 1000, 2),
    reservationsPerSec: perS(holdsOk.length, windowMs),
    seatsReservedPerSec: perS(seatsReserved, windowMs),
    ordersPerSec: perS(confirmsOk.length, Math.max(1, log.durationMs)),
    latency,
    ...(t2s.length > 0 ? { t2Ms: percentiles(t2s) } : {}),
    ...(changes ? { changes } : {}),
    contention: {
      conflicts: log.conflicts,
      holdRetries: log.holdRetries,
      resends: log.resends,
      seatsBackOnMap: log.seatsBackOnMap,
      conflictsPerSeat: round(log.conflicts / Math.max(1, seatsReserved), 3),
      retriesPerSeat: round((log.holdRetries + log.resends) / Math.max(1, seatsReserved), 3),
      ...(ballotRefusals === undefined ? {} : { ballotRefusals }),
    },
    outcomes,
    soldOutTurnedAway: log.soldOutTurnedAway,
    gaveUp: log.gaveUp,
    unresolved: log.unresolved,
    timeline: timeline(log),
  };
}

export function timeline(log: SaleLog): TimelinePoint[] {
  const bucket = Math.max(TIMELINE_BUCKET_MIN_MS, Math.ceil(log.durationMs / TIMELINE_POINTS));
  const n = Math.max(1, Math.ceil(log.durationMs / bucket));
  const holds: OpRecord[][] = Array.from({ length: n }, () => []);
  for (const o of log.ops) {
    if (o.kind !== "hold" || o.status !== 200) continue;
    const i = Math.min(n - 1, Math.floor((o.startMs + o.latencyMs) / bucket));
    holds[i]?.push(o);
  }
  return holds.map((hs, i) => {
    const lat = percentiles(hs.map((h) => h.latencyMs));
    const perS = 1000 / bucket;
    return {
      t: round(((i + 1) * bucket) / 1000, 2),
      reservationsPerSec: round(hs.length * perS, 1),
      seatsPerSec: round(hs.reduce((s, h) => s + h.seats, 0) * perS, 1),
      holdP50Ms: Number.isNaN(lat.p50) ? 0 : lat.p50,
      holdP95Ms: Number.isNaN(lat.p95) ? 0 : lat.p95,
    };
  });
}
