import type { SeatOutcome } from "../../shared/seats/service.ts";
import type { IdemRecord } from "../../shared/seats/types.ts";
import { type CheckResult, checkHistory, type Model, type Operation } from "./linearizability.ts";
import {
  incName,
  type ModelHold,
  type Phase,
  type SeatInput,
  type SeatModelState,
  type SeatOutput,
} from "./seat-model-types.ts";
import { seatInertFor, seatTwinClass, splitIndependent } from "./seat-parts.ts";

/**
 * A sequential model of the seat service, and the recorder that turns a seat run into a history
 * for it: every answer a customer got (hold, confirm, release, each attempt on its own) and the
 * sweeper's final settles must be explainable by ONE order of atomic steps of the model, each
 * taking effect between its call and its answer (Wing & Gong, checked with checkHistory). The
 * end-state invariants (checkSeatInvariants) cannot see a wrong answer that leaves a consistent
 * end state; this can.
 *
 * Holds are named by their idempotency key (`caller/key`), not their id: every attempt of one
 * request shares the key, and the claim pins one id per key, so the ids an answer names are
 * resolved to keys before the search (and a key answered with two ids, or an id with two keys,
 * fails outright). Orders likewise are named by their confirm key.
 *
 * Time. A hold ends by clocks, not by a step anyone takes, and each coordinator reads its own
 * skewed clock, so two coordinators may disagree for a while about one hold. Each hold H with
 * expiry E (as its claim pinned it, on the clock of the coordinator that stamped it, offset s0)
 * gets two fixed-time events:
 * - "dusk" at E - s0, the real time the stamping clock read E: before it H is live for every
 *   answer (the promise the customer was given: no one may end H before).
 * - "past" at E + margin + maxSkew: every clock then reads beyond E + margin, so H is expired for
 *   every answer.
 * Between the two each answer may see H either way, independently of the others (two attempts of
 * one confirm, one "expired" and one sold, is correct there); the observed answer picks the
 * branch. This accepts every order a correct service can produce and is no looser than its
 * promise. A single lapse point would be too strict: answers inside the window can disagree.
 * - "rollback": H's record turned into the "expired" tombstone by someone else than a hold taking
 *   its seats (a cap's count, a hold that then failed, the sweeper). Optional (an unknown-outcome
 *   operation) any time after dusk, and added only where it can show. Until then a retry of H's
 *   request replays it as ok even past its expiry, as the service answers from a record "held".
 * - "ghost": see HoldState.
 *
 * Attempts whose outcome is unknown (timeout, "unknown", "unavailable") may take effect at any
 * time after their call, or never. Answers that prove no effect and promise nothing checkable
 * ("in-flight", and "taken" after the hold gave up because seats kept changing hands) are left out.
 */

type Step = { state: SeatModelState; output: SeatOutput };

const sameSeats = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((s, i) => s === b[i]);

const put = (s: SeatModelState, k: string, h: ModelHold): SeatModelState => ({
  ...s,
  holds: { ...s.holds, [k]: h },
});

const phaseOf = (s: SeatModelState, k: string): Phase => s.phases[k] ?? "live";
/** Locks seats (and counts against the cap) until rolled back. */
const locks = (h: ModelHold) => h.st === "ghost" || h.st === "held";

const refuse = (s: SeatModelState, code: string): Step => ({ state: s, output: { code } });

