import { holdKey, idemKey, type SeatRef, seatKeys } from "../../shared/domain/keys.ts";
import type { ChangeOutcome, QuorumClient } from "../../shared/quorum/client.ts";
import { minimumRetention } from "../../shared/quorum/gc.ts";
import type { ChangeFn } from "../../shared/quorum/proposer.ts";
import type { SeatTimings } from "../../shared/seats/changes.ts";
import { type HoldKeys, type SeatOutcome, SeatService } from "../../shared/seats/service.ts";
import type { HoldRecord, IdemRecord, SeatValue } from "../../shared/seats/types.ts";
import { ClockPlan, SimClock } from "./clock.ts";
import { countKills } from "./kills.ts";
import type { SimNode } from "./network.ts";
import { Rng } from "./random.ts";
import type { SimRunResult } from "./register-sim.ts";
import { wrongAnswers } from "./seat-bugs.ts";
import {
  claimTakeoverTimings,
  dieAfterClaim,
  noRollbackClient,
  primeChosenClient,
  seatStep,
  unprovenClient,
} from "./seat-faults.ts";
import { type ClaimSeen, type SeatCall, SeatHistory } from "./seat-model.ts";
import {
  runSeatCollector,
  runSeatSweeper,
  SWEEP_ROLLBACKS,
  SweepWatch,
  sweepLive,
  sweepOf,
} from "./seat-sweep.ts";
import { type FaultOptions, makeWorld, type World } from "./world.ts";

/**
 * The seat workload: customers hold 1-3 of six seats (two sections), then confirm, release or walk
 * away, through three coordinators (one per provider) whose clocks are skewed (one clock for each
 * coordinator's ballots and expiry, stepped once in some runs) and which may be killed at any await
 * point of a request, or right after a hold's claim (a killed one is replaced by a fresh instance,
 * and its customer sees the dropped connection). Requests that time out or come back unknown are
 * retried with the same idempotency key on another coordinator, and some are sent twice at once;
 * two latecomers arrive once the first holds could have lapsed. As each change commits, the
 * takeovers it made are checked (no hold taken before it ended, no seat passed on from a hold not
 * rolled back, no claim taken over in flight). After the run heals, a sweeper settles every hold
 * and the seat invariants are checked on the quorum state, and every answer (and the sweeper's
 * settles) against a sequential model of the service (seat-model.ts).
 *
 * In half of the runs the event has a per-buyer cap (2 or 3 seats) that every hold passes, and a
 * bot buyer races holds through three workers on a section of its own, then buys, releases or
 * walks away, and holds again. The checker then also proves that no buyer ever held plus owned
 * more than the cap (checkCapInvariants).
 */

/** Virtual hold lifetime: short, so expiry and takeover happen within a run. */
const SIM_HOLD_TTL_MS = 400;
/** How long a customer waits for a coordinator before retrying elsewhere. */
const CUSTOMER_TIMEOUT_MS = 3_000;
const REQUEST_TRIES = 3;
/** How long after its coordinator crashed a customer sees the dropped connection (virtual ms). */
const RESET_NOTICE_MS = 20;
/** A kill armed for a seat request lands on one of this many await points: a hold is three or
 * more changes (lock, record, rollbacks), a confirm two (commit, settle), each about 18 points. */
const SEAT_KILL_SPAN_POINTS = 60;
/** Share of hold attempts whose coordinator dies right after the hold's step 1 (claim and seats)
 * committed: the customer comes back, is told the request is in flight, and once the claim is
 * older than claimInFlightMs takes it over (the abandoned-claim rule). */
const DIE_AFTER_CLAIM_SHARE = 0.25;
/** Customers who arrive after the first holds' lifetime, besides the 3-6 who come at once. */
const LATECOMERS = 2;
/** Share of confirms that prime their claim first (SeatService.primeConfirm). */
const CONFIRM_PRIME_SHARE = 0.3;
/** Seeds the abandoned attempts' and the latecomers' own random stream. */
const ABANDON_STREAM = 0x68e31da4;
const SECTIONS = ["A", "B"];
const SEATS_PER_SECTION = 3;
const EVENT = "e1";
/** The bot's own section, so its holds meet the cap rather than other customers' seats. */
const BOT_SECTION = "C";
const BOT_SEATS = 6;
const BOT_WORKERS = 3;
const BOT_ROUNDS = 2;
/** Seeds the cap's own random stream (any constant apart from the world's). */
const CAP_STREAM = 0x2545f491;
/** Seeds the timings' own random stream. */
const TIMING_STREAM = 0x6d2b79f5;
/** Share of customers who come back (hold again, confirm again) after the retention. */
const COME_BACK_SHARE = 0.4;
const COME_BACK_STREAM = 0x510e527f;
/** Share of customers whose hold request failed (unknown, timed out, taken, ...) who learn its
 * hold id anyway, as anyone can from the public audit log, and try to confirm it: the confirm must
 * not sell a hold whose change landed only in part (decision 0007). A stream of its own. */
const LEAKY_SHARE = 0.5;
const LEAKY_STREAM = 0x1f83d9ab;
/** The longest a seat request's attempt has been seen to run on in the background (3.3 s in 300
 * runs: rounds of steps, each step retried with its change function's `now` read once). The
 * retention must exceed it, not only a change's lifetime (docs/quorum.md "The seat sweep"). */
const SEAT_REQUEST_SPAN_MS = 5_000;
/** Seeds the seat sweeper's (and the seat collector's) own random stream. */
const SWEEP_STREAM = 0x3c6ef372;
/** Seat changes give up after this (virtual ms), so the scaled retention can exceed margin plus
 * lifetime as production's does; a warm promise lives as long. */
const SEAT_CHANGE_LIFETIME_MS = 300;
/** Longest a message takes to be served (the world's longest delay, twice: a duplicate). */
const SEAT_MESSAGE_AGE_MS = 40;

/**
 * Per run, the seat core's clock rules scaled to the 400 ms holds (production: 5 s and 30 s), so
 * both takeovers happen in most runs: a skew margin of 50-200 ms, and coordinator clocks within
 * half of it either way (two coordinators then differ by at most the margin, which is what makes
 * it safe); a claim counts as in flight for 200-800 ms. Under "skew-margin" the clocks drift
 * twice the margin either way instead (two differ by up to four margins): the checker must see a
 * hold taken over while it was still live.
 */
