import { describe, expect, it } from "vitest";
import { measureRoundTrips } from "../../../scripts/sim/latency.ts";
import { runMany, runOne } from "../../../scripts/sim/run.ts";

/**
 * The proof: many seeded runs of the simulated cluster with faults, checked for linearizability
 * (registers) and the seat invariants (seats). A failing seed is printed and replays exactly with
 * `npm run sim -- --runs 1 --seed S --workload W`.
 */
const RUNS = Number(process.env.SIM_RUNS ?? 1000);
/** Mutation testing (`npm run mutation`) sets SIM_CONTROLS=0: a mutant of the shared core cannot
 * stop a broken control from being caught, so running the controls for every mutant only costs. */
const CONTROLS = process.env.SIM_CONTROLS !== "0";

const report = (r: { failing: { seed: number; workload: string; violation: string }[] }) =>
  r.failing
    .slice(0, 5)
    .map((f) => `seed ${f.seed} (${f.workload}): ${f.violation.slice(0, 300)}`)
    .join("\n");

describe("deterministic simulation", () => {
  it(`finds no violation in ${RUNS} seeded runs with faults`, async () => {
    const r = await runMany({ runs: RUNS, seed: 1 });
    expect(r.runs).toBe(RUNS);
    expect(r.violations, report(r)).toBe(0);
    expect(r.inconclusive).toBe(0);
  }, 300_000);

  it("replays a seed exactly", async () => {
    for (const w of ["registers", "seats"] as const) {
      const a = await runOne(w, 4242);
      const b = await runOne(w, 4242);
      expect(b).toEqual(a);
      expect(a.messages).toBeGreaterThan(0);
      // With a store rolled back and walked back by the sweeper (its own streams) too.
      const c = await runOne(w, 4242, undefined, true);
      expect(await runOne(w, 4242, undefined, true)).toEqual(c);
      expect(c.exercised?.["stores rejoining after amnesia"]).toBe(1);
    }
    const gcA = await runOne("registers", 4242, undefined, false, true);
    expect(await runOne("registers", 4242, undefined, false, true)).toEqual(gcA);
  });

  // Catch rates per 1,000 register seeds (seeds 1-1,000, recorded in docs/quorum.md): promise
  // 417, quorum1 533, adopt-highest 245 (the proposer adopts the first reply's value, not the
  // highest ballot's), accepted 133 (bites when a warm accept races a lower-ballot writer),
  // warm-owner 394 (two concurrent changes of one instance spend one cached promise: the ballot
  // ledger sees one ballot carry two values; the history alone shows it in 108), ballot-unique
  // 170 (every instance has one proposer id and one clock: equal ballots when two start a change
  // in the same millisecond or jump above the same refusal; the history alone: 68).
  for (const [brk, runs] of [
    ["promise", 100],
    ["quorum1", 100],
    ["adopt-highest", 100],
    // A prime keeping its promise but not the value it read (stop 19: 128 of the first 300).
    ["prime-forgets", 100],
    ["accepted", 200],
    ["warm-owner", 100],
    ["ballot-unique", 100],
    // A local read serving the local store's record without knowing it committed (about 10 % of
    // register runs read a value one acceptor took from a change that never committed).
    ["committed-read", 150],
  ] as const) {
    it.runIf(CONTROLS)(
      `reports a violation when the "${brk}" safety rule is broken`,
      async () => {
        const r = await runMany({
          runs,
          seed: 1,
          break: brk,
          workloads: ["registers"],
          untilViolation: true,
        });
        expect(r.violations).toBeGreaterThan(0);
      },
      180_000,
    );
  }

  // The seat rules' controls, per 1,000 seat seeds (stop 16, one change per hold): a cap counter
  // the hold never reads (940); one read before the change, check-then-act (103: only holds that
  // race closely, or lose an update); "skew-margin", coordinator clocks drifting past the skew
  // margin so a fast clock takes over a hold still live (240); "takeover-rollback", an expired
  // hold's seats taken without rolling the hold back (406: the handover check sees it as it commits);
  // "sweep-live", a sweeper that ignores the retention and writes held holds null (SWEEP_LIVE).
  // "confirm-unproven", a confirm that sells on seat locks not proven chosen (stop 16: 2 in 1,000,
  // seeds 181 and 834; since stop 19 primes confirms, the streams differ: 1 in 1,500, seed 1032,
  // so its budget starts at seed 1001. It needs a hold landed on one store, its leaked id
  // confirmed and a rival holding in between, so test/seats/confirm-proof.test.ts stages that
  // race step by step as well).
  for (const [brk, runs, seed] of [
    ["cap-ignore", 50, 1],
    ["cap-race", 150, 1],
    ["skew-margin", 150, 1],
    ["takeover-rollback", 50, 1],
    ["sweep-live", 20, 1],
    ["confirm-unproven", 40, 1001],
  ] as const) {
    it.runIf(CONTROLS)(
      `reports a violation when a seat rule is broken ("${brk}")`,
      async () => {
        const r = await runMany({
          runs,
          seed,
          break: brk,
          workloads: ["seats"],
          untilViolation: true,
        });
        expect(r.violations).toBeGreaterThan(0);
      },
      180_000,
    );
  }

  // A claim taken over at age 0 while its attempt is in flight ("claim-takeover") was a violation
  // in 582 of 1,000 seeds while a hold took two changes; with one change per hold and per confirm
  // the taker re-runs the same change for the same hold id, so it is harmless (decision 0007):
  // 0 in 2,000 seeds. The 409 "in flight" answer stays, but as courtesy, not safety.
  it.runIf(CONTROLS)(
    "finds no violation when claims are taken over in flight (no longer a safety rule)",
    async () => {
      const r = await runMany({
        runs: 100,
        seed: 1,
        break: "claim-takeover",
        workloads: ["seats"],
      });
      expect(r.violations, report(r)).toBe(0);
    },
    180_000,
  );

  // The seat model's controls: wrong answers over a state that stays consistent, so every
  // violation must come from the model (seat-model.ts), none from the end-state invariants. A hold
  // answered with one seat fewer shows in 956 of 1,000 seat runs; a release answered ok without
  // releasing in 227 of 1,000 (first 7, 14, 16; the sweep rolls back some holds before their
  // releases, which then answer ok rightly).
  for (const [brk, runs] of [
    ["seat-answer", 20],
    ["release-answer", 30],
  ] as const) {
    it.runIf(CONTROLS)(
      `the seat model catches wrong answers the invariants pass ("${brk}")`,
      async () => {
        const r = await runMany({
          runs,
          seed: 1,
          break: brk,
          workloads: ["seats"],
          untilViolation: true,
        });
        expect(r.violations).toBeGreaterThan(0);
        for (const f of r.failing)
          expect(f.violation).toMatch(/^seat history of \w+ not linearizable/);
      },
      180_000,
    );
  }

  // The garbage collector (gc-sim.ts): tombstone writes, a collector deleting them, coordinators
  // frozen for longer than the retention or shorter than a change's lifetime. Deleting must change
  // nothing a reader sees. Catch rates per 1,000 register seeds (seeds 1-1,000, docs/quorum.md):
  // gc-2of3 20 (a tombstone deleted from two stores while the third still holds a live value),
  // gc-lifetime 14 (a thawed coordinator spends a promise or finishes a change from before the
  // deletion), gc-retention 11 (the collector deletes without waiting out the lifetimes). Since
  // the amnesia draws got a stream of their own: first failing seeds gc-2of3 193, 351, 512;
  // gc-lifetime 42, 64, 106; gc-retention 263, 300, 519 (budgets cover two each).
  it("finds no violation with the garbage collector on", async () => {
    const r = await runMany({ runs: 200, seed: 1, gc: true, workloads: ["registers"] });
    expect(r.violations, report(r)).toBe(0);
    expect(r.exercised.registers?.runsWith["tombstones deleted"]).toBeGreaterThan(60);
  }, 180_000);

  // The seat sweep runs in every seat run; with --gc the collector deletes what it wrote null.
  it("finds no violation when the collector deletes swept seat records", async () => {
    const r = await runMany({ runs: 50, seed: 1, gc: true, workloads: ["seats"] });
    expect(r.violations, report(r)).toBe(0);
    const ex = r.exercised.seats?.runsWith ?? {};
    expect(ex["swept seat records deleted by the collector"]).toBeGreaterThan(25);
    expect(ex["unsold hold records swept (written null)"]).toBeGreaterThan(25);
  }, 180_000);

  for (const [brk, runs] of [
    ["gc-2of3", 400],
    ["gc-lifetime", 150],
    ["gc-retention", 400],
  ] as const) {
    it.runIf(CONTROLS)(
      `reports a violation when the "${brk}" deletion rule is broken`,
      async () => {
        const r = await runMany({
          runs,
          seed: 1,
          break: brk,
          workloads: ["registers"],
          untilViolation: true,
        });
        expect(r.violations).toBeGreaterThan(0);
      },
      180_000,
    );
  }

  // Amnesia: in every run one store is rolled back and marked rejoining in the same instant, and
  // the sweeper's rejoin walk brings it back (a quarter of the default runs do this too).
  it("finds no violation when a rolled-back store rejoins through the membership rule", async () => {
    const r = await runMany({ runs: 200, seed: 10_000, amnesia: true });
    expect(r.violations, report(r)).toBe(0);
    expect(r.exercised.registers?.runsWith["stores back to member"]).toBeGreaterThan(50);
  }, 180_000);

  // "amnesia-rejoin": the rolled-back store keeps voting (seeds 108, 138, 141, 147 of the first
  // 150, both workloads alternating, all forced to amnesia; 250 seeds for margin). "rejoin-unswept": it stops voting but
  // is set back to member without the rejoin walk (20, 56, 79, 97, 112). "repair-ballot": the
  // sweeper copies one store's record onto the others without comparing ballots (seven of the
  // first 100 seeds, from 10).
  for (const [brk, runs] of [
    ["amnesia-rejoin", 250],
    ["rejoin-unswept", 150],
    ["repair-ballot", 100],
  ] as const) {
    it.runIf(CONTROLS)(
      `reports a violation when the "${brk}" repair rule is broken`,
      async () => {
        const r = await runMany({
          runs,
          seed: 1,
          break: brk,
          amnesia: brk !== "repair-ballot",
          untilViolation: true,
        });
        expect(r.violations).toBeGreaterThan(0);
      },
      180_000,
    );
  }

  it("commits in 2 round trips cold and 1 warm, for one key and a 6-key batch", async () => {
    const rt = await measureRoundTrips();
    expect(rt).toMatchObject({ change1Cold: 2, change1Warm: 1, change6Cold: 2, change6Warm: 1 });
    // A hold is one change (decision 0007): as cheap as any cold change, whatever its size.
    expect(rt).toMatchObject({ hold1: 2, hold6: 2, capHold1First: 2, capHold1Second: 3 });
    // A confirm told the hold's keys: the sale (2) and settling its seats (1, warm); primed
    // (its prepare run ahead, not counted), the sale is one accept round.
    expect(rt).toMatchObject({ confirm6Known: 3, confirm6: 4, confirm6Primed: 2 });
    console.log(`round trips: ${JSON.stringify(rt)}`);
  });
});
