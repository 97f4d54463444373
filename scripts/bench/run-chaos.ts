import { PROVIDERS, type ProviderId } from "../../shared/config.ts";
import type { AcceptorPort } from "../../shared/storage/ports.ts";
import type { WanProxyStats } from "../local/wan-proxy.ts";
import { runAntiEntropy, type SweepTotals } from "./anti-entropy.ts";
import { layoutFor, SeatBoard } from "./board.ts";
import { measureCalm } from "./calm.ts";
import { type MachineInfo, machineInfo } from "./machine.ts";
import {
  type Coordinator,
  newPeerCounts,
  type PeerStatusCounts,
  ProtocolBackend,
  wanCoordinators,
} from "./protocol-backend.ts";
import { stamp, writeResults } from "./results.ts";
import { runSale, type SaleLog } from "./sale.ts";
import { round } from "./stats.ts";
import {
  type Convergence,
  type Correctness,
  compareStores,
  storeReaders,
  verifySale,
} from "./verify.ts";
import { startWanCluster, type WanCluster } from "./wan-cluster.ts";

/**
 * `npm run chaos`: the flash sale keeps running while, one phase at a time, a provider's store is
 * killed (redis-server, dynalite, workerd), a provider is cut off from the other two, a provider
 * turns slow, and coordinators die mid-request; then everything is restored. Afterwards the
 * providers' anti-entropy runs, and every key is compared on the three stores.
 */

export interface ChaosOptions {
  readonly seats: number;
  readonly buyers: number;
  readonly concurrency: number;
  readonly seed: number;
  /** Length of each fault phase. */
  readonly phaseMs: number;
  /** Customers arriving per second (the sale must outlast the phases). */
  readonly arrivalsPerSec: number;
  /** Share of requests whose coordinator is killed in the "kill coordinators" phase. */
  readonly abortRate: number;
  readonly latencyScale: number;
  readonly outDir?: string;
  readonly quick: boolean;
  readonly log: (line: string) => void;
  /** Run on this cluster instead of starting one (it is left running, faults cleared). */
  readonly cluster?: WanCluster;
  /** Show the providers' own logs (every store failure is logged: loud). */
  readonly verbose?: boolean;
}

export const CHAOS_DEFAULTS = {
  seats: 3_000,
  buyers: 400,
  concurrency: 16,
  seed: 7,
  phaseMs: 15_000,
  arrivalsPerSec: 6,
  abortRate: 0.3,
  latencyScale: 1,
} as const;
export const CHAOS_QUICK = { seats: 800, buyers: 100, phaseMs: 5_000, arrivalsPerSec: 5 } as const;

interface Phase {
  readonly name: string;
  /** Provider the fault hits (for "selling continued while one provider was down"). */
  readonly provider?: ProviderId;
  start(): Promise<void>;
  end(): Promise<void>;
}

export interface PhaseResult {
  readonly name: string;
  readonly provider?: ProviderId;
  readonly seconds: number;
  readonly holds: number;
  readonly orders: number;
  readonly reservationsPerSec: number;
  /** Buyer-level answers in the phase, by code. */
  readonly outcomes: Record<string, number>;
}

export interface ChaosFigures {
  doubleSold: number;
  lostOrders: number;
  converged: boolean;
  /** Server errors other than the documented 503 + Retry-After. */
  errors5xx: number;
  /** 503 + Retry-After answers to buyers ("quorum short / outcome unknown: retry"). */
  quorumShort503: number;
  /** 503 + Retry-After from a peer's acceptor endpoint whose store was down (the same answer,
   * one level lower: the coordinator counts it as that store's missing vote). */
  peerRetryAfter503: number;
  /** Every single-provider fault phase still committed reservations. */
  soldDuringEveryFault: boolean;
  minFaultReservationsPerSec: number;
  unresolved: number;
  seatsSold: number;
}

