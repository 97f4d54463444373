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
  /** Registers: tombstones, the garbage collector and frozen coordinators (gc-sim.ts); seats:
   * the collector deletes the records the seat sweep wrote null (seat-sweep.ts). */
  gc?: boolean;
  workloads?: readonly Workload[];
  /** Stop at the first failing run: a broken control needs one, and the rest only cost time. */
  untilViolation?: boolean;
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
  /** The same, per workload and fault class (a run counts in every class it drew). */
  byClass: Partial<Record<Workload, Record<string, Exercised>>>;
}

/**
 * The fault classes a run drew, read off its fault list (what a failing seed prints) and its
 * kills: a run is "calm" when it drew none of them (delays and reordering only).
 */
export function faultClasses(r: SimRunResult): string[] {
  const f = r.faults.join("\n");
  const net = /loss ([\d.]+) dup ([\d.]+)/.exec(f);
  const classes = [
    [/ crashed /.test(f), "acceptor crashed"],
    [/ partitioned /.test(f), "acceptor partitioned"],
    [/amnesia/.test(f), "acceptor amnesia"],
    [Number(net?.[1] ?? 0) > 0, "message loss"],
    [Number(net?.[2] ?? 0) > 0, "message duplication"],
    [r.killed > 0, "coordinator killed"],
    [/clock stepped/.test(f), "clock steps"],
    [/skewed by up to/.test(f), "clock skew (seconds)"],
    [/concurrent operations per coordinator/.test(f), "concurrent operations per instance"],
    [/^cap \d/m.test(f), "buyer cap"],
    [/ frozen /.test(f), "coordinator frozen"],
  ] as const;
  const drawn = classes.filter(([on]) => on).map(([, name]) => name);
  return drawn.length > 0 ? drawn : ["calm"];
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
    byClass: {},
  };
  for (let i = 0; i < o.runs; i++) {
    const seed = first + i;
    const workload = workloads[i % workloads.length]!;
    const r = await runOne(workload, seed, o.break, o.amnesia, o.gc);
    summary.runs++;
    summary.ops += r.ops;
    summary.unknown += r.unknown;
    addCounts(summary.outcomes, r.outcomes);
    addCounts(summary.changes, r.changes);
    const ex = summary.exercised[workload] ?? { runs: 0, times: {}, runsWith: {} };
    summary.exercised[workload] = ex;
    ex.runs++;
    addExercised(ex, r.exercised);
    const classes = summary.byClass[workload] ?? {};
    summary.byClass[workload] = classes;
    for (const c of faultClasses(r)) {
      const cx = classes[c] ?? { runs: 0, times: {}, runsWith: {} };
      classes[c] = cx;
      cx.runs++;
      addExercised(cx, r.exercised);
    }
    summary.maxSearchSteps = Math.max(summary.maxSearchSteps, r.searchSteps ?? 0);
    if (r.inconclusive) summary.inconclusive++;
    if (!r.ok) {
      summary.violations++;
      summary.failing.push({ seed, workload, violation: r.violation ?? "" });
      o.onViolation?.({ ...r, workload });
      if (o.untilViolation) break;
    }
  }
  return summary;
}

export function runOne(
  workload: Workload,
  seed: number,
  brk?: BreakMode | SeatBreakMode,
  amnesia?: boolean,
  gc?: boolean,
): Promise<SimRunResult> {
  const capBreak = SEAT_BREAK_MODES.find((m) => m === brk);
  const opts = { seed, break: capBreak ? undefined : (brk as BreakMode | undefined), amnesia };
  if (workload === "registers") return runRegisterSim(gc ? { ...opts, gc } : opts);
  const seatOpts = gc ? { ...opts, gc } : opts;
  return runSeatSim(capBreak ? { ...seatOpts, capBreak } : seatOpts);
}

/** "rules exercised" line: per rule, the runs that reached it (of all) and how often in total. */
export function describeExercised(workload: Workload, ex: Exercised): string {
  const parts = Object.keys(ex.times)
    .sort()
    .map((k) => `${k}: ${ex.runsWith[k] ?? 0}/${ex.runs} runs (${ex.times[k]} times)`);
  return `rules exercised (${workload}): ${parts.length > 0 ? parts.join("; ") : "none counted"}`;
}

function addExercised(ex: Exercised, from: Record<string, number> = {}): void {
  for (const [k, n] of Object.entries(from)) {
    ex.times[k] = (ex.times[k] ?? 0) + n;
    if (n > 0) ex.runsWith[k] = (ex.runsWith[k] ?? 0) + 1;
  }
}

/**
 * Markdown table: per fault class (rows) and rule (columns), in how many of every 1,000 runs of
 * that class the rule was reached.
 */
export function describeByClass(workload: Workload, classes: Record<string, Exercised>): string {
  const rules = [...new Set(Object.values(classes).flatMap((c) => Object.keys(c.times)))].sort();
  const per1000 = (c: Exercised, k: string) => Math.round(((c.runsWith[k] ?? 0) * 1000) / c.runs);
  const rows = Object.entries(classes)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, c]) => `| ${name} | ${c.runs} | ${rules.map((k) => per1000(c, k)).join(" | ")} |`);
  return [
    `${workload}: runs reaching each rule, per 1,000 runs of each fault class`,
    "",
    `| fault class | runs | ${rules.join(" | ")} |`,
    `| --- | --- | ${rules.map(() => "---").join(" | ")} |`,
    ...rows,
  ].join("\n");
}

function addCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, n] of Object.entries(from)) into[k] = (into[k] ?? 0) + n;
}
