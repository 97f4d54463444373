import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BenchReport, runBench } from "../../scripts/bench/run-bench.ts";
import { type ChaosReport, runChaos } from "../../scripts/bench/run-chaos.ts";
import { startWanCluster, type WanCluster } from "../../scripts/bench/wan-cluster.ts";

/**
 * The short CI version of `npm run bench` and `npm run chaos` (the issue: "CI runs a short version
 * of both (a few hundred buyers, each fault once) and fails on any double sale, lost order, 5xx or
 * unconverged store"). Both run on one real local cluster behind WAN proxies, with sizes small
 * enough for two cores. Only correctness is asserted: the speed figures of a shared CI machine are
 * reported, never judged.
 */

/** Sizes: enough buyers to contend for seats and to span every fault phase, nothing more. */
const BENCH = { seats: 120, buyers: 60, concurrency: 12 } as const;
const CHAOS = {
  seats: 400,
  buyers: 40,
  concurrency: 10,
  phaseMs: 2_500,
  arrivalsPerSec: 4,
} as const;
/** Generous: a busy CI machine may be several times slower than a quiet one. */
const RUN_TIMEOUT_MS = 240_000;

const quiet = () => {};
let wan: WanCluster;

beforeAll(async () => {
  wan = await startWanCluster({ seed: 3, clusterId: "tessera-ci-bench" });
}, RUN_TIMEOUT_MS);

afterAll(async () => {
  await wan?.stop();
}, 60_000);

describe("short flash sale and chaos run (CI)", () => {
  let bench: BenchReport;
  let chaos: ChaosReport;

  it(
    "sells out with no double sale and no lost order, against a single-store baseline",
    async () => {
      bench = await runBench({
        ...BENCH,
        seed: 3,
        thinkMs: 20,
        latencyScale: 1,
        maxSaleMs: 120_000,
        httpSeats: 20,
        httpBuyers: 10,
        maxHttpSaleMs: 60_000,
        calmChanges: 3,
        calmPurchases: 3,
        quick: true,
        log: quiet,
        cluster: wan,
      });
      const f = bench.figures;
      expect(f.doubleSold).toBe(0);
      expect(f.lostOrders).toBe(0);
      // When seats are left, say which and why (the run cannot be repeated by hand on CI).
      const left = [bench.quorum, bench.http].map((x) => ({
        left: x?.correctness.leftAvailable,
        unknown: x?.correctness.heldByUnknown,
        backOnMap: x?.summary.contention.seatsBackOnMap,
      }));
      expect(f.seatsLeftAvailable, JSON.stringify(left)).toBe(0);
      expect(bench.single.correctness.doubleSold).toBe(0);
      expect(bench.single.correctness.lostOrders).toBe(0);
      // Sanity of the measurement itself, not of the machine's speed.
      expect(f.seatsSold).toBeGreaterThan(0);
      expect(f.calmColdRoundTrips).toBeGreaterThan(1);
      expect(f.quorumVsSingleThroughput).toBeGreaterThan(0);
      // Each purchase costs the quorum more store calls than the single store: both were counted.
      expect(f.storeCallsPerSeat.single).toBeGreaterThan(0);
      expect(f.storeCallsPerSeat.quorum).toBeGreaterThan(f.storeCallsPerSeat.single);
      expect(bench.calmHttp).toMatchObject({ purchases: 3, failed: 0 });
      expect(f.httpHold1P50T2).toBeGreaterThan(0);
      expect(f.httpConfirm1P50T2).toBeGreaterThan(0);
      expect(f.httpConfirm1NetP50T2).toBeGreaterThan(0);
      expect(f.httpConfirm1ProcessorP50Ms).toBeGreaterThan(0);
      expect(Object.keys(f.httpHold1StepsMs ?? {})).toEqual(
        expect.arrayContaining(["copy", "check", "lock"]),
      );
      expect(f.httpHoldLoadP50T2).toBeGreaterThan(0);
      expect(f.httpConfirmLoadP50T2).toBeGreaterThan(0);
    },
    RUN_TIMEOUT_MS,
  );

  // Its own cluster, and retries on a fresh one: in 2 of 8 clean-clone CI runs the AWS host hung
  // restarting dynalite (no reply in 60 s; cause not found, see the stop 10 note), and once (stop
  // 12) a provider's host process ended in both attempts ("Channel closed", no output kept then;
  // the host now survives and reports stray errors, and an exit names its code and last output).
  // A retry repeats the whole run with every assertion; a run that breaks safety fails either way.
  it("keeps selling through each fault once, with no 5xx, and the stores converge", {
    retry: 2,
    timeout: RUN_TIMEOUT_MS,
  }, async () => {
    const own = await startWanCluster({ seed: 5, clusterId: "tessera-ci-chaos" });
    try {
      chaos = await runChaos({
        ...CHAOS,
        seed: 5,
        abortRate: 0.3,
        latencyScale: 1,
        quick: true,
        log: quiet,
        cluster: own,
      });
    } finally {
      await own.stop();
    }
    // Reported, not judged: a provider process survives a stray error as a platform would, and
    // the run's safety is what the assertions below hold it to. The CI log keeps the evidence.
    for (const fault of chaos.hostFaults) console.warn(`host fault during the chaos run: ${fault}`);
    const f = chaos.figures;
    expect(f.doubleSold).toBe(0);
    expect(f.lostOrders).toBe(0);
    expect(f.errors5xx).toBe(0);
    expect(f.converged, JSON.stringify(chaos.convergence)).toBe(true);
    expect(chaos.phases.map((p) => p.name)).toHaveLength(8);
  });
});