function pickTimings(seed: number, broken: boolean): { timings: SeatTimings; maxSkewMs: number } {
  const r = new Rng(seed ^ TIMING_STREAM);
  const skewMarginMs = r.int(50, 200);
  // Under the hold's lifetime less the margin: a retry told "in flight" waits this long and comes
  // back before the pinned expiry has passed, so it takes over rather than answers "expired".
  const claimInFlightMs = r.int(Math.max(100, skewMarginMs), SIM_HOLD_TTL_MS - skewMarginMs);
  // Longer than the margin plus the longest an attempt runs on: nothing still running when a hold
  // ends can meet its swept records (with only a change's lifetime, as SeatTimings.retentionMs
  // says, step retries with a stale clock revive swept holds: seed 2379 at 623 ms).
  const retentionMs = skewMarginMs + SEAT_REQUEST_SPAN_MS + r.int(0, 500);
  const maxSkewMs = broken ? 2 * skewMarginMs : Math.floor(skewMarginMs / 2);
  return { timings: { skewMarginMs, claimInFlightMs, retentionMs }, maxSkewMs };
}

/** Ways to break the seat rules that the checker must catch: the cap counter not read at all, or
 * read outside the hold's change (check-then-act); clocks skewed beyond the skew margin; an
 * expired hold's seats taken without rolling it back; an idempotency claim taken over while its
 * attempt is still in flight (see seat-faults.ts); wrong answers over a consistent state (seat-bugs.ts), which only
 * the seat model catches. */
export const SEAT_BREAK_MODES = [
  "cap-ignore",
  "cap-race",
  "skew-margin",
  "takeover-rollback",
  "claim-takeover",
  "seat-answer",
  "release-answer",
  "sweep-live",
  "confirm-unproven",
  "prime-chosen",
] as const;
const SEAT_CAP_BREAKS = ["cap-ignore", "cap-race"] as const;
type CapBreakMode = (typeof SEAT_CAP_BREAKS)[number];
export type SeatBreakMode = (typeof SEAT_BREAK_MODES)[number];

interface Coordinator {
  svc: SeatService;
  node: SimNode;
  /** Armed for one hold attempt: the process dies right after a hold's step 1 commits. */
  dieAfterClaim: boolean;
}

export interface SeatSimOptions extends FaultOptions {
  seed: number;
  customers?: number;
  /** Largest clock offset of a coordinator (virtual ms); the default stays within the margin. */
  maxSkewMs?: number;
  /** Breaks the cap (and makes every run capped), or skews clocks beyond the skew margin, to show
   * the checker catches it. */
  capBreak?: SeatBreakMode;
  /** The garbage collector deletes swept records (hold/, idem/) during the run. */
  gc?: boolean;
}

/** One successful hold as its customer saw it, for the cap check. */
export interface HoldSeen {
  readonly caller: string;
  readonly holdId: string;
  readonly n: number;
  readonly expiresAtMs: number;
  /** When its request (first attempt) started, and when an attempt first answered ok. */
  readonly startedAt: number;
  readonly okAt: number;
  /** When its release was first asked for, if ever. */
  releasedAt?: number;
}

/**
 * A client whose changes see the quota register as the broken rule has it: never (null), or as a
 * quorum read just before the change returned it (then written back from that stale copy).
 */
function brokenCapClient(client: QuorumClient, mode: CapBreakMode): QuorumClient {
  const broken = Object.create(client) as QuorumClient;
  broken.change = async (keys, f) => {
    const j = keys.findIndex((k) => k.startsWith("quota/"));
    if (j < 0) return client.change(keys, f);
    let seen = null;
    if (mode === "cap-race") {
      const g = await client.get<unknown>([keys[j]!], { consistency: "quorum" });
      seen = g.status === "ok" ? (g.values[0] ?? null) : null;
    }
    return client.change(keys, (cur, view) =>
      f(cur.map((v, i) => (i === j ? seen : v)) as typeof cur, view),
    );
  };
  return broken;
}

/** The takeover rules the seat workload should reach (counted as "rules exercised"). */
export const EXPIRED_TAKEOVER = "expired holds rolled back by another request";
export const CLAIM_TAKEOVER = "abandoned idempotency claims taken over";
const DIED_AFTER_CLAIM = "coordinators killed right after a hold's claim";

/** Per hold id: the expiry its claim was stamped with, and the stamping coordinator's clock
 * offset, so expiresAtMs - skew is when the hold really ends (virtual time). */
type Stamps = Map<string, { expiresAtMs: number; skew: number }>;

/** The coordinator a counted client belongs to, as the takeover checks need it. */
interface TakeoverClock {
  id: string;
  now: () => number;
  skew: number;
  claimInFlightMs: number;
  maxSkewMs: number;
}

/** Where the takeover checks of one counted client report, and what they keep between changes. */
interface TakeoverLog {
  readonly clock: TakeoverClock;
  readonly bump: (rule: string) => void;
  readonly stamps: Stamps;
  readonly early: string[];
  readonly claims: Map<string, string>;
}

/** A key's value before a committed change, as the takeover checks read it. */
type Before = { state?: string; startedAtMs?: number } | null | undefined;

/**
 * A client that counts the takeovers its committed changes made: a hold record still "held"
 * turned "expired" (the step before someone else takes its seats), and a change that went ahead
 * on an idempotency claim at least claimInFlightMs old on this coordinator's clock. It also notes
 * each hold claim's stamp, and flags (into `early`) the takeovers that broke a rule as they
 * committed: an expiry taken over before the hold really ended, a claim another coordinator went
 * ahead on while it was still in flight, and a seat passed on from a hold whose record the change
 * did not read terminal.
 */
