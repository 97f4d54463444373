import type { BreakMode } from "./network.ts";
import { runRegisterSim, type SimRunResult } from "./register-sim.ts";
import { runSeatSim, SEAT_BREAK_MODES, type SeatBreakMode } from "./seat-sim.ts";

export type Workload = "registers" | "seats";

export interface RunManyOptions {
  runs: number;
  /** First seed; run i uses seed + i. */
  seed?: number;
  /** An acceptor rule (both workloads) or the seat cap (seats only) to break. */
  break?: BreakMode | SeatBreakMode;
  amnesia?: boolean;
  workloads?: readonly Workload[];
  /** Called for every run that found a violation. */
  onViolation?: (r: SimRunResult & { workload: Workload }) => void;
}

export interface RunManySummary {
  runs: number;
  /** Runs that failed, inconclusive ones included. */
  violations: number;
  /** Runs that could not be checked (counted in violations too: doubt is not a pass). */
  inconclusive: number;
  /** The largest linearizability search of one run, in steps (registers). */
  maxSearchSteps: number;
  failing: { seed: number; workload: Workload; violation: string }[];
  unknown: number;
  ops: number;
  /** Client-visible outcomes summed over all runs, by status (and reason when not ok). */
  outcomes: Record<string, number>;
  /** Proposer-level change outcomes summed over all runs (see SimRunResult.changes). */
  changes: Record<string, number>;
  /** Per workload: its runs, and per rule how often it was reached and in how many runs. */
  exercised: Partial<Record<Workload, Exercised>>;
}

export interface Exercised {
  runs: number;
  times: Record<string, number>;
  runsWith: Record<string, number>;
}

/** One run = one seed through one workload; workloads alternate so both get half the seeds. */
export async function runMany(o: RunManyOptions): Promise<RunManySummary> {
  const workloads = o.workloads ?? ["registers", "seats"];
  const first = o.seed ?? 1;
  const summary: RunManySummary = {
    runs: 0,
    violations: 0,
    inconclusive: 0,
    maxSearchSteps: 0,
    failing: [],
    unknown: 0,
    ops: 0,
    outcomes: {},
    changes: {},
    exercised: {},
  };
  for (let i = 0; i < o.runs; i++) {
    const seed = first + i;
    const workload = workloads[i % workloads.length]!;
    const r = await runOne(workload, seed, o.break, o.amnesia);
    summary.runs++;
    summary.ops += r.ops;
    summary.unknown += r.unknown;
    addCounts(summary.outcomes, r.outcomes);
    addCounts(summary.changes, r.changes);
    const ex = summary.exercised[workload] ?? { runs: 0, times: {}, runsWith: {} };
    summary.exercised[workload] = ex;
    ex.runs++;
    for (const [k, n] of Object.entries(r.exercised ?? {})) {
      ex.times[k] = (ex.times[k] ?? 0) + n;
      if (n > 0) ex.runsWith[k] = (ex.runsWith[k] ?? 0) + 1;
    }
    summary.maxSearchSteps = Math.max(summary.maxSearchSteps, r.searchSteps ?? 0);
    if (r.inconclusive) summary.inconclusive++;
    if (!r.ok) {
      summary.violations++;
      summary.failing.push({ seed, workload, violation: r.violation ?? "" });
      o.onViolation?.({ ...r, workload });
    }
  }
  return summary;
}

export function runOne(
  workload: Workload,
  seed: number,
  brk?: BreakMode | SeatBreakMode,
  amnesia?: boolean,
): Promise<SimRunResult> {
  const capBreak = SEAT_BREAK_MODES.find((m) => m === brk);
  const opts = { seed, break: capBreak ? undefined : (brk as BreakMode | undefined), amnesia };
  if (workload === "registers") return runRegisterSim(opts);
  return runSeatSim(capBreak ? { ...opts, capBreak } : opts);
}

/** "rules exercised" line: per rule, the runs that reached it (of all) and how often in total. */
export function describeExercised(workload: Workload, ex: Exercised): string {
  const parts = Object.keys(ex.times)
    .sort()
    .map((k) => `${k}: ${ex.runsWith[k] ?? 0}/${ex.runs} runs (${ex.times[k]} times)`);
  return `rules exercised (${workload}): ${parts.length > 0 ? parts.join("; ") : "none counted"}`;
}

function addCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, n] of Object.entries(from)) into[k] = (into[k] ?? 0) + n;
}