function hold(s: SeatModelState, i: Extract<SeatInput, { f: "hold" }>): Step {
  const n = s.gen[i.hold] ?? 0;
  if (i.inc !== undefined && i.inc !== n) return refuse(s, "another claim");
  const name = incName(i.hold, n);
  const h = s.holds[name];
  // Some clock may read the claim's pinned expiry + margin as passed: a retry under the claim then
  // locks nothing (no record yet, or swept) and step 2 refuses; both answer "expired".
  const late = phaseOf(s, name) === "late" || phaseOf(s, name) === "past";
  const unbound = h?.st === "expired" && i.claimless && !i.replayOnly;
  if (h && h.st !== "ghost" && h.st !== "swept" && !unbound) {
    if (h.st === "expired") return { state: s, output: { code: "expired" } };
    if (!sameSeats(h.seats, i.seats)) return { state: s, output: { code: "conflict" } };
    // A replay answers from the record, whatever the clocks say.
    return { state: s, output: { code: "ok", seats: h.seats } };
  }
  if (i.replayOnly || h?.st === "swept") return refuse(s, late ? "expired" : "absent");
  // Past every clock's margin, the claim refuses every attempt before it reads a seat.
  if (phaseOf(s, name) === "past") return refuse(s, "expired");
  const wanted = new Set(i.seats);
  const rollback: string[] = [];
  let taken = false;
  let maybeTaken = false;
  for (const [k, o] of Object.entries(s.holds)) {
    if (k === name || !o.seats.some((x) => wanted.has(x))) continue;
    const ph = phaseOf(s, k);
    if (o.st === "sold") {
      // Sold for good; but a seat not yet settled to "sold" and past its hold's time reads as
      // "roll back first", and the cap may refuse before that roll-back finds the sale.
      taken = true;
      continue;
    }
    if (!locks(o)) continue;
    // A ghost's change may have landed on any subset of its keys: its seats may or may not be
    // locked, and it stays put when the seats turn out free (so a ghost only ever allows more).
    if (o.st === "ghost") {
      if (ph !== "past") maybeTaken = true;
      continue;
    }
    if (ph === "live") taken = true;
    // In the window the coordinator's clock decides; past it, every clock says expired. Either
    // way the seats move only once that hold's record is rolled back.
    else if (ph !== "past") maybeTaken = true;
    rollback.push(k);
  }
  // This request's own ghost: a sibling attempt's change that landed on some seats but not on the
  // claim. Seats name only a hold id, so this attempt sees a stranger's lock and may be refused
  // "taken" (never the cap: the count skips entries of its own key). Until the claim lands (after
  // which the record is no longer a ghost here) and while the ghost's time is not past.
  if (h?.st === "ghost" && i.sibling && phaseOf(s, name) !== "past") maybeTaken = true;
  let over = false;
  let maybeOver = false;
  if (i.cap !== undefined) {
    let sure = 0;
    let unsure = 0;
    for (const [k, o] of Object.entries(s.holds)) {
      if (k === name || o.caller !== i.caller) continue;
      const ph = phaseOf(s, k);
      if (o.st === "sold" || (o.st === "held" && ph === "live")) sure += o.seats.length;
      else if (locks(o) && ph !== "past") unsure += o.seats.length;
    }
    over = sure + i.seats.length > i.cap;
    maybeOver = sure + unsure + i.seats.length > i.cap;
  }
  // Where both refusals apply, which one comes first depends on what the coordinator read.
  if (i.answered === "taken" && (taken || maybeTaken)) return refuse(s, "taken");
  if (i.answered === "seat-cap-reached" && (over || maybeOver)) {
    return refuse(s, "seat-cap-reached");
  }
  if (taken) return refuse(s, "taken");
  if (over) return refuse(s, "seat-cap-reached");
  let next = put(s, name, { caller: i.caller, seats: i.seats, st: "held" });
  for (const k of rollback) next = put(next, k, { ...s.holds[k]!, st: "expired" });
  return { state: next, output: { code: "ok", seats: i.seats } };
}

function confirm(s: SeatModelState, i: Extract<SeatInput, { f: "confirm" }>): Step {
  const h = s.holds[i.hold];
  // A ghost's id can be learned (the audit log lists committed keys): its confirm finds the
  // record with a seat, the claim or the quota entry missing ("taken", "expired"), or none.
  if (h?.st === "ghost" && (i.answered === "taken" || i.answered === "expired"))
    return refuse(s, i.answered);
  if (!h || h.st === "ghost" || h.st === "swept")
    return { state: s, output: { code: "not-found" } };
  if (h.st === "sold") {
    return { state: s, output: { code: h.order === i.order ? "ok" : "already-confirmed" } };
  }
  if (h.st !== "held") return { state: s, output: { code: "expired" } };
  if (h.caller !== i.caller) return { state: s, output: { code: "forbidden" } };
  const ph = phaseOf(s, i.hold);
  if (ph === "past" || (ph !== "live" && i.answered === "expired")) {
    return { state: s, output: { code: "expired" } };
  }
  return { state: put(s, i.hold, { ...h, st: "sold", order: i.order }), output: { code: "ok" } };
}