function countingTakeovers(
  client: QuorumClient,
  clock: TakeoverClock,
  bump: (rule: string) => void,
  stamps: Stamps,
  early: string[],
  claims: Map<string, string>,
  watch: SweepWatch,
  vnow: () => number,
): QuorumClient {
  const now = clock.now;
  const log: TakeoverLog = { clock, bump, stamps, early, claims };
  const counted = Object.create(client) as QuorumClient;
  counted.change = async <T>(
    keys: readonly string[],
    f: ChangeFn<T>,
  ): Promise<ChangeOutcome<T>> => {
    let seen: (T | null)[] = [];
    let at = 0;
    // The offset when `at` was read: a clock may step while the change runs.
    let atSkew = 0;
    const call = vnow();
    let sweep: ReturnType<typeof sweepOf> | undefined;
    const out = await client.change<T>(keys, (cur, view) => {
      seen = cur;
      at = now();
      atSkew = clock.skew;
      const r = f(cur, view);
      sweep = sweepOf(keys, cur, r);
      return r;
    });
    if (sweep && out.status !== "aborted") {
      watch.swept(sweep, call, out.status === "ok", at, atSkew);
      // A claim sweep that may have landed: the next claim's writer is unknown, not this one's.
      claims.delete(sweep.key);
    }
    // An abort writes back what it read: a claim an earlier, cut-short attempt landed on some
    // stores is committed by it (a hold's replay), so it is seen here.
    if (out.status === "aborted") {
      keys.forEach((k, j) => {
        watch.claim(k, out.values[j]);
      });
    }
    if (out.status !== "ok") return out;
    keys.forEach((k, j) => {
      watch.claim(k, seen[j]);
      watch.claim(k, out.values[j]);
      watch.wrote(k, seen[j] ?? null, out.values[j], at - atSkew);
      checkCommittedKey(log, keys, seen, j, out.values[j], at, atSkew);
    });
    return out;
  };
  return counted;
}

/** One key a change committed: the takeovers it made, counted and flagged when they broke a
 * rule; the claim's writer and the hold's stamp kept for the changes to come. */
function checkCommittedKey(
  log: TakeoverLog,
  keys: readonly string[],
  seen: readonly unknown[],
  j: number,
  value: unknown,
  at: number,
  atSkew: number,
): void {
  const k = keys[j]!;
  const before = seen[j] as Before;
  const after = value as { state?: string } | null;
  checkExpiryTakeover(log, k, before, after, at, atSkew);
  checkClaimTakeover(log, k, j, before, after, at, atSkew);
  if (k.startsWith("idem/") && before === null && after !== null) log.claims.set(k, log.clock.id);
  // Swept: whoever writes the next claim, its writer is not the one before.
  if (k.startsWith("idem/") && after === null) log.claims.delete(k);
  checkSeatHandover(log, keys, seen, k, before, after);
  const claim = after as { op?: string; id?: string; expiresAtMs?: number } | null;
  if (k.startsWith("idem/") && before === null && claim?.op === "hold" && claim.id) {
    log.stamps.set(claim.id, { expiresAtMs: claim.expiresAtMs ?? 0, skew: atSkew });
  }
}

/** A hold record still "held" turned "expired": a takeover, early if the hold had not ended. */
function checkExpiryTakeover(
  { bump, stamps, early }: TakeoverLog,
  k: string,
  before: Before,
  after: { state?: string } | null,
  at: number,
  atSkew: number,
): void {
  if (k.startsWith("hold/") && before?.state === "held" && after?.state === "expired") {
    bump(EXPIRED_TAKEOVER);
    const st = stamps.get(k.slice(5));
    const real = at - atSkew;
    if (st && real < st.expiresAtMs - st.skew) {
      early.push(
        `hold ${k.slice(5)} taken over at ${real}, before it ended at ${st.expiresAtMs - st.skew}`,
      );
    }
  }
}

/** A change that went ahead on an existing claim: a takeover once the claim is abandoned, a
 * broken rule when another coordinator's claim was still in flight. */
function checkClaimTakeover(
  { clock, bump, early, claims }: TakeoverLog,
  k: string,
  j: number,
  before: Before,
  after: { state?: string } | null,
  at: number,
  atSkew: number,
): void {
  // A change goes ahead on the claim it is run for, its first key; a confirm also reads its
  // hold's claim (decision 0007) and writes it back unchanged, which takes nothing over.
  if (
    j === 0 &&
    k.startsWith("idem/") &&
    typeof before?.startedAtMs === "number" &&
    after !== null
  ) {
    if (at - before.startedAtMs >= clock.claimInFlightMs) bump(CLAIM_TAKEOVER);
    // Another coordinator went ahead on this claim: only once it is abandoned, i.e. at least
    // claimInFlightMs old on the taker's clock. In real time that is claimInFlightMs less
    // the two clocks' offsets; the stamper's is unknown here, so it is bounded by maxSkew.
    const writer = claims.get(k);
    const age = at - atSkew - before.startedAtMs;
    if (
      writer !== undefined &&
      writer !== clock.id &&
      age < clock.claimInFlightMs - clock.maxSkewMs
    ) {
      early.push(
        `claim ${k} of ${writer} taken over by ${clock.id} while in flight (${age} ms old)`,
      );
    }
  }
}

/** The handover rule: a seat held by H goes to another hold only in a change that read H's
 * record terminal and unsold (released, or expired by its own rollback change). */
function checkSeatHandover(
  { early }: TakeoverLog,
  keys: readonly string[],
  seen: readonly unknown[],
  k: string,
  before: Before,
  after: { state?: string } | null,
): void {
  const was = before as { state?: string; holdId?: string } | null | undefined;
  const is = after as { state?: string; holdId?: string } | null;
  if (k.startsWith("seat/") && was?.state === "held" && is?.state === "held") {
    if (is.holdId !== was.holdId) {
      const h = keys.indexOf(`hold/${was.holdId}`);
      const rec = (h < 0 ? undefined : seen[h]) as { state?: string } | null | undefined;
      if (rec?.state !== "released" && rec?.state !== "expired") {
        early.push(
          `seat ${k} passed from ${was.holdId} to ${is.holdId} while ${was.holdId}'s record was ${JSON.stringify(rec ?? null)}`,
        );
      }
    }
  }
}

