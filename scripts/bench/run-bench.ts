import { UpstashAcceptor } from "../../adapters/vercel/acceptor-upstash.ts";
import { createUpstashClient } from "../../adapters/vercel/redis-client.ts";
import { PROVIDERS, type ProviderId } from "../../shared/config.ts";
import type { AcceptorPort } from "../../shared/storage/ports.ts";
import { WAN_JITTER_SHARE, WAN_ONE_WAY_MS } from "../local/wan-proxy.ts";
import type { SaleBackend } from "./backend.ts";
import { layoutFor, SeatBoard } from "./board.ts";
import {
  CALM_PURCHASES,
  type CalmFigures,
  type CalmHttpFigures,
  measureCalm,
  measureCalmHttp,
  measureCalmRefunds,
} from "./calm.ts";
import { createEvent, createEventAs, HttpBackend, toApiRef } from "./http-backend.ts";
import { type MachineInfo, machineInfo } from "./machine.ts";
import { type ChangeSample, newStoreCallCount, type StoreCallCount } from "./measure.ts";
import {
  type Coordinator,
  newPeerCounts,
  type PeerStatusCounts,
  ProtocolBackend,
  SINGLE_STORE_QUORUM,
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
  /** One-buyer-at-a-time HTTP purchases in the calm measurement (default CALM_PURCHASES). */
  readonly calmPurchases?: number;
  /** Run on this cluster instead of starting one (it is left running). */
  readonly cluster?: WanCluster;
  /** Show the providers' own logs. */
  readonly verbose?: boolean;
  /** Also run the sale through the public HTTP API (default true). */
  readonly http?: boolean;
  /** Size of the HTTP section's event and crowd: every confirm there also charges a card and
   * issues tickets signed by two providers, so it sells a smaller event in the same time. */
  readonly httpSeats: number;
  readonly httpBuyers: number;
  /** Time limit of the HTTP sale. */
  readonly maxHttpSaleMs: number;
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
  /** Time limits keep the default run under ten minutes on a busy two-core machine; a sale cut
   * short is reported as such (timedOut, no sell-out time), never as a correctness failure. */
  maxSaleMs: 5 * 60_000,
  httpSeats: 500,
  httpBuyers: 200,
  maxHttpSaleMs: 2 * 60_000,
} as const;
export const BENCH_QUICK = {
  seats: 500,
  buyers: 300,
  concurrency: 16,
  maxSaleMs: 45_000,
  httpSeats: 60,
  httpBuyers: 40,
  maxHttpSaleMs: 30_000,
} as const;

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
  /** One buyer at a time through the HTTP API, before the sale (absent with --no-http). */
  readonly calmHttp?: CalmHttpFigures;
  readonly quorum: SystemResult;
  /** The same sale through the public HTTP API (t2 units use each provider's calm t2). */
  readonly http?: SystemResult;
  readonly single: SystemResult;
  readonly peers: PeerStatusCounts;
  readonly figures: BenchFigures;
}

