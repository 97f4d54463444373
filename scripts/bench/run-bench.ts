import { UpstashAcceptor } from "../../adapters/vercel/acceptor-upstash.ts";
import { createUpstashClient } from "../../adapters/vercel/redis-client.ts";
import { PROVIDERS, type ProviderId } from "../../shared/config.ts";
import { WAN_JITTER_SHARE, WAN_ONE_WAY_MS } from "../local/wan-proxy.ts";
import type { SaleBackend } from "./backend.ts";
import { layoutFor, SeatBoard } from "./board.ts";
import { type CalmFigures, measureCalm } from "./calm.ts";
import { type MachineInfo, machineInfo } from "./machine.ts";
import type { ChangeSample } from "./measure.ts";
import {
  type Coordinator,
  newPeerCounts,
  type PeerStatusCounts,
  ProtocolBackend,
  singleStoreCoordinators,
  wanCoordinators,
} from "./protocol-backend.ts";
import { RESULTS_DIR, stamp, writeResults } from "./results.ts";
import { runSale, type SaleLog } from "./sale.ts";
import { round } from "./stats.ts";
import { type SaleSummary, summarizeSale } from "./summary.ts";
import { renderSvg } from "./svg.ts";
import { type Correctness, storeReaders, verifySale } from "./verify.ts";
import { startWanCluster, type WanCluster } from "./wan-cluster.ts";

/**
 * `npm run bench`: a flash sale on the real local cluster with WAN latency between providers,
 * against the same sale on a single store, with the correctness of every seat checked afterwards.
 */

export interface BenchOptions {
  readonly seats: number;
  readonly buyers: number;
  readonly concurrency: number;
  readonly seed: number;
  readonly thinkMs: number;
  /** Multiplies the WAN link delays (1 = the default profile). */
  readonly latencyScale: number;
  /** Where to write the results; undefined = nowhere (tests). */
  readonly outDir?: string;
  readonly quick: boolean;
  readonly log: (line: string) => void;
  /** Stops new customers of a sale after this long (a run never hangs CI). */
  readonly maxSaleMs: number;
  /** Changes per coordinator and kind in the calm measurement (default CALM_CHANGES). */
  readonly calmChanges?: number;
  /** Run on this cluster instead of starting one (it is left running). */
  readonly cluster?: WanCluster;
  /** Show the providers' own logs. */
  readonly verbose?: boolean;
}

/** Defaults: a mid-size theatre's flash sale; finishes in a few minutes on two cores. */
export const BENCH_DEFAULTS = {
  seats: 5_000,
  buyers: 2_000,
  /** Requests in flight across all buyers: what two cores serve without queueing for seconds. */
  concurrency: 24,
  seed: 1,
  thinkMs: 50,
  latencyScale: 1,
  maxSaleMs: 6 * 60_000,
} as const;
export const BENCH_QUICK = { seats: 500, buyers: 300, concurrency: 16, maxSaleMs: 45_000 } as const;

export interface SystemResult {
  readonly summary: SaleSummary;
  readonly correctness: Correctness;
}

export interface BenchReport {
  readonly kind: "bench";
  readonly version: 1;
  readonly startedAt: string;
  readonly command: string;
  readonly machine: MachineInfo;
  readonly options: Omit<BenchOptions, "log" | "outDir" | "cluster">;
  readonly wan: { readonly oneWayMs: Record<string, number>; readonly jitterShare: number };
  /** Per coordinator, one change at a time on a calm cluster. */
  readonly calm: Record<string, CalmFigures>;
  readonly quorum: SystemResult;
  readonly single: SystemResult;
  readonly peers: PeerStatusCounts;
  readonly figures: BenchFigures;
}

/** The headline numbers (also the one JSON line `--quick` ends with). */
export interface BenchFigures {
  doubleSold: number;
  lostOrders: number;
  seatsLeftAvailable: number;
  p50RoundTrips: number;
  calmColdRoundTrips: number;
  calmWarmRoundTrips: number;
  quorumVsSingleThroughput: number;
  reservationsPerSec: number;
  singleReservationsPerSec: number;
  sellOutS: number | null;
  commit1P50Ms: number;
  commit1P99Ms: number;
  commit6P50Ms: number;
  commit6P99Ms: number;
  commit1P50T2: number;
  commit6P50T2: number;
  t2P50Ms: number;
  conflictsPerSeat: number;
  retriesPerSeat: number;
  seatsSold: number;
}

function takeSamples(coords: Record<ProviderId, Coordinator>): Record<string, ChangeSample[]> {
  return Object.fromEntries(
    Object.entries(coords).map(([p, c]) => [p, c.client.samples.splice(0)]),
  );
}