export async function runSeatSim(o: SeatSimOptions): Promise<SimRunResult> {
  const run = setUpSeatRun(o);
  const { world, exercised, bump } = run;
  const { sched } = world;
  const customers = new SeatCustomers(run, startCoordinators(run));
  const loops = startCustomers(run, customers);
  // The seat sweep runs through the workload, on a coordinator of its own with its own clock, and
  // under --gc the collector deletes what it wrote null (seat-sweep.ts).
  let done = false;
  void Promise.all(loops).then(() => {
    done = true;
  });
  startSeatSweep(run, () => done);
  await sched.run();

  // Heal, then a sweeper far in the future settles every hold (all have expired by then).
  world.heal();
  // No hold taken over (rolled back for someone else) before its lifetime really ran out.
  const violations: string[] = [...run.early];
  let searchSteps = 0;
  const audit = auditFinalState(run, customers, violations);
  await sched.run();
  // An audit that could not read the final state checked nothing: inconclusive, and a failure.
  let inconclusive = false;
  try {
    const checked = await audit;
    searchSteps = checked.searchSteps;
    // A seat-model search cut off at its step limit proved nothing either.
    inconclusive = checked.cutOff;
  } catch (e) {
    inconclusive = true;
    violations.push(`inconclusive: ${String(e)}`);
  }
  void loops;
  violations.push(...world.ballots.clashes);
  countKills(world.kills, bump, seatStep);
  for (const st of run.clocks.stepped) {
    bump("clock steps");
    world.faults.push(st);
  }

  const { outcomes } = customers;
  return {
    seed: o.seed,
    ok: violations.length === 0,
    violation: violations.length > 0 ? violations.join("; ") : undefined,
    ...(inconclusive ? { inconclusive } : {}),
    searchSteps,
    faults: world.faults,
    ops: Object.values(outcomes).reduce((a, b) => a + b, 0),
    unknown: (outcomes.unknown ?? 0) + (outcomes.timeout ?? 0),
    killed: customers.killed,
    messages: world.net.messages,
    events: sched.events,
    outcomes,
    changes: world.changes,
    exercised: { ...exercised, ...world.sweeps },
  };
}

/** What the parts of one seat run share: its world and clock rules, and what the checks collect
 * as it goes. */
interface SeatRun {
  readonly o: SeatSimOptions;
  readonly world: World;
  readonly lifetimes: { readonly changeLifetimeMs: number; readonly warmTtlMs: number };
  readonly capBreak: CapBreakMode | undefined;
  readonly timings: SeatTimings;
  readonly maxSkew: number;
  readonly clocks: ClockPlan;
  readonly stamps: Stamps;
  /** Per idempotency key, the coordinator whose change wrote its claim. */
  readonly claims: Map<string, string>;
  readonly early: string[];
  /** Every customer call and its answer, for the sequential seat model (seat-model.ts). */
  readonly history: SeatHistory;
  readonly vnow: () => number;
  readonly exercised: Record<string, number>;
  readonly bump: (rule: string) => void;
  readonly watch: SweepWatch;
}

/** The run's world, its clock rules (scaled, or broken by skew-margin) and the checks' records. */
function setUpSeatRun(o: SeatSimOptions): SeatRun {
  const lifetimes = {
    changeLifetimeMs: SEAT_CHANGE_LIFETIME_MS,
    warmTtlMs: SEAT_CHANGE_LIFETIME_MS,
  };
  const world = makeWorld(o.seed, { ...o, lifetimes });
  const { sched } = world;
  const skewBreak = o.capBreak === "skew-margin";
  const capBreak = SEAT_CAP_BREAKS.find((m) => m === o.capBreak);
  const picked = pickTimings(o.seed, skewBreak);
  const { timings } = picked;
  const maxSkew = o.maxSkewMs ?? picked.maxSkewMs;
  world.faults.push(
    `margin ${timings.skewMarginMs} ms, skew ±${maxSkew} ms, claim ${timings.claimInFlightMs} ms, retention ${timings.retentionMs} ms`,
  );
  // Steps keep every clock within ±maxSkew: within the margin, unless skew-margin breaks it.
  const clocks = new ClockPlan(o.seed, sched, maxSkew);
  const stamps: Stamps = new Map();
  const claims = new Map<string, string>();
  const early: string[] = [];
  const history = new SeatHistory(() => sched.now);
  const vnow = () => sched.now;
  const exercised: Record<string, number> = { [EXPIRED_TAKEOVER]: 0, [CLAIM_TAKEOVER]: 0 };
  const bump = (rule: string) => {
    exercised[rule] = (exercised[rule] ?? 0) + 1;
  };
  const watch = new SweepWatch({
    history,
    vnow,
    timings,
    maxSkewMs: maxSkew,
    lifetimeMs: SEAT_CHANGE_LIFETIME_MS,
    early,
    bump,
  });
  return {
    o,
    world,
    lifetimes,
    capBreak,
    timings,
    maxSkew,
    clocks,
    stamps,
    claims,
    early,
    history,
    vnow,
    exercised,
    bump,
    watch,
  };
}

/** The three coordinators; the function returned gives coordinator i, replacing a killed
 * instance with a fresh one. */
function startCoordinators(run: SeatRun): (i: number) => Coordinator {
  let generation = 0;
  const coords: Coordinator[] = [];
  const spawn = (i: number): Coordinator => spawnCoordinator(run, `c${i}g${generation++}`);
  for (let i = 0; i < 3; i++) coords.push(spawn(i));
  return (i: number): Coordinator => {
    if (coords[i]!.node.killed) coords[i] = spawn(i);
    return coords[i]!;
  };
}

/** One coordinator instance: a skewed (maybe stepped) clock, a client whose takeovers are counted
 * and which the break mode breaks, and the seat service over it. */
function spawnCoordinator(run: SeatRun, id: string): Coordinator {
  const { o, world, timings, maxSkew, capBreak, bump } = run;
  const { rng } = world;
  const answerBug =
    o.capBreak === "seat-answer" || o.capBreak === "release-answer" ? o.capBreak : undefined;
  // One clock for the coordinator's QuorumClient (ballots) and its SeatService (expiry).
  const sim = new SimClock(world.sched);
  const { client: plain, node, cache } = world.client(id, sim);
  const client = o.capBreak === "prime-chosen" ? primeChosenClient(plain, cache) : plain;
  sim.offsetMs = rng.int(-maxSkew, maxSkew);
  run.clocks.maybeStep(id, sim);
  const r = rng.fork();
  const now = sim.now;
  const base = capBreak ? brokenCapClient(client, capBreak) : client;
  const clock = {
    id,
    maxSkewMs: maxSkew,
    now,
    get skew() {
      return sim.offsetMs;
    },
    claimInFlightMs: timings.claimInFlightMs,
  };
  const { stamps, early, claims, watch, vnow } = run;
  let counted = countingTakeovers(base, clock, bump, stamps, early, claims, watch, vnow);
  // Outside the counter, so that the counter sees the seats as stored and the lock as broken.
  if (o.capBreak === "takeover-rollback") counted = noRollbackClient(counted, now, timings);
  // Called only once the coordinator below exists (after a change commits).
  const dying = dieAfterClaim(
    o.capBreak === "confirm-unproven" ? unprovenClient(counted) : counted,
    () => {
      if (!coord.dieAfterClaim || node.killed) return;
      bump(DIED_AFTER_CLAIM);
      node.kill();
    },
  );
  const svc = new SeatService(dying, {
    now,
    randomBytes: (n) => r.bytes(n),
    holdTtlMs: SIM_HOLD_TTL_MS,
    timings: o.capBreak === "claim-takeover" ? claimTakeoverTimings(timings) : timings,
  });
  const coord: Coordinator = {
    svc: answerBug ? wrongAnswers(svc, answerBug) : svc,
    node,
    dieAfterClaim: false,
  };
  return coord;
}

