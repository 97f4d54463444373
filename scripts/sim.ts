/**
 * Deterministic simulation of the 2-of-3 CASPaxos core: `npm run sim -- --runs N [--seed S]
 * [--break MODE] [--amnesia] [--gc] [--workload registers|seats]` (`--amnesia` rolls one store
 * back in every run instead of a quarter of them). Prints every failing seed with the
 * command that replays it, the rules each workload reached (with --by-class, per fault class as a
 * table of runs per 1,000) ("rules exercised": takeovers, where
 * kills landed, clock steps), and ends with `runs: N, violations: V (inconclusive: I)` (exit 1
 * when V > 0; a run that could not be checked counts as a violation).
 *
 * Fault model (docs/quorum.md, "The simulator"): lossy, duplicating, reordering network; one
 * acceptor crashed or partitioned for a while; coordinators killed at any await point (store
 * call sent, reply received, sleep) or, for seats, right after a hold's claim; skewed coordinator
 * clocks (seconds in a quarter of register runs) that NTP-step once in 30 % of runs.
 *
 * --break switches one safety rule off; the simulator must then report violations:
 *   both workloads: promise, accepted, quorum1 (acceptor and quorum rules), warm-owner (a cached
 *     promise spent twice), adopt-highest (adopt the first prepare reply's value, not the highest
 *     ballot's), ballot-unique (all coordinators share one proposer id and one clock),
 *     amnesia-rejoin (a rolled-back store keeps voting), rejoin-unswept (it is set back to member
 *     without the rejoin walk), repair-ballot (a repair copies records without comparing ballots)
 *   registers only, with the garbage collector (--gc, implied by these): gc-2of3 (delete a
 *     tombstone two stores hold), gc-lifetime (changes and warm promises without a lifetime),
 *     gc-retention (delete without waiting out the lifetimes)
 *   seats only: cap-ignore, cap-race (the per-buyer cap), skew-margin (clocks past the margin),
 *     takeover-rollback (an expired hold's seats taken without rolling it back), claim-takeover
 *     (an idempotency claim taken over at age 0, while its attempt is in flight), sweep-live (the
 *     seat sweep ignores the retention and writes held holds null), confirm-unproven (a confirm
 *     sells on seat locks not proven chosen)
 */
import { parseArgs } from "node:util";
import { SEARCH_STEP_LIMIT } from "./sim/linearizability.ts";
import { BREAK_MODES, type BreakMode } from "./sim/network.ts";
import { describeByClass, describeExercised, runMany, type Workload } from "./sim/run.ts";
import { SEAT_SEARCH_STEP_LIMIT } from "./sim/seat-model.ts";
import { SEAT_BREAK_MODES, type SeatBreakMode } from "./sim/seat-sim.ts";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "100" },
    seed: { type: "string", default: "1" },
    break: { type: "string" },
    amnesia: { type: "boolean", default: false },
    gc: { type: "boolean", default: false },
    workload: { type: "string" },
    "by-class": { type: "boolean", default: false },
  },
});

const runs = Number(values.runs);
const seed = Number(values.seed);
if (!Number.isSafeInteger(runs) || runs < 1 || !Number.isSafeInteger(seed)) {
  console.error("--runs and --seed must be integers (runs >= 1)");
  process.exit(2);
}
const brk = values.break as BreakMode | SeatBreakMode | undefined;
const capBreak = SEAT_BREAK_MODES.includes(brk as SeatBreakMode);
if (brk !== undefined && !capBreak && !BREAK_MODES.includes(brk as BreakMode)) {
  console.error(`--break must be one of ${[...BREAK_MODES, ...SEAT_BREAK_MODES].join(", ")}`);
  process.exit(2);
}
const workload = values.workload as Workload | undefined;
if (workload !== undefined && workload !== "registers" && workload !== "seats") {
  console.error("--workload must be registers or seats");
  process.exit(2);
}

const started = performance.now();
const summary = await runMany({
  runs,
  seed,
  break: brk,
  amnesia: values.amnesia,
  gc: values.gc,
  workloads: workload ? [workload] : capBreak ? ["seats"] : undefined,
  onViolation: (r) => {
    const flags = [
      brk ? `--break ${brk}` : "",
      values.amnesia ? "--amnesia" : "",
      values.gc ? "--gc" : "",
    ]
      .join(" ")
      .trim();
    console.log(`FAIL seed ${r.seed} (${r.workload}): ${r.violation}`);
    console.log(`  faults: ${r.faults.join("; ")}`);
    console.log(
      `  replay: npm run sim -- --runs 1 --seed ${r.seed} --workload ${r.workload} ${flags}`,
    );
  },
});
const secs = ((performance.now() - started) / 1000).toFixed(1);
console.log(`${summary.ops} operations, ${summary.unknown} with unknown outcome, ${secs}s`);
for (const [w, ex] of Object.entries(summary.exercised)) {
  console.log(describeExercised(w as Workload, ex));
}
if (values["by-class"]) {
  for (const [w, classes] of Object.entries(summary.byClass)) {
    console.log(`\n${describeByClass(w as Workload, classes)}\n`);
  }
}
if (summary.maxSearchSteps > 0) {
  console.log(
    `linearizability search: largest ${summary.maxSearchSteps} steps (limits: registers ${SEARCH_STEP_LIMIT}, seats ${SEAT_SEARCH_STEP_LIMIT})`,
  );
}
console.log(
  `runs: ${summary.runs}, violations: ${summary.violations} (inconclusive: ${summary.inconclusive})`,
);
process.exit(summary.violations > 0 ? 1 : 0);