export const seatModel: Model<SeatModelState, SeatInput, SeatOutput> = {
  init: { holds: {}, phases: {}, gen: {} },
  step(s, i): Step {
    const h = s.holds[i.hold];
    const ok = { code: "ok" };
    switch (i.f) {
      case "hold":
        return hold(s, i);
      case "confirm":
        return confirm(s, i);
      case "release": {
        if (!h || h.st === "ghost" || h.st === "swept") {
          return { state: s, output: { code: "not-found" } };
        }
        if (h.st === "expired") return { state: s, output: ok };
        if (h.caller !== i.caller) return { state: s, output: { code: "forbidden" } };
        if (h.st === "sold") return { state: s, output: { code: "sold" } };
        // The record decides, not the clock: a hold past its time is released all the same.
        return { state: put(s, i.hold, { ...h, st: "released" }), output: ok };
      }
      case "ghost":
        return {
          state: h ? s : put(s, i.hold, { caller: i.caller, seats: i.seats, st: "ghost" }),
          output: ok,
        };
      case "dusk":
      case "late":
      case "past":
        return { state: { ...s, phases: { ...s.phases, [i.hold]: i.f } }, output: ok };
      case "rollback": {
        // A seat still pointing at a swept hold gets it written "expired" again (harmless).
        const ends = h !== undefined && (locks(h) || h.st === "swept");
        return { state: ends ? put(s, i.hold, { ...h, st: "expired" }) : s, output: ok };
      }
      case "sweep":
        // Only a hold that ended unsold is swept (its retention is checked as the sweep commits).
        if (h?.st !== "released" && h?.st !== "expired") return refuse(s, "kept");
        return { state: put(s, i.hold, { ...h, st: "swept" }), output: ok };
      case "forget":
        if ((s.gen[i.hold] ?? 0) !== i.inc) return refuse(s, "another claim");
        return { state: { ...s, gen: { ...s.gen, [i.hold]: i.inc + 1 } }, output: ok };
      case "settle": {
        // The sweeper's clock is far past every expiry: whatever is not terminal is rolled back
        // (a swept record, found again through a seat still pointing at it, too).
        if (!h) return { state: s, output: { code: "ok", state: "expired" } };
        const st = h.st === "sold" || h.st === "released" ? h.st : "expired";
        return { state: put(s, i.hold, { ...h, st }), output: { code: "ok", state: st } };
      }
    }
  },
  equalOutput(a, b) {
    if (a.code !== b.code) return false;
    if (a.seats !== undefined && !sameSeats(a.seats, b.seats ?? [])) return false;
    return a.state === b.state;
  },
  hash(s) {
    const holds = Object.keys(s.holds)
      .sort()
      .map((k) => `${k}=${s.holds[k]!.st}${s.holds[k]!.order ?? ""}`);
    const phases = Object.keys(s.phases)
      .sort()
      .map((k) => `${k}~${s.phases[k]}`);
    const gen = Object.keys(s.gen)
      .sort()
      .map((k) => `${k}#${s.gen[k]}`);
    return `${holds.join(";")}|${phases.join(";")}|${gen.join(";")}`;
  },
  twinClass: seatTwinClass,
  inertFor: seatInertFor,
};

/** One customer call as the simulator made it (ids as the answers named them). */
export type SeatCall =
  | {
      readonly f: "hold";
      readonly caller: string;
      readonly key: string;
      readonly seats: readonly string[];
      readonly cap?: number;
    }
  | {
      readonly f: "confirm";
      readonly caller: string;
      readonly key: string;
      readonly holdId: string;
    }
  | { readonly f: "release"; readonly caller: string; readonly holdId: string };

interface Recorded {
  readonly call: SeatCall;
  readonly at: number;
  /** Undefined while running; null when the outcome is unknown. */
  ret?: number;
  answer?: SeatOutcome<unknown> | null;
}

/** Logical time of the sweeper's settles: after every hold's uncertainty window, as its clock is. */
const SWEEP_TIME = Number.MAX_SAFE_INTEGER;

export interface SeatClockFacts {
  readonly skewMarginMs: number;
  /** Largest clock offset of any coordinator (virtual ms). */
  readonly maxSkewMs: number;
  /** Per hold id, the clock offset of the coordinator that stamped its claim (when seen). */
  readonly stampSkew: (holdId: string) => number | undefined;
}

export interface SeatCheck extends CheckResult {
  readonly violations: readonly string[];
  readonly operations: number;
  /** How often the model's looser rules had to be open (see IN_WINDOW, GHOSTLY). */
  readonly exercised: Record<string, number>;
}

