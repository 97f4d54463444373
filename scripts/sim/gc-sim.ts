import { collectGarbage, minimumRetention } from "../../shared/quorum/gc.ts";
import type { AcceptorPort } from "../../shared/storage/ports.ts";
import { BIG_SKEW_MS, type ClockPlan, STEP_MAX_MS } from "./clock.ts";
import type { BreakMode, SimNode } from "./network.ts";
import { Rng } from "./random.ts";
import { SIM_TIMEOUT_MS, type World } from "./world.ts";

/**
 * The garbage collector in the register workload (docs/quorum.md, "Deleting dead records"). Some
 * writes write null (a tombstone); a collector sweeps the keys every so often and deletes the
 * tombstones shared/quorum/gc.ts says are safe to delete; some coordinators are frozen for seconds
 * at an await point (as AWS Lambda freezes an instance between invocations) and carry on after,
 * with whatever change or warm promise they held. Deleting must change nothing a reader can see:
 * the history (a tombstone reads as null, as a deleted record does) must stay linearizable.
 *
 * Time is scaled down: changes live SIM_CHANGE_LIFETIME_MS, warm promises SIM_WARM_TTL_MS, and the
 * retention is minimumRetention of those, the network's longest delivery and the run's clock skew.
 * All draws come from a stream of their own (GC_STREAM).
 */

/** Seeds the collector's own random stream (any constant apart from the world's other streams). */
const GC_STREAM = 0x68e31da4;
const CUT_STREAM = 0x1b56c4e9;
/** Long enough for a change that retries through contention (5 attempts, backoff up to 1 s). */
export const SIM_CHANGE_LIFETIME_MS = 2_000;
export const SIM_WARM_TTL_MS = 1_000;
/** Longest a message takes to be served: two of the world's longest delays (a duplicate). */
const SIM_MESSAGE_AGE_MS = 40;
/** The register workload's ordinary skew (register-sim.ts draws ±20 ms). */
const SMALL_SKEW_MS = 20;
/** Share of writes that write null (a tombstone) when the collector is on. */
const TOMBSTONE_SHARE = 0.5;
/** Share of coordinators frozen once during the run. */
const FREEZE_SHARE = 0.5;
/** Share of runs in which one store is partitioned late in the workload. */
const LAG_SHARE = 0.5;
/** Share of passes whose deletes to one store are never sent. */
const CUT_SHARE = 0.25;
/** Until then the collector sweeps often (the workload is busy); then every few seconds. */
const BUSY_UNTIL_MS = 2_000;

export const GC_BREAK_MODES = ["gc-2of3", "gc-lifetime", "gc-retention"] as const;
export type GcBreakMode = (typeof GC_BREAK_MODES)[number];

export function isGcBreak(b: BreakMode | undefined): b is GcBreakMode {
  return GC_BREAK_MODES.some((m) => m === b);
}

/** The lifetimes coordinators run with: none at all under `gc-lifetime`. */
export function simLifetimes(brk: BreakMode | undefined) {
  return brk === "gc-lifetime"
    ? { changeLifetimeMs: Number.POSITIVE_INFINITY, warmTtlMs: Number.POSITIVE_INFINITY }
    : { changeLifetimeMs: SIM_CHANGE_LIFETIME_MS, warmTtlMs: SIM_WARM_TTL_MS };
}

export class GcSim {
  private readonly rng: Rng;
  /** Cut-short passes draw apart, so the other draws stay what they were without them. */
  private readonly cutRng: Rng;
  readonly retentionMs: number;
  /** Counts for "rules exercised". */
  readonly counts: Record<string, number> = {};
  private horizon = BUSY_UNTIL_MS;

  constructor(
    seed: number,
    private readonly world: World,
    clocks: ClockPlan,
    private readonly brk: BreakMode | undefined,
  ) {
    this.rng = new Rng(seed ^ GC_STREAM);
    this.cutRng = new Rng(seed ^ CUT_STREAM);
    const skew = (clocks.bigSkew ? BIG_SKEW_MS : SMALL_SKEW_MS) + (clocks.steps ? STEP_MAX_MS : 0);
    this.retentionMs = minimumRetention({
      ...simLifetimes(undefined),
      messageAgeMaxMs: SIM_MESSAGE_AGE_MS,
      clockSkewMaxMs: skew,
    });
    world.faults.push(`garbage collector on, retention ${this.retentionMs} ms`);
    // A store that misses the last writes of some keys (it is cut off until about when the workload
    // ends): the tombstones the collector must first copy to all three.
    if (this.rng.chance(LAG_SHARE)) {
      const victim = this.rng.int(0, 2);
      const from = this.rng.int(200, 600);
      const to = from + this.rng.int(500, 1500);
      world.faults.push(`acceptor ${victim} partitioned ${from}-${to}ms (collector runs)`);
      world.sched.at(from, () => {
        world.acceptors[victim]!.health = "partitioned";
      });
      world.sched.at(to, () => {
        world.acceptors[victim]!.health = "up";
      });
    }
  }