function setRecording(coords: Record<ProviderId, Coordinator>, on: boolean) {
  for (const c of Object.values(coords)) c.client.recording = on;
}

async function sell(
  o: BenchOptions,
  backend: SaleBackend,
  eventId: string,
): Promise<{ log: SaleLog; board: SeatBoard }> {
  const board = new SeatBoard(layoutFor(o.seats));
  const log = await runSale({
    backend,
    board,
    eventId,
    buyers: o.buyers,
    concurrency: o.concurrency,
    seed: o.seed,
    thinkMs: o.thinkMs,
    maxDurationMs: o.maxSaleMs,
    progress: o.log,
  });
  return { log, board };
}

export async function runBench(o: BenchOptions, command = "npm run bench"): Promise<BenchReport> {
  const startedAt = new Date();
  const runTag = stamp(startedAt)
    .replace(/[^0-9]/g, "")
    .slice(2, 14);
  if (!o.cluster) o.log(`starting the local cluster with WAN proxies (scale ${o.latencyScale})...`);
  const wan: WanCluster =
    o.cluster ??
    (await startWanCluster({
      seed: o.seed,
      latencyScale: o.latencyScale,
      ...(o.verbose ? { verbose: true } : {}),
    }));
  try {
    const peers = newPeerCounts();
    const coords = wanCoordinators(wan, peers);
    const calm = await measureCalm(coords, runTag, o.calmChanges);
    takeSamples(coords);
    o.log(`calm: ${JSON.stringify(calm)}`);

    o.log(`quorum sale: ${o.seats} seats, ${o.buyers} buyers, ${o.concurrency} in flight...`);
    const eventId = `bq${runTag}`;
    const q = await sell(o, new ProtocolBackend("quorum", coords), eventId);
    const qSamples = takeSamples(coords);
    setRecording(coords, false);
    const qSummary = summarizeSale("quorum (2 of 3)", q.log, qSamples, PROVIDERS);
    o.log(
      `quorum sale done in ${qSummary.durationS}s; verifying every seat on the three stores...`,
    );
    const readers = storeReaders(wan);
    const qCorrect = await verifySale({
      eventId,
      seats: [...q.board.all()],
      log: q.log,
      readers: PROVIDERS.map((p) => readers[p]),
      client: coords.aws.client,
      service: coords.aws.seats,
    });

    o.log("single-store baseline sale (one Redis, no quorum)...");
    const store = new UpstashAcceptor(createUpstashClient(wan.upstash), {
      namespace: `bench-single-${runTag}:`,
    });
    const singles = singleStoreCoordinators(store);
    const singleEvent = `bs${runTag}`;
    const s = await sell(o, new ProtocolBackend("single", singles, { quorumOf: 1 }), singleEvent);
    const sSamples = takeSamples(singles);
    setRecording(singles, false);
    const sSummary = summarizeSale("single store", s.log, sSamples, ["redis"]);
    const sCorrect = await verifySale({
      eventId: singleEvent,
      seats: [...s.board.all()],
      log: s.log,
      readers: [store],
      client: singles.aws.client,
      service: singles.aws.seats,
    });

    const f = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? -1 : x);
    const calmList = Object.values(calm);
    const avg = (xs: number[]) => round(xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length), 2);
    const figures: BenchFigures = {
      doubleSold: qCorrect.doubleSold,
      lostOrders: qCorrect.lostOrders,
      seatsLeftAvailable: qCorrect.seatsLeftAvailable,
      p50RoundTrips: f(qSummary.changes?.p50RoundTrips),
      calmColdRoundTrips: avg(calmList.map((c) => c.coldRoundTrips)),
      calmWarmRoundTrips: avg(calmList.map((c) => c.warmRoundTrips)),
      quorumVsSingleThroughput: round(
        qSummary.reservationsPerSec / Math.max(1e-9, sSummary.reservationsPerSec),
        3,
      ),
      reservationsPerSec: qSummary.reservationsPerSec,
      singleReservationsPerSec: sSummary.reservationsPerSec,
      sellOutS: qSummary.sellOutS,
      commit1P50Ms: f(qSummary.latency.commit1?.ms.p50),
      commit1P99Ms: f(qSummary.latency.commit1?.ms.p99),
      commit6P50Ms: f(qSummary.latency.commit6?.ms.p50),
      commit6P99Ms: f(qSummary.latency.commit6?.ms.p99),
      commit1P50T2: f(qSummary.latency.commit1?.t2?.p50),
      commit6P50T2: f(qSummary.latency.commit6?.t2?.p50),
      t2P50Ms: f(qSummary.t2Ms?.p50),
      conflictsPerSeat: qSummary.contention.conflictsPerSeat,
      retriesPerSeat: qSummary.contention.retriesPerSeat,
      seatsSold: qCorrect.seatsSold,
    };
    const { log: _log, outDir: _out, cluster: _c, ...options } = o;
    const report: BenchReport = {
      kind: "bench",
      version: 1,
      startedAt: startedAt.toISOString(),
      command,
      machine: machineInfo(),
      options,
      wan: {
        oneWayMs: Object.fromEntries(
          Object.entries(WAN_ONE_WAY_MS)
            .filter(([k, v]) => v > 0 && k.split("|")[0]! < k.split("|")[1]!)
            .map(([k, v]) => [k.replace("|", "–"), v * o.latencyScale]),
        ),
        jitterShare: WAN_JITTER_SHARE,
      },
      calm,
      quorum: { summary: qSummary, correctness: qCorrect },
      single: { summary: sSummary, correctness: sCorrect },
      peers,
      figures,
    };
    if (o.outDir !== undefined) {
      const at = stamp(startedAt);
      const svg = renderSvg(
        `Flash sale: ${o.seats} seats, ${o.buyers} buyers (${machineInfo().nproc} cores, ${at})`,
        [qSummary, sSummary],
      );
      const files = await writeResults(o.outDir, "", at, report, svg);
      o.log(`wrote ${files.join(", ")}`);
    }
    return report;
  } finally {
    if (!o.cluster) await wan.stop();
  }
}