/** Answers about a hold (its confirms, others' holds of its seats) given inside its clock window,
 * where the model allows both "live" and "expired". */
export const IN_WINDOW = "seat answers given inside a hold's clock window";
/** Hold requests whose claim landed but that never answered ok: a ghost's locks may be real. */
export const GHOSTLY = "hold requests claimed but never answered ok (possible ghosts)";
/** Hold attempts answered "taken" while a sibling attempt of the same request had started: the
 * request's own ghost may explain the refusal (an upper bound on how often it has to). */
export const SELF_TAKEN = "hold attempts refused taken beside a sibling (own ghost allowed)";

/** Records a seat run's calls and answers, then checks them against seatModel. */
export class SeatHistory {
  private readonly calls: Recorded[] = [];
  private readonly settles: { holdId: string; state: string }[] = [];
  private readonly sweeps: SweepSeen[] = [];

  constructor(private readonly now: () => number) {}

  /** Notes a call; the function returned takes its answer (null: timed out or never answered). */
  call(c: SeatCall): (answer: SeatOutcome<unknown> | null) => void {
    const r: Recorded = { call: c, at: this.now() };
    this.calls.push(r);
    return (answer) => {
      r.ret = this.now();
      r.answer = answer;
    };
  }

  private exercised(
    windows: ReadonlyMap<string, [number, number, readonly string[]]>,
    keyOf: ReadonlyMap<string, string>,
  ): Record<string, number> {
    let inWindow = 0;
    let selfTaken = 0;
    const answeredOk = new Set<string>();
    for (const r of this.calls) {
      if (r.answer?.ok && r.call.f === "hold") answeredOk.add(`${r.call.caller}/${r.call.key}`);
      if (!r.answer || r.ret === undefined) continue;
      if (!r.answer.ok && r.answer.code === "taken" && this.hasSibling(r)) selfTaken++;
      const c = r.call;
      const overlaps = ([lo, hi]: [number, number, readonly string[]]) =>
        r.at <= hi && r.ret! >= lo;
      if (c.f === "confirm") {
        const w = windows.get(keyOf.get(c.holdId) ?? "");
        if (w && overlaps(w)) inWindow++;
      } else if (c.f === "hold") {
        const mine = `${c.caller}/${c.key}`;
        const hit = [...windows].some(
          ([k, w]) =>
            k.split("#")[0] !== mine && w[2].some((x) => c.seats.includes(x)) && overlaps(w),
        );
        if (hit) inWindow++;
      }
    }
    const ghostly = [...windows.keys()].filter((k) => !answeredOk.has(k.split("#")[0]!)).length;
    return { [IN_WINDOW]: inWindow, [GHOSTLY]: ghostly, [SELF_TAKEN]: selfTaken };
  }

  /** Whether another attempt of r's hold request started before r answered (r: a hold). */
  private hasSibling(r: Recorded): boolean {
    const c = r.call;
    if (c.f !== "hold") return false;
    const end = r.ret ?? Number.POSITIVE_INFINITY;
    return this.calls.some(
      (o) =>
        o !== r &&
        o.call.f === "hold" &&
        o.call.caller === c.caller &&
        o.call.key === c.key &&
        o.at <= end,
    );
  }

  /** A sweep change that wrote a hold record or a hold claim null (ret null: outcome unknown). */
  swept(s: SweepSeen): void {
    this.sweeps.push(s);
  }

  /** A sweeper settle that answered ok, with the state it left the record in. */
  settled(holdId: string, state: string): void {
    this.settles.push({ holdId, state });
  }