/** The headline numbers (also the one JSON line `--quick` ends with). */
export interface BenchFigures {
  doubleSold: number;
  lostOrders: number;
  seatsLeftAvailable: number;
  /** A sale was stopped by its time limit before selling out (figures then cover a part). */
  timedOut: boolean;
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
  httpReservationsPerSec: number | null;
  httpCommit1P50Ms: number | null;
  httpConfirm1P50Ms: number | null;
  /** HTTP hold and confirm of one seat by one buyer at a time, p50 over the provider's calm t2. */
  httpHold1P50T2: number | null;
  httpConfirm1P50T2: number | null;
  /** The same confirm less the card processor's time (Server-Timing), and that time in ms. */
  httpConfirm1NetP50T2: number | null;
  httpConfirm1ProcessorP50Ms: number | null;
  /** httpConfirm1NetP50T2 per provider that coordinated the confirm. */
  httpConfirm1NetP50T2ByProvider: Readonly<Record<string, number>> | null;
  /** A calm whole-order refund of one seat (its ticket revoked before it answers), p50. */
  httpRefund1P50T2: number | null;
  httpRefund1P50Ms: number | null;
  /** Calm one-seat hold: where its time went on the server (Server-Timing step medians, ms). */
  httpHold1StepsMs: Readonly<Record<string, number>> | null;
  httpConfirm1StepsMs: Readonly<Record<string, number>> | null;
  /** HTTP holds and confirms of any size during the loaded sale, p50 in calm t2. */
  httpHoldLoadP50T2: number | null;
  httpConfirmLoadP50T2: number | null;
  /** Store requests (prepare, accept, read, scan, delete; one batched call counts once) per seat
   * sold, every step of every purchase and abandoned hold included, protocol section. `keys`:
   * registers named by those calls per seat. */
  storeCallsPerSeat: {
    quorum: number;
    single: number;
    quorumKeys: number;
    singleKeys: number;
  };
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
  size: { seats: number; buyers: number; maxMs: number } = {
    seats: o.seats,
    buyers: o.buyers,
    maxMs: o.maxSaleMs,
  },
): Promise<{ log: SaleLog; board: SeatBoard }> {
  const board = new SeatBoard(layoutFor(size.seats));
  const log = await runSale({
    backend,
    board,
    eventId,
    buyers: size.buyers,
    concurrency: o.concurrency,
    seed: o.seed,
    thinkMs: o.thinkMs,
    maxDurationMs: size.maxMs,
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
    const qCalls = newStoreCallCount();
    const coords = wanCoordinators(wan, peers, qCalls);
    const calm = await measureCalm(coords, runTag, o.calmChanges);
    takeSamples(coords);
    o.log(`calm: ${JSON.stringify(calm)}`);
    // One HTTP backend for the calm purchases and the sale: it reports each provider's calm t2.
    const httpBackend = new HttpBackend(wan, (p) => calm[p]?.t2Ms);
    const calmHttp =
      o.http === false ? undefined : await calmPurchases(o, wan, httpBackend, runTag);
    qCalls.calls = 0;
    qCalls.keys = 0;
    const readers = storeReaders(wan);
    const quorum = await quorumSale(o, coords, qCalls, readers, `bq${runTag}`);
    const http =
      o.http === false
        ? undefined
        : await httpSale(o, wan, httpBackend, coords, readers, `h${runTag}`);
    const single = await singleStoreSale(o, wan, runTag);
    const { log: _log, outDir: _out, cluster: _c, ...options } = o;
    const report: BenchReport = {
      kind: "bench",
      version: 1,
      startedAt: startedAt.toISOString(),
      command,
      machine: machineInfo(),
      options,
      wan: wanProfile(o.latencyScale),
      calm,
      ...(calmHttp ? { calmHttp } : {}),
      quorum: quorum.result,
      ...(http ? { http: http.result } : {}),
      single: single.result,
      peers,
      figures: benchFigures(calm, calmHttp, quorum, http, single),
    };
    if (o.outDir !== undefined) await writeBench(o, o.outDir, startedAt, report);
    return report;
  } finally {
    if (!o.cluster) await wan.stop();
  }
}

/** A sale's figures, with what the figures need besides them. */
interface SaleRun {
  readonly result: SystemResult;
  readonly log: SaleLog;
  /** Store calls and keys during the sale. */
  readonly calls: StoreCallCount;
}

async function calmPurchases(
  o: BenchOptions,
  wan: WanCluster,
  httpBackend: HttpBackend,
  runTag: string,
): Promise<CalmHttpFigures> {
  const purchases = o.calmPurchases ?? CALM_PURCHASES;
  const layout = layoutFor(purchases);
  const calmEvent = await createEventAs(wan, layout, `c${runTag}`);
  const orders: { at: ProviderId; orderId: string }[] = [];
  const bought = await measureCalmHttp(
    httpBackend,
    calmEvent.eventId,
    [...new SeatBoard(layout).all()],
    purchases,
    (at, orderId) => orders.push({ at, orderId }),
  );
  // Then the theatre refunds a few of them, one at a time (each revokes its ticket).
  const refund = await measureCalmRefunds(orders, calmEvent.refund, httpBackend.t2Of);
  const calmHttp = { ...bought, refund };
  o.log(`calm HTTP: ${JSON.stringify(calmHttp)}`);
  return calmHttp;
}

async function quorumSale(
  o: BenchOptions,
  coords: Record<ProviderId, Coordinator>,
  qCalls: StoreCallCount,
  readers: Record<ProviderId, AcceptorPort>,
  eventId: string,
): Promise<SaleRun> {
  o.log(`quorum sale: ${o.seats} seats, ${o.buyers} buyers, ${o.concurrency} in flight...`);
  const q = await sell(o, new ProtocolBackend("quorum", coords), eventId);
  const calls = { ...qCalls };
  const samples = takeSamples(coords);
  setRecording(coords, false);
  const summary = summarizeSale("quorum (2 of 3)", q.log, samples, PROVIDERS);
  o.log(`quorum sale done in ${summary.durationS}s; verifying every seat on the three stores...`);
  const correctness = await verifySale({
    eventId,
    seats: [...q.board.all()],
    log: q.log,
    readers: PROVIDERS.map((p) => readers[p]),
    client: coords.aws.client,
    service: coords.aws.seats,
  });
  return { result: { summary, correctness }, log: q.log, calls };
}

async function httpSale(
  o: BenchOptions,
  wan: WanCluster,
  httpBackend: HttpBackend,
  coords: Record<ProviderId, Coordinator>,
  readers: Record<ProviderId, AcceptorPort>,
  eventTag: string,
): Promise<SaleRun> {
  o.log("HTTP sale through the public API (event created with the management API)...");
  const httpEvent = await createEvent(wan, layoutFor(o.httpSeats), eventTag);
  const h = await sell(o, httpBackend, httpEvent, {
    seats: o.httpSeats,
    buyers: o.httpBuyers,
    maxMs: o.maxHttpSaleMs,
  });
  const summary = summarizeSale("http api", h.log, null, PROVIDERS);
  o.log(`HTTP sale done in ${summary.durationS}s; verifying...`);
  for (const [why, n] of [...httpBackend.serverRefusals].sort((a, b) => b[1] - a[1])) {
    o.log(`  ${n} × ${why}`);
  }
  const correctness = await verifySale({
    eventId: httpEvent,
    seats: [...h.board.all()].map((r) => {
      const a = toApiRef(r);
      return { section: a.sectionId, seatId: a.seatId };
    }),
    log: h.log,
    readers: PROVIDERS.map((p) => readers[p]),
    client: coords.aws.client,
    service: coords.aws.seats,
  });
  return { result: { summary, correctness }, log: h.log, calls: newStoreCallCount() };
}

async function singleStoreSale(o: BenchOptions, wan: WanCluster, runTag: string): Promise<SaleRun> {
  o.log("single-store baseline sale (one Redis, no quorum)...");
  const store = new UpstashAcceptor(createUpstashClient(wan.upstash), {
    namespace: `bench-single-${runTag}:`,
  });
  const sCalls = newStoreCallCount();
  const singles = singleStoreCoordinators(store, sCalls);
  const singleEvent = `bs${runTag}`;
  const s = await sell(
    o,
    new ProtocolBackend("single", singles, { quorumOf: SINGLE_STORE_QUORUM }),
    singleEvent,
  );
  const calls = { ...sCalls };
  const samples = takeSamples(singles);
  setRecording(singles, false);
  const summary = summarizeSale("single store", s.log, samples, ["redis"]);
  const correctness = await verifySale({
    eventId: singleEvent,
    seats: [...s.board.all()],
    log: s.log,
    readers: [store],
    client: singles.aws.client,
    service: singles.aws.seats,
  });
  return { result: { summary, correctness }, log: s.log, calls };
}

function benchFigures(
  calm: Record<string, CalmFigures>,
  calmHttp: CalmHttpFigures | undefined,
  quorum: SaleRun,
  httpRun: SaleRun | undefined,
  single: SaleRun,
): BenchFigures {
  const qSummary = quorum.result.summary;
  const qCorrect = quorum.result.correctness;
  const sSummary = single.result.summary;
  const http = httpRun?.result;
  const f = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? -1 : x);
  const perSeat = (calls: number, seats: number) => (seats > 0 ? round(calls / seats, 2) : -1);
  const calmList = Object.values(calm);
  const avg = (xs: number[]) => round(xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length), 2);
  return {
    doubleSold: qCorrect.doubleSold + (http?.correctness.doubleSold ?? 0),
    lostOrders: qCorrect.lostOrders + (http?.correctness.lostOrders ?? 0),
    // Seats still free count against a sale only if it ended because buyers saw it sold out,
    // not when the time limit stopped the buyers.
    seatsLeftAvailable:
      (quorum.log.timedOut ? 0 : qCorrect.seatsLeftAvailable) +
      (http && !httpRun?.log.timedOut ? http.correctness.seatsLeftAvailable : 0),
    timedOut: quorum.log.timedOut || (httpRun?.log.timedOut ?? false) || single.log.timedOut,
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
    httpReservationsPerSec: http?.summary.reservationsPerSec ?? null,
    httpCommit1P50Ms: http ? f(http.summary.latency.commit1?.ms.p50) : null,
    httpConfirm1P50Ms: http ? f(http.summary.latency.confirm1?.ms.p50) : null,
    httpHold1P50T2: calmHttp ? f(calmHttp.holdT2) : null,
    httpConfirm1P50T2: calmHttp ? f(calmHttp.confirmT2) : null,
    httpConfirm1NetP50T2: calmHttp ? f(calmHttp.confirmNetT2) : null,
    httpConfirm1ProcessorP50Ms: calmHttp ? f(calmHttp.processorMs) : null,
    httpConfirm1NetP50T2ByProvider: calmHttp?.confirmNetT2ByProvider ?? null,
    httpRefund1P50T2: calmHttp?.refund ? f(calmHttp.refund.refundT2) : null,
    httpRefund1P50Ms: calmHttp?.refund ? f(calmHttp.refund.refundMs) : null,
    httpHold1StepsMs: calmHttp?.holdStepsMs ?? null,
    httpConfirm1StepsMs: calmHttp?.confirmStepsMs ?? null,
    httpHoldLoadP50T2: http ? f(http.summary.latency.commitAll?.t2?.p50) : null,
    httpConfirmLoadP50T2: http ? f(http.summary.latency.confirmAll?.t2?.p50) : null,
    storeCallsPerSeat: {
      quorum: perSeat(quorum.calls.calls, qCorrect.seatsSold),
      single: perSeat(single.calls.calls, single.result.correctness.seatsSold),
      quorumKeys: perSeat(quorum.calls.keys, qCorrect.seatsSold),
      singleKeys: perSeat(single.calls.keys, single.result.correctness.seatsSold),
    },
  };
}