  /** Whether the next write writes a tombstone. */
  tombstone(): boolean {
    return this.rng.chance(TOMBSTONE_SHARE);
  }

  /** Maybe schedules one freeze of `node`: shorter than a change's lifetime, or longer than the
   * retention. */
  planFreeze(node: SimNode): void {
    if (!this.rng.chance(FREEZE_SHARE)) return;
    const from = this.rng.int(0, 300);
    // Short freezes end within a change's lifetime (harmless unless the collector does not wait),
    // long ones outlast the retention (harmless unless lifetimes are not enforced).
    const short = this.rng.chance(0.5);
    const to =
      from +
      (short
        ? this.rng.int(200, SIM_CHANGE_LIFETIME_MS)
        : this.rng.int(this.retentionMs, this.retentionMs * 3));
    this.world.faults.push(`${node.id} frozen ${from}-${to}ms`);
    this.horizon = Math.max(this.horizon, to + SIM_CHANGE_LIFETIME_MS);
    this.world.sched.at(from, () => {
      node.frozenUntil = to;
      this.bump("coordinators frozen");
    });
  }

  /** The collector: sweeps `prefix` until every freeze is over and its changes could have ended. */
  async sweep(prefix: string): Promise<void> {
    const { client, node } = this.world.client("gc", 0);
    // Per pass, maybe one store's deletes are never sent (the collector died, or that call failed):
    // keys deleted on two stores only, which later writers and passes must cope with.
    let cut = -1;
    const ports = [0, 1, 2].map((i) => {
      const p = withTimeout(this.world, this.world.net.port(node, i));
      return {
        ...p,
        deleteIf: (entries: Parameters<AcceptorPort["deleteIf"]>[0]) =>
          cut === i ? Promise.reject(new Error("collector cut short")) : p.deleteIf(entries),
      };
    });
    const retentionMs = this.brk === "gc-retention" ? 0 : this.retentionMs;
    while (this.world.sched.now < this.horizon + 2 * this.retentionMs) {
      const busy = this.world.sched.now < BUSY_UNTIL_MS;
      await node.sleep(
        busy
          ? this.rng.int(50, 400)
          : this.rng.int(Math.floor(this.retentionMs / 8), Math.floor(this.retentionMs / 4)),
      );
      this.countLagging(prefix);
      cut = this.cutRng.chance(CUT_SHARE) ? this.cutRng.int(0, 2) : -1;
      const r = await collectGarbage(client, ports, prefix, {
        now: this.world.sched.now,
        retentionMs,
        deleteOnTwo: this.brk === "gc-2of3",
      });
      this.bump("collector passes");
      if (r.deleted > 0) this.bump("tombstones deleted", r.deleted);
      if (r.rewritten > 0) this.bump("tombstones copied to all three first", r.rewritten);
      if (r.waiting > 0) this.bump("tombstones kept for the retention", r.waiting);
      if (r.kept > 0)
        this.bump("keys kept by a store (touched since the scan, or the pass cut short)", r.kept);
      if (cut >= 0 && r.kept > 0) this.bump("passes cut short with deletes pending");
    }
  }

  /** Keys whose newest accepted value is a tombstone that one store does not hold yet, while that
   * store still holds a live value (what the gc-2of3 break would resurrect). */
  private countLagging(prefix: string): void {
    const keys = new Set<string>();
    for (const a of this.world.acceptors)
      for (const k of a.records.keys()) if (k.startsWith(prefix)) keys.add(k);
    for (const k of keys) {
      const recs = this.world.acceptors.map((a) => a.records.get(k));
      const top = recs.reduce((t, r) => ((r?.accepted ?? "") > (t?.accepted ?? "") ? r : t));
      if (!top || top.value !== null) continue;
      if (recs.some((r) => r !== undefined && r.value !== null))
        this.bump("sweeps finding a tombstone over a live value on one store");
    }
  }

  bump(k: string, n = 1): void {
    this.counts[k] = (this.counts[k] ?? 0) + n;
  }
}

/** The collector's store calls give up after the world's timeout, as a real driver's would. */
export function withTimeout(world: World, port: AcceptorPort): AcceptorPort {
  const timed =
    <A extends unknown[], R>(fn: (...a: A) => Promise<R>) =>
    (...a: A): Promise<R> =>
      Promise.race([
        fn(...a),
        world.sched.sleep(SIM_TIMEOUT_MS).then(() => Promise.reject(new Error("timed out"))),
      ]);
  return { ...port, scan: timed(port.scan), deleteIf: timed(port.deleteIf) };
}