  /**
   * Builds the history (ids resolved to keys; per hold a ghost, dusk, past and maybe a rollback;
   * the sweeper's settles) and searches it. `idems` are the final idempotency claims: they name
   * the id and expiry of every hold whose claim landed, answered or not.
   */
  check(
    claimed: ReadonlyMap<string, IdemRecord | null> | readonly ClaimSeen[],
    clock: SeatClockFacts,
    limit = SEAT_SEARCH_STEP_LIMIT,
  ): SeatCheck {
    const violations: string[] = [];
    const claims = Array.isArray(claimed)
      ? claimed
      : claimsOf(claimed as ReadonlyMap<string, IdemRecord | null>);
    const naming = nameClaims(claims, violations);
    this.checkAnswers(naming, violations);
    const b = opsBuilder(claims, clock);
    for (const r of this.calls) this.addCall(b, naming, r, violations);
    const claimSweeps = this.addSweeps(b, naming);
    const windows = this.addHoldLives(b, naming, clock, claimSweeps, violations);
    const { ops, add } = b;
    for (const s of this.settles) {
      const k = naming.keyOf.get(s.holdId);
      if (k !== undefined)
        add({ f: "settle", hold: k }, SWEEP_TIME, SWEEP_TIME, { code: "ok", state: s.state });
    }
    const r = checkHistory(seatModel, splitIndependent(ops, naming.reqOf), limit);
    // SIM_DUMP=1 prints the group's operations in call order, to read a failing seed by hand.
    if (!r.ok && process.env.SIM_DUMP) {
      const mine = ops.filter((op) => op.key === r.key).sort((x, y) => x.call - y.call);
      for (const op of mine) console.log(JSON.stringify(op));
    }
    if (!r.ok) {
      const what = r.inconclusive ? "search cut off" : "no order of the seat model explains it";
      violations.push(
        `seat history of ${r.key} not linearizable (${what}); longest prefix: ${describe(ops, r.longestPrefix)}`,
      );
    }
    return {
      ...r,
      ok: r.ok && violations.length === 0,
      violations,
      operations: ops.length,
      exercised: this.exercised(windows, naming.keyOf),
    };
  }

  /** Every ok answer must name its request's hold (pinned by a claim) with the expiry that claim
   * pinned, and each confirm key one order, each order one confirm key. */
  private checkAnswers(naming: HoldNaming, violations: string[]): void {
    const { keyOf, reqOf, expiry } = naming;
    const pin = (holdId: string, k: string, why: string) => {
      const had = keyOf.get(holdId);
      if (had === undefined) {
        violations.push(`hold id ${holdId} ${why} ${k} but no claim names it`);
      } else if (reqOf.get(had) !== k) {
        violations.push(`hold id ${holdId} ${why} both ${reqOf.get(had)} and ${k}`);
      }
      return had;
    };
    const orders = new Map<string, string>();
    for (const r of this.calls) {
      const a = r.answer;
      if (!a?.ok) continue;
      if (r.call.f === "hold") {
        const v = a.value as { holdId: string; expiresAtMs: number };
        const k = pin(v.holdId, `${r.call.caller}/${r.call.key}`, "answered for");
        if (k === undefined) continue;
        const e = expiry.get(k);
        if (e !== undefined && e !== v.expiresAtMs) {
          violations.push(`hold ${k} answered expiry ${v.expiresAtMs}, its claim pinned ${e}`);
        }
        expiry.set(k, v.expiresAtMs);
      }
      if (r.call.f === "confirm") {
        const k = `${r.call.caller}/${r.call.key}`;
        const o = (a.value as { orderId: string }).orderId;
        const was = orders.get(k);
        if (was !== undefined && was !== o)
          violations.push(`confirm ${k} answered both ${was} and ${o}`);
        orders.set(k, o);
      }
    }
    const orderKeys = new Map<string, string>();
    for (const [k, o] of orders) {
      const had = orderKeys.get(o);
      if (had !== undefined) violations.push(`order ${o} answered to both ${had} and ${k}`);
      orderKeys.set(o, k);
    }
  }

  /** One customer call as operations of the model: open when its outcome is unknown, closed by
   * its answer otherwise, none when the answer proves nothing checkable. */
  private addCall(b: OpsBuild, naming: HoldNaming, r: Recorded, violations: string[]): void {
    const c = r.call;
    const input = this.callInput(b, naming, r, violations);
    if (input === undefined) return;
    const { add } = b;
    const a = r.answer;
    if (a === undefined || a === null || r.ret === undefined) {
      add(input, r.at, OPEN);
      return;
    }
    // The observed answer picks the branch where the clocks allow two.
    const seen = (code: string): SeatInput =>
      input.f === "hold" || input.f === "confirm" ? { ...input, answered: code } : input;
    if (a.ok) {
      add(seen("ok"), r.at, r.ret, {
        code: "ok",
        ...(c.f === "hold" ? { seats: (a.value as { seats: readonly string[] }).seats } : {}),
      });
      return;
    }
    if (a.code === "unknown" || a.code === "unavailable") add(input, r.at, OPEN);
    else if (a.code === "in-flight") return;
    else if (a.code === "taken" && typeof a.detail === "string") return;
    else if (a.code === "expired" && input.f === "hold") {
      // Locked (maybe by this very attempt) and rolled back before the answer.
      add(input, r.at, OPEN);
      add({ ...input, replayOnly: true }, r.at, r.ret, { code: "expired" });
    } else add(seen(a.code), r.at, r.ret, { code: a.code });
  }