export interface ChaosReport {
  readonly kind: "chaos";
  readonly version: 1;
  readonly startedAt: string;
  readonly command: string;
  readonly machine: MachineInfo;
  readonly options: Omit<ChaosOptions, "log" | "outDir" | "cluster">;
  readonly phases: readonly PhaseResult[];
  readonly correctness: Correctness;
  readonly antiEntropy: {
    readonly passes: number;
    readonly perProvider: Record<string, SweepTotals>[];
  };
  readonly convergence: Convergence;
  readonly peers: PeerStatusCounts;
  readonly proxies: Record<string, WanProxyStats>;
  readonly figures: ChaosFigures;
  /** Errors nothing caught inside a provider's process (logged and survived), and host exits. */
  readonly hostFaults: readonly string[];
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** Anti-entropy passes before the stores must agree (a late third accept may still be landing). */
const CONVERGE_PASSES_MAX = 3;
const CONVERGE_SETTLE_MS = 1_000;

function phases(
  wan: WanCluster,
  backend: ProtocolBackend,
  abort: { rate: number },
  o: ChaosOptions,
): Phase[] {
  const standIn = (p: ProviderId, name: string, what: string): Phase => ({
    name: `kill ${p} store (${what})`,
    provider: p,
    start: () => wan.standIn(p, name, "stop"),
    end: () => wan.standIn(p, name, "start"),
  });
  const others = (p: ProviderId) => PROVIDERS.filter((q) => q !== p);
  const linkFault = (p: ProviderId, mode: "partition" | "slow", name: string): Phase => ({
    name,
    provider: p,
    start: async () => {
      // Both directions: calls into p, and p's calls out to the other two.
      wan.proxies[p].setFault({ mode });
      for (const q of others(p)) wan.proxies[q].setFault({ mode }, p);
    },
    end: async () => {
      for (const q of PROVIDERS) wan.proxies[q].clearFaults();
    },
  });
  return [
    { name: "healthy", start: async () => {}, end: async () => {} },
    standIn("vercel", "redis-server", "redis-server"),
    standIn("aws", "dynalite", "dynalite"),
    {
      // Stopping workerd takes the whole Cloudflare deployment down: its app and its store.
      name: "kill cloudflare (workerd)",
      provider: "cloudflare",
      start: async () => {
        backend.down.add("cloudflare");
        await wan.standIn("cloudflare", "workerd", "stop");
      },
      end: async () => {
        await wan.standIn("cloudflare", "workerd", "start");
        backend.down.delete("cloudflare");
      },
    },
    linkFault("vercel", "partition", "partition vercel from the others"),
    linkFault("aws", "slow", "slow aws"),
    {
      name: `kill ${Math.round(o.abortRate * 100)}% of coordinators mid-request`,
      start: async () => {
        abort.rate = o.abortRate;
      },
      end: async () => {
        abort.rate = 0;
      },
    },
    { name: "all restored", start: async () => {}, end: async () => {} },
  ];
}

function phaseResult(p: Phase, fromMs: number, toMs: number, log: SaleLog): PhaseResult {
  const inside = log.ops.filter((x) => {
    const t = x.startMs + x.latencyMs;
    return t >= fromMs && t < toMs;
  });
  const holds = inside.filter((x) => x.kind === "hold" && x.status === 200).length;
  const orders = inside.filter((x) => x.kind === "confirm" && x.status === 200).length;
  const outcomes: Record<string, number> = {};
  for (const x of inside)
    outcomes[`${x.kind}:${x.code}`] = (outcomes[`${x.kind}:${x.code}`] ?? 0) + 1;
  const seconds = (toMs - fromMs) / 1000;
  return {
    name: p.name,
    ...(p.provider ? { provider: p.provider } : {}),
    seconds: round(seconds, 1),
    holds,
    orders,
    reservationsPerSec: round(holds / Math.max(0.001, seconds), 2),
    outcomes,
  };
}

export async function runChaos(o: ChaosOptions, command = "npm run chaos"): Promise<ChaosReport> {
  const startedAt = new Date();
  const runTag = stamp(startedAt)
    .replace(/[^0-9]/g, "")
    .slice(2, 14);
  if (!o.cluster) o.log("starting the local cluster with WAN proxies...");
  const wan =
    o.cluster ??
    (await startWanCluster({
      seed: o.seed,
      latencyScale: o.latencyScale,
      clusterId: "tessera-chaos",
    }));
  try {
    const peers = newPeerCounts();
    const coords = wanCoordinators(wan, peers);
    // Warms each coordinator and store (and settles the Upstash driver's WAITAOF probe).
    await measureCalm(coords, runTag, 2);
    for (const c of Object.values(coords)) c.client.recording = false;
    const eventId = `ch${runTag}`;
    const t0 = performance.now();
    const { log, board, results } = await saleThroughFaults(o, wan, coords, eventId, t0);

    o.log("running anti-entropy on each provider...");
    const readers = storeReaders(wan);
    const sweeps = await converge(o, wan, readers);
    o.log("verifying every seat on the three stores...");
    const correctness = await verifySale({
      eventId,
      seats: [...board.all()],
      log,
      readers: PROVIDERS.map((p) => readers[p]),
      client: coords.aws.client,
      service: coords.aws.seats,
    });
    let convergence = sweeps.convergence;
    // Verification may have settled seats (the sweeper's job): compare once more.
    if (correctness.settledAfterRun > 0) {
      await runAntiEntropy(wan.direct, wan.cronSecret);
      await sleep(CONVERGE_SETTLE_MS);
      convergence = await compareStores(PROVIDERS.map((p) => readers[p]));
    }
    const proxies = Object.fromEntries(PROVIDERS.map((p) => [p, wan.proxies[p].stats]));
    const { log: _l, outDir: _d, cluster: _c, ...options } = o;
    const report: ChaosReport = {
      kind: "chaos",
      version: 1,
      startedAt: startedAt.toISOString(),
      command,
      machine: machineInfo(),
      options,
      phases: results,
      correctness,
      antiEntropy: { passes: sweeps.perProvider.length, perProvider: sweeps.perProvider },
      convergence,
      peers,
      proxies,
      figures: chaosFigures(log, results, correctness, convergence, peers, proxies),
      hostFaults: wan.hostFaults(),
    };
    if (o.outDir !== undefined) {
      const files = await writeResults(o.outDir, "chaos-", stamp(startedAt), report);
      o.log(`wrote ${files.join(", ")}`);
    }
    o.log(`sale lasted ${round((performance.now() - t0) / 1000, 1)} s`);
    return report;
  } finally {
    if (!o.cluster) await wan.stop();
  }
}

/** The sale, with each fault phase started and undone in turn while it runs. */
async function saleThroughFaults(
  o: ChaosOptions,
  wan: WanCluster,
  coords: Record<ProviderId, Coordinator>,
  eventId: string,
  t0: number,
) {
  const backend = new ProtocolBackend("quorum", coords);
  const abort = { rate: 0 };
  const stop = { stopped: false };
  const board = new SeatBoard(layoutFor(o.seats));
  const sale = runSale({
    backend,
    board,
    eventId,
    buyers: o.buyers,
    concurrency: o.concurrency,
    seed: o.seed,
    arrivalsPerSec: o.arrivalsPerSec,
    abortRate: () => abort.rate,
    stop,
    progress: o.log,
  });
  const windows: { phase: Phase; from: number; to: number }[] = [];
  try {
    for (const p of phases(wan, backend, abort, o)) {
      o.log(`phase: ${p.name}`);
      try {
        await p.start();
        const from = performance.now() - t0;
        await sleep(o.phaseMs);
        windows.push({ phase: p, from, to: performance.now() - t0 });
      } finally {
        // Always undo the fault, even when its start failed half-way.
        await p.end();
      }
    }
  } finally {
    stop.stopped = true;
  }
  o.log("faults over; waiting for the customers in checkout to finish...");
  const log = await sale;
  return { log, board, results: windows.map((w) => phaseResult(w.phase, w.from, w.to, log)) };
}

/** Anti-entropy on every provider, pass after pass, until the three stores agree. */
async function converge(
  o: ChaosOptions,
  wan: WanCluster,
  readers: Record<ProviderId, AcceptorPort>,
): Promise<{ perProvider: Record<string, SweepTotals>[]; convergence: Convergence }> {
  const perProvider: Record<string, SweepTotals>[] = [];
  let convergence: Convergence = { converged: false, keys: 0, disagreeing: -1, examples: [] };
  for (let pass = 1; pass <= CONVERGE_PASSES_MAX; pass++) {
    perProvider.push(await runAntiEntropy(wan.direct, wan.cronSecret));
    await sleep(CONVERGE_SETTLE_MS);
    convergence = await compareStores(PROVIDERS.map((p) => readers[p]));
    o.log(
      `anti-entropy pass ${pass}: ${convergence.disagreeing} of ${convergence.keys} keys differ`,
    );
    if (convergence.converged) break;
  }
  return { perProvider, convergence };
}

function chaosFigures(
  log: SaleLog,
  results: readonly PhaseResult[],
  correctness: Correctness,
  convergence: Convergence,
  peers: PeerStatusCounts,
  proxies: Record<string, WanProxyStats>,
): ChaosFigures {
  const proxy5xx = Object.values(proxies).reduce(
    (n, s) => n + Object.values(s.status5xx).reduce((a, b) => a + b, 0),
    0,
  );
  const buyer5xx = log.ops.filter(
    (x) => x.status >= 500 && !(x.status === 503 && x.retryAfter),
  ).length;
  const faults = results.filter((r) => r.provider !== undefined);
  const minFault = Math.min(...faults.map((r) => r.reservationsPerSec));
  return {
    doubleSold: correctness.doubleSold,
    lostOrders: correctness.lostOrders,
    converged: convergence.converged,
    errors5xx: peers.errors5xx + proxy5xx + buyer5xx,
    quorumShort503: log.ops.filter((x) => x.status === 503 && x.retryAfter).length,
    peerRetryAfter503:
      peers.retryAfter503 + Object.values(proxies).reduce((n, s) => n + s.retryAfter503, 0),
    soldDuringEveryFault: faults.every((r) => r.holds > 0),
    minFaultReservationsPerSec: Number.isFinite(minFault) ? minFault : 0,
    unresolved: log.unresolved,
    seatsSold: correctness.seatsSold,
  };
}

export function chaosTable(r: ChaosReport): string {
  const rows: string[][] = [["phase", "holds", "orders", "holds/s", "answers"]];
  for (const p of r.phases) {
    const answers = Object.entries(p.outcomes)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`)
      .join(", ");
    rows.push([p.name, String(p.holds), String(p.orders), String(p.reservationsPerSec), answers]);
  }
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  const lines = rows.map((r) =>
    r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]!))).join("  "),
  );
  const f = r.figures;
  lines.push(
    "",
    `double sold ${f.doubleSold}, lost orders ${f.lostOrders}, converged ${f.converged} ` +
      `(${r.convergence.keys} keys), 5xx ${f.errors5xx}, 503+Retry-After ${f.quorumShort503} ` +
      `(peers ${f.peerRetryAfter503}), ` +
      `unresolved ${f.unresolved}`,
  );
  return lines.join("\n");
}