/** The run's customers and what they were answered: each request retried as a client does, and
 * logged for the seat model and the invariants. */
class SeatCustomers {
  readonly outcomes: Record<string, number> = {};
  readonly abandonRng: Rng;
  killed = 0;
  readonly holdsOk: { key: string; holdId: string }[] = [];
  readonly seen = new Map<string, HoldSeen>();
  /** Set as the customers start, from a stream of its own, so uncapped runs draw exactly what
   * they drew before. */
  cap: number | undefined;
  readonly confirmsOk: { key: string; holdId: string; orderId: string }[] = [];
  private readonly backRng: Rng;
  private readonly leakyRng: Rng;
  private readonly comeBackMs: number;

  constructor(
    private readonly run: SeatRun,
    private readonly coordinator: (i: number) => Coordinator,
  ) {
    const { o, timings, maxSkew } = run;
    this.abandonRng = new Rng(o.seed ^ ABANDON_STREAM);
    this.backRng = new Rng(o.seed ^ COME_BACK_STREAM);
    this.leakyRng = new Rng(o.seed ^ LEAKY_STREAM);
    // Past the hold's lifetime, the margin on every clock and the retention: swept by then, or soon.
    this.comeBackMs =
      SIM_HOLD_TTL_MS + timings.skewMarginMs + 2 * maxSkew + (timings.retentionMs ?? 0);
  }

  /** One hold request (retried like any other), logged for the cap check when it succeeds. */
  async holdAs(wl: Rng, caller: string, key: string, seats: { section: string; seatId: string }[]) {
    const { sched } = this.run.world;
    const { cap, leakyRng } = this;
    const startedAt = sched.now;
    let leaked = false;
    const call: SeatCall = {
      f: "hold",
      caller,
      key,
      seats: seatKeys(EVENT, seats),
      ...(cap === undefined ? {} : { cap }),
    };
    return await this.request(
      wl,
      call,
      (svc) =>
        svc.hold(caller, key, {
          eventId: EVENT,
          seats,
          ...(cap === undefined ? {} : { maxSeatsPerBuyer: cap }),
        }),
      (v) => {
        this.holdsOk.push({ key: `${caller}/${key}`, holdId: v.holdId });
        if (!this.seen.has(v.holdId)) {
          this.seen.set(v.holdId, {
            caller,
            holdId: v.holdId,
            n: v.seats.length,
            expiresAtMs: v.expiresAtMs,
            startedAt,
            okAt: sched.now,
          });
        }
      },
      true,
      () => {
        // A rival's own lost attempts leak no further rivals; the bot's section is its own.
        if (leaked || caller === "bot" || caller.endsWith("x")) return 0;
        if (!leakyRng.chance(LEAKY_SHARE)) return 0;
        leaked = true;
        void this.leak(leakyRng.fork(), caller, key, seats);
        // This customer's client backs off before its retry, which would finish the change.
        return leakyRng.int(20, 100);
      },
    );
  }

  /** Buys, releases or walks away from a hold, as a customer does. */
  /** Primes a leaked hold's confirm on the keys its record (read off one store) lists. */
  private primeLeaked(svc: SeatService, caller: string, holdId: string, record: HoldKeys) {
    this.run.bump("leaked-hold confirms primed on their record's keys");
    return svc.primeConfirm(caller, "cl", holdId, record);
  }

  async finish(wl: Rng, caller: string, key: string, holdId: string): Promise<void> {
    const { sched } = this.run.world;
    const next = wl.next();
    await sched.sleep(wl.int(0, Math.floor(SIM_HOLD_TTL_MS * 1.5)));
    if (next < 0.65) {
      // Some confirms prime their claim first, as a purchase does while it reads the hold.
      const primed = wl.chance(CONFIRM_PRIME_SHARE);
      if (primed) this.run.bump("confirms primed first");
      await this.request(
        wl,
        { f: "confirm", caller, key, holdId },
        (svc) =>
          primed
            ? svc.primeConfirm(caller, key, holdId).then(() => svc.confirm(caller, key, { holdId }))
            : svc.confirm(caller, key, { holdId }),
        (v) =>
          this.confirmsOk.push({ key: `${caller}/${key}`, holdId: v.holdId, orderId: v.orderId }),
      );
    } else if (next < 0.85) {
      const h = this.seen.get(holdId);
      if (h && h.releasedAt === undefined) h.releasedAt = sched.now;
      await this.request(wl, { f: "release", caller, holdId }, (svc) =>
        svc.release(caller, holdId),
      );
    }
  }