  /** A call's input to the model, its ids resolved to model names; undefined for a confirm or a
   * release naming a hold the model does not have. */
  private callInput(
    b: OpsBuild,
    { keyOf, incOf, count }: HoldNaming,
    r: Recorded,
    violations: string[],
  ): SeatInput | undefined {
    const c = r.call;
    let input: SeatInput;
    if (c.f === "hold") {
      const hk = b.nameOf(r as Recorded & { call: typeof c });
      input = {
        f: "hold",
        hold: hk,
        caller: c.caller,
        seats: c.seats,
        ...(c.cap === undefined ? {} : { cap: c.cap }),
        ...(this.hasSibling(r) ? { sibling: true } : {}),
        ...(count.has(hk) ? {} : { claimless: true }),
      };
      const v = r.answer?.ok ? (r.answer.value as { holdId: string }) : undefined;
      const name = v ? keyOf.get(v.holdId) : undefined;
      if (name !== undefined) input = { ...input, inc: incOf.get(name)! };
    } else {
      const k = keyOf.get(c.holdId);
      if (k === undefined) {
        // A hold id read off one store (a leak) whose claim was never chosen names no hold the
        // model has: fine unless the call answered ok, which needs that claim chosen (a confirm
        // proves it; a release writes only a record whose claim a prior answer named).
        if (r.answer?.ok) {
          violations.push(`${c.f} names hold id ${c.holdId}, which no answer or claim named`);
        }
        return undefined;
      }
      input =
        c.f === "confirm"
          ? { f: "confirm", hold: k, order: `${c.caller}/${c.key}`, caller: c.caller }
          : { f: "release", hold: k, caller: c.caller };
    }
    return input;
  }

  /** The sweeps as operations: a claim's ("forget") and a hold record's. Returns each claim's
   * sweep by the claim's model name. */
  private addSweeps(b: OpsBuild, { keyOf, reqOf, incOf }: HoldNaming): Map<string, SweepSeen> {
    const { add } = b;
    // Where each claim after the first could start: when the sweep of the one before began.
    const claimSweeps = new Map<string, SweepSeen>();
    for (const x of this.sweeps) {
      const name = keyOf.get(x.id);
      if (x.kind !== "claim" || name === undefined) continue;
      claimSweeps.set(name, x);
      const k = reqOf.get(name)!;
      const ret = x.ret ?? OPEN;
      add(
        { f: "forget", hold: k, inc: incOf.get(name)! },
        x.call,
        ret,
        x.ret === null ? undefined : { code: "ok" },
      );
    }
    for (const x of this.sweeps) {
      const name = keyOf.get(x.id);
      if (x.kind !== "hold" || name === undefined) continue;
      add(
        { f: "sweep", hold: name },
        x.call,
        x.ret ?? OPEN,
        x.ret === null ? undefined : { code: "ok" },
      );
    }
    return claimSweeps;
  }