/** The report as a human table. */
export function benchTable(r: BenchReport): string {
  const rows: [string, string, string][] = [];
  const q = r.quorum.summary;
  const s = r.single.summary;
  const pc = (x: { ms: { p50: number; p95: number; p99: number } } | undefined) =>
    x ? `${x.ms.p50} / ${x.ms.p95} / ${x.ms.p99}` : "-";
  const pt = (x: { t2?: { p50: number; p95: number; p99: number } } | undefined) =>
    x?.t2 ? `${x.t2.p50} / ${x.t2.p95} / ${x.t2.p99}` : "-";
  rows.push(["", "quorum (2 of 3, WAN)", "single store"]);
  rows.push(["commit 1 seat p50/p95/p99 ms", pc(q.latency.commit1), pc(s.latency.commit1)]);
  rows.push(["commit 1 seat p50/p95/p99 in t2", pt(q.latency.commit1), "-"]);
  rows.push(["commit 6 seats p50/p95/p99 ms", pc(q.latency.commit6), pc(s.latency.commit6)]);
  rows.push(["commit 6 seats p50/p95/p99 in t2", pt(q.latency.commit6), "-"]);
  rows.push(["confirm 1 seat p50/p95/p99 ms", pc(q.latency.confirm1), pc(s.latency.confirm1)]);
  rows.push(["t2 p50 ms", String(q.t2Ms?.p50 ?? "-"), "-"]);
  rows.push(["round trips per change p50", String(q.changes?.p50RoundTrips ?? "-"), "-"]);
  rows.push([
    "calm cold / warm round trips",
    `${r.figures.calmColdRoundTrips} / ${r.figures.calmWarmRoundTrips}`,
    "-",
  ]);
  rows.push(["reservations / s", String(q.reservationsPerSec), String(s.reservationsPerSec)]);
  rows.push(["seats reserved / s", String(q.seatsReservedPerSec), String(s.seatsReservedPerSec)]);
  rows.push(["time to sell out s", String(q.sellOutS ?? "-"), String(s.sellOutS ?? "-")]);
  rows.push(["customers / orders", `${q.customers} / ${q.orders}`, `${s.customers} / ${s.orders}`]);
  rows.push([
    "conflicts / retries per seat",
    `${q.contention.conflictsPerSeat} / ${q.contention.retriesPerSeat}`,
    `${s.contention.conflictsPerSeat} / ${s.contention.retriesPerSeat}`,
  ]);
  const qc = r.quorum.correctness;
  const sc = r.single.correctness;
  rows.push(["double sold", String(qc.doubleSold), String(sc.doubleSold)]);
  rows.push(["lost orders", String(qc.lostOrders), String(sc.lostOrders)]);
  rows.push(["seats left available", String(qc.seatsLeftAvailable), String(sc.seatsLeftAvailable)]);
  rows.push(["held by walk-aways", String(qc.heldByAbandoned), String(sc.heldByAbandoned)]);
  rows.push(["quorum vs single throughput", String(r.figures.quorumVsSingleThroughput), ""]);
  const w0 = Math.max(...rows.map((x) => x[0].length));
  const w1 = Math.max(...rows.map((x) => x[1].length));
  return rows.map(([a, b, c]) => `${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`).join("\n");
}

export { RESULTS_DIR };
