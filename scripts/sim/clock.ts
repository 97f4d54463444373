import { Rng } from "./random.ts";
import type { Scheduler } from "./scheduler.ts";

/**
 * Coordinator clocks. Every clock the core receives (the QuorumClient's, whose `now` floors ballot
 * counters, and the SeatService's, which stamps and judges expiry) is one of these: the virtual
 * time plus an offset (skew), and in some runs the offset jumps once mid-run, back or forward, as
 * a clock does when NTP steps it. All draws come from a stream of their own (CLOCK_STREAM), so the
 * other components of a seed draw what they drew before.
 */

/** Seeds the clocks' own random stream (any constant apart from the world's other streams). */
const CLOCK_STREAM = 0x27d4eb2f;
/** Share of register runs whose coordinators are skewed by seconds, not milliseconds. */
const BIG_SKEW_SHARE = 0.25;
/** How far a clock may be off in those runs (virtual ms): far beyond any ballot race. */
export const BIG_SKEW_MS = 3_000;
/** Share of runs in which every coordinator's clock is stepped once. */
const STEP_SHARE = 0.3;
/** A step lands within this long after the start (virtual ms): while the workload runs. */
const STEP_WITHIN_MS = 800;
/** Register runs: a step moves a clock by 20 to this many ms, back or forward. */
export const STEP_MAX_MS = 400;

export class SimClock {
  constructor(
    private readonly sched: Scheduler,
    public offsetMs = 0,
  ) {}

  now = (): number => this.sched.now + this.offsetMs;
}

/**
 * A run's clock faults. `bound`: every offset stays within ±bound at every instant (the seat rules
 * assume two clocks differ by at most the skew margin; a step there only moves a clock within the
 * bound). Without a bound (registers), a share of runs is skewed by seconds and steps move a clock
 * by up to STEP_MAX_MS.
 */
export class ClockPlan {
  private readonly rng: Rng;
  readonly bigSkew: boolean;
  readonly steps: boolean;
  /** Steps scheduled so far, for the run's fault list and "rules exercised". */
  readonly stepped: string[] = [];

  constructor(
    seed: number,
    private readonly sched: Scheduler,
    private readonly bound?: number,
  ) {
    this.rng = new Rng(seed ^ CLOCK_STREAM);
    this.bigSkew = bound === undefined && this.rng.chance(BIG_SKEW_SHARE);
    this.steps = this.rng.chance(STEP_SHARE);
  }

  /** A coordinator's clock: `skewMs` as drawn by the workload (replaced by seconds in big-skew
   * runs), and maybe a step later on. */
  clock(id: string, skewMs: number): SimClock {
    const c = new SimClock(
      this.sched,
      this.bigSkew ? this.rng.int(-BIG_SKEW_MS, BIG_SKEW_MS) : skewMs,
    );
    this.maybeStep(id, c);
    return c;
  }

  /** In a stepping run, schedules `c`'s one step. */
  maybeStep(id: string, c: SimClock): void {
    if (!this.steps) return;
    const at = this.sched.now + this.rng.int(0, STEP_WITHIN_MS);
    const size = this.rng.int(20, STEP_MAX_MS) * (this.rng.chance(0.5) ? -1 : 1);
    const b = this.bound;
    const pick = this.rng.int(-(b ?? 0), b ?? 0);
    this.sched.at(at, () => {
      const from = c.offsetMs;
      c.offsetMs = b === undefined ? from + size : pick;
      this.stepped.push(`${id} clock stepped ${from} → ${c.offsetMs} ms at ${this.sched.now} ms`);
    });
  }
}