  /** One customer request: retried on other coordinators, sometimes duplicated concurrently. */
  async request<T>(
    wl: Rng,
    call: SeatCall,
    run: (svc: SeatService) => Promise<SeatOutcome<T>>,
    onOk: (value: T) => void = () => {},
    isHold = false,
    /** Called when an attempt ends without an answer; returns how long to wait before the retry. */
    onLost: () => number = () => 0,
  ): Promise<SeatOutcome<T> | null> {
    const { world, history, timings } = this.run;
    const { sched } = world;
    const { outcomes } = this;
    let last: SeatOutcome<T> | null = null;
    for (let t = 0; t < REQUEST_TRIES; t++) {
      let backoff = 0;
      const attempt = async (): Promise<SeatOutcome<T> | null> => {
        const c = this.coordinator(wl.int(0, 2));
        if (world.maybeKill(c.node, SEAT_KILL_SPAN_POINTS)) this.killed++;
        // Drawn apart (a stream of its own): a coordinator that dies once its hold is claimed.
        if (isHold && this.abandonRng.chance(DIE_AFTER_CLAIM_SHARE)) c.dieAfterClaim = true;
        const timeout = sched.sleep(CUSTOMER_TIMEOUT_MS).then(() => null);
        // A crashed instance's connection drops: the customer learns it soon, not at its timeout.
        const reset = c.node.died().then(() => sched.sleep(RESET_NOTICE_MS).then(() => null));
        const answered = history.call(call);
        const r = await Promise.race([run(c.svc), timeout, reset]);
        answered(r);
        c.node.disarm();
        c.dieAfterClaim = false;
        return r;
      };
      const tries = wl.chance(0.15) ? [attempt(), attempt()] : [attempt()];
      for (const r of await Promise.all(tries)) {
        const k = r === null ? "timeout" : r.ok ? "ok" : r.code;
        outcomes[k] = (outcomes[k] ?? 0) + 1;
        if (k === "timeout" || k === "unknown" || k === "unavailable") {
          backoff = Math.max(backoff, onLost());
        }
        if (r?.ok) {
          onOk(r.value);
          last = r;
        } else if (r && !last?.ok) last = r;
      }
      // Told another attempt is still running (409), a client tries again once it could be stale.
      if (last && !last.ok && last.code === "in-flight") {
        await sched.sleep(timings.claimInFlightMs);
        continue;
      }
      if (last && (last.ok || (last.code !== "unknown" && last.code !== "unavailable"))) break;
      if (backoff > 0) await sched.sleep(backoff);
    }
    return last;
  }

  /** One customer: holds 1-3 seats (once more if refused as taken), then finishes. */
  async customer(wl: Rng, caller: string, arriveMs: number): Promise<void> {
    const { sched } = this.run.world;
    await sched.sleep(arriveMs);
    const want = wl.int(1, 3);
    const seats = new Map<string, { section: string; seatId: string }>();
    while (seats.size < want) {
      const section = wl.pick(SECTIONS);
      const seatId = `s${wl.int(1, SEATS_PER_SECTION)}`;
      seats.set(`${section}/${seatId}`, { section, seatId });
    }
    let key = "h";
    let hold = await this.holdAs(wl, caller, key, [...seats.values()]);
    // Refused because the seats were held, a customer comes back once a little later, by
    // when the holder may have walked away (an expired hold to take over).
    if (hold && !hold.ok && hold.code === "taken") {
      await sched.sleep(wl.int(0, 2 * SIM_HOLD_TTL_MS));
      key = "h2";
      hold = await this.holdAs(wl, caller, key, [...seats.values()]);
    }
    if (hold?.ok) await this.finish(wl, caller, "c", hold.value.holdId);
    // Some come back once what their requests left behind may have been swept (a stream of its
    // own): the hold retried under its key is a new request if its claim is gone; a confirm
    // retried replays from the sold record, or finds the hold swept.
    const back = this.backRng.fork();
    if (!back.chance(COME_BACK_SHARE)) return;
    await sched.sleep(this.comeBackMs + back.int(0, 1_000));
    if (hold?.ok && back.chance(0.5)) {
      const holdId = hold.value.holdId;
      await this.request(back, { f: "confirm", caller, key: "c", holdId }, (svc) =>
        svc.confirm(caller, "c", { holdId }),
      );
    }
    const again = await this.holdAs(back, caller, key, [...seats.values()]);
    if (again?.ok) await this.finish(back, caller, "c2", again.value.holdId);
  }

  /**
   * A hold attempt just ended without an answer, its change perhaps landed in part, while the
   * request's retry is about to run: its hold id leaks (as through the audit log, which lists
   * every committed key: read here off any store that has it) and is confirmed at once, while
   * a rival aims a hold of its own at the same seats and buys them if it gets them.
   */
  async leak(wl: Rng, caller: string, key: string, seats: SeatRef[]): Promise<void> {
    const { world } = this.run;
    const { sched } = world;
    const rival = (async () => {
      await sched.sleep(wl.int(0, 3));
      const r = await this.holdAs(wl, `${caller}x`, key, seats);
      // A confirm key of its own per rival hold (a customer's two holds each leak a rival).
      if (r?.ok) await this.finish(wl, `${caller}x`, `c${key}`, r.value.holdId);
    })();
    // Read off the stores, not through the protocol: a read's write-back would itself commit the
    // claim (and count as taking over a request in flight), which an audit log reader cannot do.
    // The record found with it names the hold's keys, so the confirm goes straight to its sale.
    let claim: IdemRecord | null = null;
    let record: HoldKeys | undefined;
    for (const acc of world.acceptors) {
      const raw = acc.records.get(idemKey(caller, key))?.value;
      if (raw) claim = JSON.parse(raw) as IdemRecord;
      const rec = claim ? acc.records.get(holdKey(claim.id))?.value : null;
      if (rec) record = JSON.parse(rec) as HoldKeys;
    }
    if (claim?.op === "hold") {
      const holdId = claim.id;
      await this.request(
        wl,
        { f: "confirm", caller, key: "cl", holdId },
        // Primed on the hold's keys as read, as a purchase primes them while the card is
        // authorised.
        (svc) =>
          (record ? this.primeLeaked(svc, caller, holdId, record) : Promise.resolve()).then(() =>
            svc.confirm(caller, "cl", { holdId, ...(record ? { record } : {}) }),
          ),
        (v) => this.confirmsOk.push({ key: `${caller}/cl`, holdId: v.holdId, orderId: v.orderId }),
      );
    }
    await rival;
  }

  /** One worker of the bot buyer: holds 1-2 seats of its own section and finishes, round after
   * round; in a burst its first hold goes at once. */
  async bot(wl: Rng, w: number, burst: boolean): Promise<void> {
    const { sched } = this.run.world;
    for (let round = 0; round < BOT_ROUNDS; round++) {
      const pause = wl.int(0, 200);
      await sched.sleep(burst && round === 0 ? 0 : pause);
      const seats = new Map<string, { section: string; seatId: string }>();
      const want = wl.int(1, 2);
      while (seats.size < want) {
        const seatId = `s${wl.int(1, BOT_SEATS)}`;
        seats.set(seatId, { section: BOT_SECTION, seatId });
      }
      const key = `w${w}r${round}`;
      const hold = await this.holdAs(wl, "bot", `${key}h`, [...seats.values()]);
      if (hold?.ok) await this.finish(wl, "bot", `${key}c`, hold.value.holdId);
    }
  }
}