  /** Per hold, the fixed-time events of its life (ghost, dusk, late, past) and the rollbacks that
   * can show. Returns each hold's clock window and seats. */
  private addHoldLives(
    b: OpsBuild,
    naming: HoldNaming,
    clock: SeatClockFacts,
    claimSweeps: ReadonlyMap<string, SweepSeen>,
    violations: string[],
  ): Map<string, [number, number, readonly string[]]> {
    const { keyOf, idOf, reqOf, incOf, expiry } = naming;
    const { add } = b;
    const firstCall = this.firstCalls(b);
    const showsRollback = this.rollbackShown(b, naming);
    const windows = new Map<string, [number, number, readonly string[]]>();
    const names = new Map<string, number>();
    for (const [k] of firstCall) names.set(k, firstCall.get(k)!.at);
    for (const [name, n] of incOf) {
      if (n === 0) continue;
      const before = claimSweeps.get(incName(reqOf.get(name)!, n - 1));
      if (before === undefined)
        violations.push(`claim ${name} of a request whose claim was never swept`);
      else names.set(name, before.call);
    }
    for (const [k, at] of names) {
      const c = firstCall.get(reqOf.get(k) ?? k);
      if (c === undefined) continue;
      const e = expiry.get(k);
      // Any attempt's change may have landed on some of its keys only, whatever it answered. A
      // ghost only allows more, so it is placed at once (no branch for the search).
      add({ f: "ghost", hold: k, caller: c.caller, seats: c.seats }, at, at, { code: "ok" });
      const rollback = showsRollback(k);
      if (e === undefined) {
        // Its claim never landed (only some seats did): its expiry is unknown, so it may be
        // rolled back any time and its time never surely runs out.
        if (rollback) add({ f: "rollback", hold: k }, at, OPEN);
        continue;
      }
      const id = idOf.get(k);
      const s0 = (id === undefined ? undefined : clock.stampSkew(id)) ?? clock.maxSkewMs;
      const lo = e - s0;
      const hi = Math.max(lo, e + clock.skewMarginMs + clock.maxSkewMs);
      // From here some coordinator's clock may read the expiry + margin as passed.
      const late = Math.min(hi, Math.max(lo, e + clock.skewMarginMs - clock.maxSkewMs));
      windows.set(k, [lo, hi, c.seats]);
      add({ f: "dusk", hold: k }, lo, lo, { code: "ok" });
      add({ f: "late", hold: k }, late, late, { code: "ok" });
      add({ f: "past", hold: k }, hi, hi, { code: "ok" });
      if (rollback) add({ f: "rollback", hold: k }, lo, OPEN);
      // Swept more than once: written "expired" again in between, through a seat pointing at it.
      const again = this.sweeps.filter((x) => x.kind === "hold" && keyOf.get(x.id) === k);
      for (let n = 1; n < again.length; n++) add({ f: "rollback", hold: k }, again[0]!.call, OPEN);
    }
    return windows;
  }

  /** Per hold name, the first hold call of it, and when it was made. */
  private firstCalls(b: OpsBuild): Map<string, Extract<SeatCall, { f: "hold" }> & { at: number }> {
    const firstCall = new Map<string, Extract<SeatCall, { f: "hold" }> & { at: number }>();
    for (const r of this.calls) {
      if (r.call.f !== "hold") continue;
      const k = b.nameOf(r as Recorded & { call: typeof r.call });
      if (!firstCall.has(k)) firstCall.set(k, { ...r.call, at: r.at });
    }
    return firstCall;
  }

  /** Whether a hold's rollback can show, so that the search may place one. */
  private rollbackShown(b: OpsBuild, { keyOf, reqOf }: HoldNaming): (k: string) => boolean {
    // A rollback (by a cap's count, a hold that then failed, the sweeper) shows only in a replay
    // answered "expired", or in a release that found the record rolled back (answered ok, yet
    // the sweeper found it expired); holds that take the seats roll their holders back themselves.
    const settledAs = new Map(this.settles.map((x) => [keyOf.get(x.holdId), x.state]));
    // A swept record ended unsold first: released, or rolled back (maybe by the sweep itself).
    const sweptHolds = new Set(
      this.sweeps.flatMap((x) => (x.kind === "hold" ? [keyOf.get(x.id)] : [])),
    );
    return (k: string) =>
      sweptHolds.has(k) ||
      this.calls.some((r) => {
        const c = r.call;
        if (c.f === "hold") {
          return (
            b.nameOf(r as Recorded & { call: typeof c }) === (reqOf.get(k) ?? k) &&
            r.answer?.ok === false &&
            r.answer.code === "expired"
          );
        }
        return c.f === "release" && keyOf.get(c.holdId) === k && settledAs.get(k) === "expired";
      });
  }
}

/** The end of an operation whose outcome is unknown: it may take effect any time after its call. */
const OPEN = Number.POSITIVE_INFINITY;

/** The model's names of the run's holds, resolved from their claims. */
interface HoldNaming {
  /** Hold id → model name (request key, or key#n for its n-th claim), and back. */
  readonly keyOf: Map<string, string>;
  readonly idOf: Map<string, string>;
  readonly reqOf: Map<string, string>;
  readonly incOf: Map<string, number>;
  /** Per model name, the expiry its claim pinned (or, failing that, an ok answer named). */
  readonly expiry: Map<string, number>;
  /** Per request key, how many claims it had. */
  readonly count: Map<string, number>;
}