/** The WAN profile the run used: one-way delay per pair of providers, and the jitter. */
function wanProfile(latencyScale: number): BenchReport["wan"] {
  return {
    oneWayMs: Object.fromEntries(
      Object.entries(WAN_ONE_WAY_MS)
        .filter(([k, v]) => v > 0 && k.split("|")[0]! < k.split("|")[1]!)
        .map(([k, v]) => [k.replace("|", "–"), v * latencyScale]),
    ),
    jitterShare: WAN_JITTER_SHARE,
  };
}

async function writeBench(
  o: BenchOptions,
  outDir: string,
  startedAt: Date,
  report: BenchReport,
): Promise<void> {
  const at = stamp(startedAt);
  const systems = [report.quorum.summary, report.http?.summary, report.single.summary];
  const svg = renderSvg(
    `Flash sale: ${o.seats} seats, ${o.buyers} buyers (${machineInfo().nproc} cores, ${at})`,
    systems.filter((x): x is SaleSummary => x !== undefined),
  );
  const files = await writeResults(outDir, "", at, report, svg);
  o.log(`wrote ${files.join(", ")}`);
}

/** The report as a human table: one column per system under test. */
export function benchTable(r: BenchReport): string {
  const systems = [r.quorum, ...(r.http ? [r.http] : []), r.single];
  const head = ["", "quorum protocol (WAN)", ...(r.http ? ["HTTP API (WAN)"] : []), "single store"];
  type Sys = SystemResult;
  const pc = (k: string) => (x: Sys) => {
    const f = x.summary.latency[k];
    return f && f.ms.n > 0 ? `${f.ms.p50} / ${f.ms.p95} / ${f.ms.p99}` : "-";
  };
  const pt = (k: string) => (x: Sys) => {
    const f = x.summary.latency[k]?.t2;
    return f && f.n > 0 && x !== r.single ? `${f.p50} / ${f.p95} / ${f.p99}` : "-";
  };
  const lines: [string, (x: Sys) => string][] = [
    ["commit 1 seat p50/p95/p99 ms", pc("commit1")],
    ["commit 1 seat p50/p95/p99 in t2", pt("commit1")],
    ["commit 6 seats p50/p95/p99 ms", pc("commit6")],
    ["commit 6 seats p50/p95/p99 in t2", pt("commit6")],
    ["confirm 1 seat p50/p95/p99 ms", pc("confirm1")],
    ["confirm 6 seats p50/p95/p99 ms", pc("confirm6")],
    ["hold, any size, p50/p95/p99 in t2", pt("commitAll")],
    ["confirm, any size, p50/p95/p99 in t2", pt("confirmAll")],
    ["t2 p50 ms", (x) => (x === r.single ? "-" : String(x.summary.t2Ms?.p50 ?? "-"))],
    ["round trips per change p50", (x) => String(x.summary.changes?.p50RoundTrips ?? "-")],
    ["reservations / s", (x) => String(x.summary.reservationsPerSec)],
    ["seats reserved / s", (x) => String(x.summary.seatsReservedPerSec)],
    [
      "time to sell out s",
      (x) => (x.summary.sellOutS === null ? "not in the time limit" : String(x.summary.sellOutS)),
    ],
    ["customers / orders", (x) => `${x.summary.customers} / ${x.summary.orders}`],
    [
      "conflicts / retries per seat",
      (x) => `${x.summary.contention.conflictsPerSeat} / ${x.summary.contention.retriesPerSeat}`,
    ],
    ["double sold", (x) => String(x.correctness.doubleSold)],
    ["lost orders", (x) => String(x.correctness.lostOrders)],
    [
      // Seats still free when buyers stopped: a failure only if they stopped because the map
      // showed none, not because the run's time limit stopped them.
      "seats left available",
      (x) =>
        `${x.correctness.seatsLeftAvailable}${x.summary.sellOutS === null ? " (time limit)" : ""}`,
    ],
    ["held by walk-aways", (x) => String(x.correctness.heldByAbandoned)],
  ];
  const rows = [head, ...lines.map(([label, f]) => [label, ...systems.map(f)])];
  rows.push([
    "calm cold / warm round trips",
    `${r.figures.calmColdRoundTrips} / ${r.figures.calmWarmRoundTrips}`,
  ]);
  rows.push(["quorum vs single throughput", String(r.figures.quorumVsSingleThroughput)]);
  const c = r.figures.storeCallsPerSeat;
  rows.push([
    "store calls (keys) per seat sold",
    `${c.quorum} (${c.quorumKeys}) quorum / ${c.single} (${c.singleKeys}) single`,
  ]);
  if (r.calmHttp) {
    const h = r.calmHttp;
    rows.push([
      "calm HTTP hold / confirm p50",
      `${h.holdMs} / ${h.confirmMs} ms = ${h.holdT2} / ${h.confirmT2} t2 (${h.purchases} buyers one at a time, ${h.failed} failed)`,
    ]);
    if (h.refund) {
      rows.push([
        "calm HTTP refund p50",
        `${h.refund.refundMs} ms = ${h.refund.refundT2} t2 (${h.refund.refunds} one-seat orders, ticket revoked)`,
      ]);
    }
  }
  const widths = head.map((_, i) => Math.max(...rows.map((x) => (x[i] ?? "").length)));
  return rows
    .map((x) =>
      x
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

export { RESULTS_DIR };