/** Sets every customer going (and, in capped runs, the cap and the bot): their loops. */
function startCustomers(run: SeatRun, customers: SeatCustomers): Promise<void>[] {
  const { o, world, capBreak } = run;
  const { rng } = world;
  const nCustomers = o.customers ?? rng.int(3, 6);
  const loops: Promise<void>[] = [];
  for (let c = 0; c < nCustomers; c++) {
    const wl = rng.fork();
    loops.push(customers.customer(wl, `u${c}`, wl.int(0, 200)));
  }
  // Latecomers (a stream of their own) arrive once the first holds could have lapsed, and so
  // meet the seats of walked-away customers and dead coordinators: expired holds to take over.
  for (let c = 0; c < LATECOMERS; c++) {
    const late = customers.abandonRng.fork();
    loops.push(
      customers.customer(late, `late${c}`, late.int(SIM_HOLD_TTL_MS, 3 * SIM_HOLD_TTL_MS)),
    );
  }
  const capRng = new Rng(o.seed ^ CAP_STREAM);
  if (capBreak !== undefined || capRng.chance(0.5)) {
    customers.cap = capRng.int(2, 3);
    world.faults.push(`cap ${customers.cap}${capBreak ? ` (broken: ${capBreak})` : ""}`);
    // The bot: several workers of one buyer, each holding 1-2 seats and then holding again; in
    // half of the runs they fire their first holds at the same instant, as bots do at an onsale.
    const burst = capRng.chance(0.5);
    for (let w = 0; w < BOT_WORKERS; w++) {
      const wl = capRng.fork();
      loops.push(customers.bot(wl, w, burst));
    }
  }
  return loops;
}

/** The seat sweeper (its own coordinator, clock and stream) and, under --gc, the collector. */
function startSeatSweep(run: SeatRun, done: () => boolean): void {
  const { o, world, timings, maxSkew, bump, exercised } = run;
  const sweepRng = new Rng(o.seed ^ SWEEP_STREAM);
  const sweepClock = new SimClock(world.sched);
  const { client: sweepBase, node: sweepNode } = world.client("seat-sweeper", sweepClock);
  sweepClock.offsetMs = sweepRng.int(-maxSkew, maxSkew);
  const sweepTimings = o.capBreak === "sweep-live" ? { ...timings, retentionMs: 0 } : timings;
  const sweepCounted = countingTakeovers(
    sweepBase,
    {
      id: "seat-sweeper",
      maxSkewMs: maxSkew,
      now: sweepClock.now,
      get skew() {
        return sweepClock.offsetMs;
      },
      claimInFlightMs: timings.claimInFlightMs,
    },
    (rule) => bump(rule === EXPIRED_TAKEOVER ? SWEEP_ROLLBACKS : rule),
    run.stamps,
    run.early,
    run.claims,
    run.watch,
    run.vnow,
  );
  const sweepSvc = new SeatService(sweepCounted, {
    now: sweepClock.now,
    randomBytes: (n) => new Uint8Array(n).fill(0x7f),
    holdTtlMs: SIM_HOLD_TTL_MS,
    timings: sweepTimings,
  });
  if (o.capBreak === "sweep-live") sweepLive(sweepSvc, sweepCounted);
  void runSeatSweeper(world, sweepNode, sweepSvc, {
    now: sweepClock.now,
    timings: sweepTimings,
    rng: sweepRng,
    done,
    bump,
  });
  if (o.gc) {
    const retentionMs = minimumRetention({
      ...run.lifetimes,
      messageAgeMaxMs: SEAT_MESSAGE_AGE_MS,
      clockSkewMaxMs: 2 * maxSkew,
    });
    world.faults.push(`garbage collector on, retention ${retentionMs} ms`);
    void runSeatCollector(world, {
      retentionMs,
      rng: sweepRng.fork(),
      done,
      bump: (rule, n) => {
        exercised[rule] = (exercised[rule] ?? 0) + n;
      },
    });
  }
}

/** Each key's value as a quorum read finds it (the final state, once the run healed). */
async function readQuorum<T>(client: QuorumClient, keys: string[]): Promise<Map<string, T | null>> {
  const m = new Map<string, T | null>();
  for (const k of keys) {
    const g = await client.get<T>([k], { consistency: "quorum" });
    if (g.status !== "ok") throw new Error(`final read of ${k} failed`);
    m.set(k, g.values[0] ?? null);
  }
  return m;
}

/** A sweeper far in the future settles every hold, then the final state is checked: the seat
 * invariants, the cap, and every answer against the seat model. Violations go into `violations`. */
async function auditFinalState(
  run: SeatRun,
  customers: SeatCustomers,
  violations: string[],
): Promise<{ searchSteps: number; cutOff: boolean }> {
  const { world, timings, maxSkew, watch, history, stamps, exercised } = run;
  const { sched } = world;
  const { client: sweeperClient } = world.client("sweeper", 0);
  const sweeper = new SeatService(sweeperClient, {
    now: () => sched.now + 10_000_000,
    randomBytes: (n) => new Uint8Array(n).fill(0x80),
    holdTtlMs: SIM_HOLD_TTL_MS,
    timings,
  });
  const all = new Set<string>();
  for (const a of world.acceptors) for (const k of a.records.keys()) all.add(k);
  const seatKeys = [...all].filter((k) => k.startsWith("seat/")).sort();
  // Holds whose record was never written are found through the seats that point at them.
  const hints = new Map<string, { seats: string[]; expiresAtMs: number }>();
  for (const [k, s] of await readQuorum<SeatValue>(sweeperClient, seatKeys)) {
    if (s?.state === "held") {
      const h = hints.get(s.holdId) ?? { seats: [], expiresAtMs: s.expiresAtMs };
      h.seats.push(k);
      hints.set(s.holdId, h);
    }
  }
  const holdIds = new Set([...all].filter((k) => k.startsWith("hold/")).map((k) => k.slice(5)));
  for (const id of hints.keys()) holdIds.add(id);
  for (const id of [...holdIds].sort()) {
    const r = await sweeper.settle(id, hints.get(id));
    if (!r.ok && r.code !== "not-found") violations.push(`settle ${id} failed: ${r.code}`);
    if (r.ok) history.settled(id, r.value.state);
  }
  const recordKeys = [...holdIds].sort().map((id) => `hold/${id}`);
  const holds = await readQuorum<HoldRecord>(sweeperClient, recordKeys);
  const seatsNow = await readQuorum<SeatValue>(sweeperClient, seatKeys);
  const idemKeys = [...all].filter((k) => k.startsWith("idem/")).sort();
  const idems = await readQuorum<IdemRecord>(sweeperClient, idemKeys);
  for (const [k, v] of idems) watch.claim(k, v);
  const { holdsOk, confirmsOk, cap, seen } = customers;
  violations.push(...checkSeatInvariants(holds, seatsNow, watch.claims, holdsOk, confirmsOk));
  if (cap !== undefined)
    violations.push(
      ...checkCapInvariants(cap, holds, [...seen.values()], maxSkew, timings.skewMarginMs),
    );
  const model = history.check(watch.claims, {
    skewMarginMs: timings.skewMarginMs,
    maxSkewMs: maxSkew,
    stampSkew: (id) => stamps.get(id)?.skew,
  });
  for (const [rule, n] of Object.entries(model.exercised)) exercised[rule] = n;
  violations.push(...model.violations);
  return { searchSteps: model.steps, cutOff: model.inconclusive === true };
}