/** Names each claimed hold id; an id two requests claimed is a violation. */
function nameClaims(claims: readonly ClaimSeen[], violations: string[]): HoldNaming {
  const keyOf = new Map<string, string>();
  const idOf = new Map<string, string>();
  const reqOf = new Map<string, string>();
  const incOf = new Map<string, number>();
  const expiry = new Map<string, number>();
  const count = new Map<string, number>();
  for (const c of claims) {
    if (keyOf.has(c.id)) {
      if (reqOf.get(keyOf.get(c.id)!) !== c.key)
        violations.push(
          `hold id ${c.id} claimed by both ${reqOf.get(keyOf.get(c.id)!)} and ${c.key}`,
        );
      continue;
    }
    const n = count.get(c.key) ?? 0;
    count.set(c.key, n + 1);
    const name = incName(c.key, n);
    keyOf.set(c.id, name);
    idOf.set(name, c.id);
    reqOf.set(name, c.key);
    incOf.set(name, n);
    if (c.expiresAtMs !== undefined) expiry.set(name, c.expiresAtMs);
  }
  return { keyOf, idOf, reqOf, incOf, expiry, count };
}

/** The operations of the search as they are added, and the model name of a hold call. */
interface OpsBuild {
  readonly ops: Operation<SeatInput, SeatOutput>[];
  readonly add: (input: SeatInput, call: number, ret: number, output?: SeatOutput) => void;
  readonly nameOf: (r: Recorded & { call: { f: "hold" } }) => string;
}

function opsBuilder(claims: readonly ClaimSeen[], clock: SeatClockFacts): OpsBuild {
  // Two groups: the bot (its own section and cap) and everyone else; each is split further into
  // the parts no step connects (splitIndependent) before the search.
  const group = (k: string) => (k.startsWith("bot/") ? "bot" : "customers");
  // Attempts that answered before any claim of their request could exist locked (if anything)
  // under ids no claim names: a hold of their own, "key~", apart from the claimed one.
  const firstStart = new Map<string, number>();
  for (const c of claims) if (!firstStart.has(c.key)) firstStart.set(c.key, c.startedAtMs ?? 0);
  const nameOf = (r: Recorded & { call: { f: "hold" } }): string => {
    const k = `${r.call.caller}/${r.call.key}`;
    const start = firstStart.get(k);
    const before = r.answer && r.ret !== undefined && start !== undefined;
    return before && r.ret! < start! - clock.maxSkewMs ? `${k}~` : k;
  };
  const ops: Operation<SeatInput, SeatOutput>[] = [];
  const add = (input: SeatInput, call: number, ret: number, output?: SeatOutput) => {
    const op = { id: ops.length, key: group(input.hold), input, call, ret };
    ops.push(output === undefined ? op : { ...op, output });
  };
  return { ops, add, nameOf };
}

/** A hold claim as seen committed during the run (in order: a request's claims come one after
 * another, each only once the one before was swept). `key` is the request key, caller/key. */
export interface ClaimSeen {
  readonly key: string;
  readonly id: string;
  readonly startedAtMs?: number;
  readonly expiresAtMs?: number;
}

/** A sweep change: `id` names the hold (the hold id, for a claim the id it pinned). */
export interface SweepSeen {
  readonly kind: "hold" | "claim";
  readonly id: string;
  readonly call: number;
  /** Null: the outcome is unknown. */
  readonly ret: number | null;
}

function claimsOf(idems: ReadonlyMap<string, IdemRecord | null>): ClaimSeen[] {
  return [...idems]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .flatMap(([ik, rec]) =>
      rec?.op === "hold"
        ? [
            {
              key: ik.slice("idem/".length),
              id: rec.id,
              startedAtMs: rec.startedAtMs,
              expiresAtMs: rec.expiresAtMs,
            },
          ]
        : [],
    );
}

/** Smaller than the registers' limit: a seat run's search takes far fewer steps (see docs). */
export const SEAT_SEARCH_STEP_LIMIT = 1_000_000;

function describe(
  ops: readonly Operation<SeatInput, SeatOutput>[],
  ids?: readonly number[],
): string {
  if (!ids) return "-";
  const byId = new Map(ops.map((o) => [o.id, o]));
  return ids
    .slice(-8)
    .map((id) => {
      const o = byId.get(id)!;
      return `${o.input.f} ${o.input.hold}${o.output ? ` → ${o.output.code}` : " (open)"}`;
    })
    .join(", ");
}