/** The seat invariants, on the final quorum state after every hold was settled. */
export function checkSeatInvariants(
  holds: Map<string, HoldRecord | null>,
  seats: Map<string, SeatValue | null>,
  claims: readonly ClaimSeen[],
  holdsOk: readonly { key: string; holdId: string }[],
  confirmsOk: readonly { key: string; holdId: string; orderId: string }[],
): string[] {
  const v: string[] = [];
  const owner = new Map<string, string>();
  for (const [k, h] of holds) {
    if (h?.state !== "sold") continue;
    const holdId = k.slice(5);
    for (const s of h.seats) {
      // No seat sold twice.
      const prev = owner.get(s);
      if (prev) v.push(`seat ${s} sold to both ${prev} and ${holdId}`);
      owner.set(s, holdId);
      // All or nothing: every seat of a sale is sold to it.
      const sv = seats.get(s);
      if (sv?.state !== "sold" || sv.holdId !== holdId || sv.orderId !== h.orderId) {
        v.push(`sale ${h.orderId} (${holdId}) is missing seat ${s}: ${JSON.stringify(sv)}`);
      }
    }
  }
  for (const [k, s] of seats) {
    if (s?.state === "sold") {
      const h = holds.get(`hold/${s.holdId}`);
      if (h?.state !== "sold" || h.orderId !== s.orderId) {
        v.push(`seat ${k} sold to ${s.orderId} without a matching sale`);
      }
    }
    // Every hold has expired by the sweep: nothing may stay held.
    if (s?.state === "held") v.push(`seat ${k} still held by ${s.holdId} after the sweep`);
  }
  // No confirmed sale lost.
  for (const c of confirmsOk) {
    const h = holds.get(`hold/${c.holdId}`);
    if (h?.state !== "sold" || h.orderId !== c.orderId) {
      v.push(`confirmed order ${c.orderId} lost: hold ${c.holdId} is ${JSON.stringify(h)}`);
    }
  }
  // Idempotent retries make one effect: one hold id per hold key, one order per confirm key,
  // and every hold record belongs to the id its idempotency claim pinned.
  const one = (list: readonly { key: string; id: string }[], what: string) => {
    const seen = new Map<string, string>();
    for (const x of list) {
      const p = seen.get(x.key);
      if (p && p !== x.id) v.push(`${what} key ${x.key} answered both ${p} and ${x.id}`);
      seen.set(x.key, x.id);
    }
  };
  // A request whose claim was swept and that came again is a new request under a new claim: each
  // answer must name one of its key's claims (the seat model checks they came in order).
  const claimOf = new Map(claims.map((c) => [c.id, c.key]));
  for (const h of holdsOk) {
    if (claimOf.get(h.holdId) !== h.key)
      v.push(`hold ${h.holdId} answered for ${h.key}, claimed by ${claimOf.get(h.holdId)}`);
  }
  one(
    confirmsOk.map((c) => ({ key: c.key, id: c.orderId })),
    "confirm",
  );
  for (const [k, h] of holds) {
    if (h && h.state !== "expired" && !claimOf.has(k.slice(5))) {
      v.push(`hold ${k} exists without an idempotency claim naming it`);
    }
  }
  const soldByKey = new Map<string, number>();
  for (const h of holds.values()) {
    if (h?.state === "sold") soldByKey.set(h.confirm.key, (soldByKey.get(h.confirm.key) ?? 0) + 1);
  }
  for (const [k, n] of soldByKey) if (n > 1) v.push(`confirm key ${k} sold ${n} holds`);
  return v;
}

/**
 * The cap: no buyer ever held plus owned more than `cap` seats. Sales are final, so the seats of a
 * buyer's sold holds must fit. And a hold H must have counted every earlier hold H' of its buyer
 * that was certainly live while H locked its seats: H' answered ok before H's request started, and
 * H' ended sold, or its release was not asked for and no coordinator's clock could have expired
 * it (expiry plus the skew margin, less the largest clock offset) by the time H answered ok.
 */
export function checkCapInvariants(
  cap: number,
  holds: Map<string, HoldRecord | null>,
  seen: readonly HoldSeen[],
  maxSkewMs: number,
  skewMarginMs: number,
): string[] {
  const v: string[] = [];
  const sold = new Map<string, number>();
  for (const h of holds.values()) {
    if (h?.state === "sold") sold.set(h.caller, (sold.get(h.caller) ?? 0) + h.seats.length);
  }
  for (const [caller, n] of sold) {
    if (n > cap) v.push(`${caller} bought ${n} seats, over the cap of ${cap}`);
  }
  for (const h of seen) {
    const earlier = seen.filter((o) => {
      if (o.caller !== h.caller || o.holdId === h.holdId || o.okAt >= h.startedAt) return false;
      if (holds.get(`hold/${o.holdId}`)?.state === "sold") return true;
      const released = o.releasedAt !== undefined && o.releasedAt <= h.okAt;
      return !released && h.okAt <= o.expiresAtMs + skewMarginMs - maxSkewMs;
    });
    const n = earlier.reduce((a, o) => a + o.n, h.n);
    if (n > cap) {
      v.push(
        `${h.caller}'s hold ${h.holdId} (${h.n} seats at ${h.okAt}) came on top of ` +
          `${earlier.map((o) => `${o.holdId} (${o.n})`).join(", ")}: ${n} seats, over the cap of ${cap}`,
      );
    }
  }
  return v;
}

export type { World };
