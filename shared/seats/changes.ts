import { holdKey, idemKey, quotaKey } from "../domain/keys.ts";
import type { ChangeFn, ChangeResult } from "../quorum/proposer.ts";
import type {
  HoldRecord,
  IdemRecord,
  QuotaLive,
  QuotaRecord,
  Register,
  SaleOrder,
  SeatValue,
} from "./types.ts";

/**
 * Pure change functions of the seat registers. Each runs inside one CASPaxos change, may run more
 * than once (a retry after an "unknown" outcome re-runs it on whatever it finds, including its own
 * earlier effect) and so is idempotent: on a state it already produced it writes the same again.
 *
 * Why a hold record at all (see docs/decisions/0001-seat-commit-point.md): a change over many keys
 * decides on all of them together, but its accepts land per key, so an interrupted change can leave
 * some keys written and not others. A sale must never be half made, so it is decided on ONE
 * register (the hold record) and seats only follow it: a seat held by H can be taken by someone
 * else only after H's record was made terminal-but-not-sold by its own committed change.
 *
 * Time: `now` is the coordinator's clock, passed in. A held seat counts as free for someone else
 * only when now > expiresAtMs + skewMarginMs (SKEW_MARGIN_MS), so a coordinator whose clock runs a little fast
 * cannot steal a seat its customer still sees as held. Stores never expire anything themselves.
 */

/** Clocks of three clouds' machines agree within well under a second (NTP); five is generous. */
export const SKEW_MARGIN_MS = 5_000;
/** How long a customer has to pay for held seats. */
export const HOLD_TTL_MS = 10 * 60_000;
/** A claimed idempotency key whose request started less than this long ago is still in flight
 * (409); older claims are presumed abandoned and a retry takes the request over. */
export const IN_FLIGHT_MS = 30_000;
/** How long what a request leaves behind outlives it: an idempotency claim (counted from its
 * request's start, or its hold's expiry if later) and a hold record that ended unsold (from its
 * expiry). Past it a sweep writes the record null and the collector later deletes it
 * (docs/decisions/0006-product-garbage.md). Sold holds are sales and are never swept. */
export const RECORD_RETENTION_MS = 7 * 24 * 60 * 60_000;

/** The two clock rules of the seat core. Production keeps SEAT_TIMINGS; the simulator scales them
 * down to its hold lifetimes so that expiry takeovers and abandoned-claim takeovers happen within a
 * run. skewMarginMs must stay at least the largest difference between two coordinators' clocks. */
export interface SeatTimings {
  readonly skewMarginMs: number;
  readonly claimInFlightMs: number;
  /** Absent: RECORD_RETENTION_MS. Must exceed a change's lifetime plus twice the skew margin, so
   * nothing still running when a hold expires can meet its swept records: every try of a step
   * reads the clock as it starts (SeatService.step), so no function decides on an older time. */
  readonly retentionMs?: number;
}
export const SEAT_TIMINGS: SeatTimings = {
  skewMarginMs: SKEW_MARGIN_MS,
  claimInFlightMs: IN_FLIGHT_MS,
  retentionMs: RECORD_RETENTION_MS,
};
/** Seats per hold: seats + idempotency + hold + one hold record per expired holder stay well
 * under the 100-key batch limit. */
export const MAX_SEATS_PER_HOLD = 20;
/** Largest per-buyer cap: a capped hold also carries the quota register and the record of each
 * live hold it counts (at most one per seat of the cap), so 2 + 20 + 20 + 50 + 1 = 93 keys. */
export const MAX_SEATS_PER_BUYER = 50;

export type SeatAbort =
  /** Same idempotency key, different body: 422. */
  | { readonly code: "conflict" }
  /** Another attempt of the same request is still running: 409. */
  | { readonly code: "in-flight" }
  /** Seats held or sold by someone else: 409. */
  | { readonly code: "taken"; readonly seats: readonly string[] }
  /** These expired holds must be rolled back (each by its own change) before their seats move. */
  | {
      readonly code: "rollback";
      readonly holds: readonly { readonly holdId: string; readonly expiresAtMs: number }[];
    }
  /** The idempotency key already names another hold id: re-run with it. */
  | { readonly code: "adopt"; readonly holdId: string; readonly startedAtMs: number }
  /** The request already completed; this is its result. */
  | { readonly code: "replay"; readonly holdId: string; readonly orderId?: string }
  /** The buyer's live holds plus these seats would pass the event's per-buyer cap: 409. */
  | {
      readonly code: "seat-cap-reached";
      readonly cap: number;
      readonly count: number;
      readonly requested: number;
    }
  /** The quota register counts these holds: re-run with their records included. */
  | { readonly code: "records"; readonly holds: readonly string[] }
  /** A confirm named other keys than the hold record lists: re-run with these. */
  | {
      readonly code: "seats";
      readonly seats: readonly string[];
      readonly claimKey?: string;
      readonly quotaKey?: string;
    }
  /** A confirm saw the hold's keys but could not prove these chosen; its abort wrote them back
   * through a quorum, so a re-run may (ConfirmInput.proven). */
  | { readonly code: "unproven"; readonly seats: readonly string[] }
  | { readonly code: "expired" }
  /** A hold's re-run found its round over and no claim of it: none of its keys and the pinned
   * expiry past, or only its record, rolled back. What the lost run wrote binds no request; the
   * attempt's outcome is unknown (its retry decides afresh). */
  | { readonly code: "stale" }
  | { readonly code: "not-found" }
  | { readonly code: "forbidden" }
  | { readonly code: "already-confirmed" }
  | { readonly code: "sold" }
  | { readonly code: "live" }
  /** A sweep found the record still within its retention (or sold): left as it is. */
  | { readonly code: "kept" };

const abort = (a: SeatAbort): ChangeResult<Register> => ({ abort: a });

/** Seat states as the rest of the system reads them: a seat's own value, interpreted with the hold
 * record when it names one. */
export function seatIsFreeFor(
  seat: SeatValue | null,
  holdId: string,
  now: number,
  holder?: HoldRecord | null,
  skewMarginMs: number = SKEW_MARGIN_MS,
): "free" | "taken" | "rollback" {
  if (seat === null || seat.state === "free") return "free";
  if (seat.holdId === holdId) return seat.state === "sold" ? "taken" : "free";
  if (seat.state === "sold") return "taken";
  // Held by someone else. A terminal, unsold hold record frees it at once (release); otherwise
  // only expiry beyond the skew margin does, and then only after that record is rolled back.
  if (holder !== undefined && holder !== null) {
    if (holder.state === "sold") return "taken";
    if (holder.state === "released" || holder.state === "expired") return "free";
  }
  if (now <= seat.expiresAtMs + skewMarginMs) return "taken";
  return "rollback";
}

export interface HoldInput {
  readonly caller: string;
  readonly key: string;
  readonly hash: string;
  /** A fresh id for a first attempt, or the id the idempotency claim names. */
  readonly holdId: string;
  /** True when we run under another attempt's claim: allowed only once that claim is stale. */
  readonly adopted: boolean;
  /** Seat keys, sorted (seatKeys()). */
  readonly seats: readonly string[];
  /** Hold ids whose records are included: other holders of these seats (to check they are
   * terminal) and the caller's live holds the cap counts. Never this hold's own id. */
  readonly foreign: readonly string[];
  readonly now: number;
  readonly ttlMs: number;
  /**
   * When the round of the attempt that runs this began: the start and expiry (+ ttlMs) a hold it
   * creates gets. Pinned per round, not per run, so that a re-run after an outcome it could not
   * learn writes what the lost run wrote (absent: `now`).
   */
  readonly roundAtMs?: number;
  /** The event's per-buyer cap, counted on `quota/<caller>/<eventId>`; absent: no cap. */
  readonly cap?: { readonly eventId: string; readonly max: number };
  /** Absent: SEAT_TIMINGS. */
  readonly timings?: SeatTimings;
}

export interface HoldLock {
  readonly holdId: string;
  readonly expiresAtMs: number;
}

/** Keys of a holdSeats change, in the order its function expects them. */
export function holdSeatsKeys(i: HoldInput): string[] {
  return [
    idemKey(i.caller, i.key),
    holdKey(i.holdId),
    ...i.seats,
    ...i.foreign.map(holdKey),
    ...(i.cap ? [quotaKey(i.caller, i.cap.eventId)] : []),
  ];
}

interface QuotaCount {
  /** Seats certainly held or owned by the caller besides this hold. */
  readonly count: number;
  /** The register with this hold added and every settled hold folded in or dropped. */
  readonly next: QuotaRecord;
  readonly missing: boolean;
  /** Every live hold whose record the count needs. */
  readonly needs: readonly string[];
  readonly rollback: readonly { readonly holdId: string; readonly expiresAtMs: number }[];
}

/**
 * Counts a buyer's register against their cap with each live hold's record: sold holds move to
 * `sold`, released and expired ones are dropped, held (or not yet recorded) ones count until they
 * are past expiry, when they must be rolled back before they stop counting, exactly like a seat.
 */
function countQuota(
  q: QuotaRecord | null,
  i: HoldInput,
  records: ReadonlyMap<string, HoldRecord | null>,
  own: QuotaLive,
): QuotaCount {
  const sold = [...(q?.sold ?? [])];
  const live: QuotaLive[] = [];
  const rollback: { holdId: string; expiresAtMs: number }[] = [];
  const needs: string[] = [];
  let missing = false;
  let count = sold.reduce((n, e) => n + e.n, 0);
  for (const e of q?.live ?? []) {
    // This hold itself (a re-run of this change) is added back below, once.
    if (e.holdId === i.holdId) continue;
    // An earlier attempt of this very request under another hold id: the idempotency claim names
    // this hold (or this change claims it), so that attempt can never complete its change.
    if (e.key === i.key) continue;
    needs.push(e.holdId);
    if (!records.has(e.holdId)) {
      missing = true;
      continue;
    }
    const rec = records.get(e.holdId) ?? null;
    if (rec?.state === "sold") {
      sold.push({ holdId: e.holdId, n: e.n });
      count += e.n;
    } else if (rec === null || rec.state === "held") {
      live.push(e);
      if (i.now > e.expiresAtMs + (i.timings ?? SEAT_TIMINGS).skewMarginMs) {
        rollback.push({ holdId: e.holdId, expiresAtMs: e.expiresAtMs });
      } else count += e.n;
    }
  }
  live.push(own);
  return { count, next: { sold, live }, missing, needs, rollback };
}

/**
 * A hold, in one change: claim the idempotency key, lock every seat for the hold and create its
 * record in state "held", or do none of it. The keys land one by one, so a change cut short can
 * leave a record without all its locks (or locks without a record): a "held" record alone proves
 * nothing about its seats. The sale is what must not build on that, and does not: confirmHold
 * sells only seats it proves chosen as held by this hold (decision 0007).
 */
export function holdSeats(i: HoldInput): ChangeFn<Register> {
  const t = i.timings ?? SEAT_TIMINGS;
  return (cur) => {
    const found = readHoldKeys(cur, i);
    const { idem, hold } = found;
    const refused = checkClaimAndRecord(found, i, t);
    if (refused !== undefined) return refused;
    const startedAtMs = i.roundAtMs ?? i.now;
    const expiresAtMs = hold?.expiresAtMs ?? idem?.expiresAtMs ?? startedAtMs + i.ttlMs;
    // A re-run long after its round began, with nothing of it in sight, would lock seats for a
    // hold that is already over.
    if (hold === null && idem === null && i.now > expiresAtMs + t.skewMarginMs) {
      return abort({ code: "stale" });
    }
    const judged = judgeSeats(found, i, t);
    if (judged.taken.length > 0) return abort({ code: "taken", seats: judged.taken });
    const capped = countCap(found, i, expiresAtMs, judged.rollback);
    if (!("nextQuota" in capped)) return capped;
    if (capped.rollback.length > 0) return abort({ code: "rollback", holds: capped.rollback });
    return buildHoldWrites(found, i, startedAtMs, expiresAtMs, capped.nextQuota);
  };
}

/** What a holdSeats change reads, key by key in holdSeatsKeys order. */
interface HoldKeys {
  readonly idem: IdemRecord | null;
  readonly hold: HoldRecord | null;
  readonly seats: readonly (SeatValue | null)[];
  readonly foreign: ReadonlyMap<string, HoldRecord | null>;
  readonly quota: QuotaRecord | null;
}

type HoldRollback = { holdId: string; expiresAtMs: number };

function readHoldKeys(cur: readonly (Register | null)[], i: HoldInput): HoldKeys {
  const idem = cur[0] as IdemRecord | null;
  const hold = cur[1] as HoldRecord | null;
  const seats = cur.slice(2, 2 + i.seats.length) as (SeatValue | null)[];
  const foreign = new Map<string, HoldRecord | null>();
  i.foreign.forEach((id, j) => {
    foreign.set(id, (cur[2 + i.seats.length + j] ?? null) as HoldRecord | null);
  });
  const quota = (cur[2 + i.seats.length + i.foreign.length] ?? null) as QuotaRecord | null;
  return { idem, hold, seats, foreign, quota };
}

/** The idempotency claim and the hold record decide first: an abort when they end this attempt
 * (conflict, adopt, replay, expired, stale, in-flight), undefined when it may go on. */
function checkClaimAndRecord(
  { idem, hold, seats, quota }: HoldKeys,
  i: HoldInput,
  t: SeatTimings,
): ChangeResult<Register> | undefined {
  if (idem !== null) {
    if (idem.op !== "hold" || idem.hash !== i.hash) return abort({ code: "conflict" });
    if (idem.id !== i.holdId) {
      return abort({ code: "adopt", holdId: idem.id, startedAtMs: idem.startedAtMs });
    }
  }
  if (hold !== null) {
    // Rolled back: over for the request if its claim names it; a record whose claim never
    // landed binds no request (its retry holds afresh), so this attempt's outcome is unknown.
    if (hold.state === "expired") {
      return abort(idem === null && !i.adopted ? { code: "stale" } : { code: "expired" });
    }
    if (hold.caller !== i.caller || hold.hash !== i.hash) return abort({ code: "conflict" });
    // A record lands with the rest of its change, but keys land one by one: only a record
    // whose claim, every lock and (with a cap) quota entry are there too means the change
    // landed whole. Otherwise (it was cut short) this run finishes it, counting the cap
    // afresh, or finds a seat gone. A record past "held" was answered ok before (a confirm or a
    // release needs its id), so it replays as it is.
    const counted =
      !i.cap ||
      (quota !== null &&
        (quota.live.some((e) => e.holdId === i.holdId) ||
          quota.sold.some((e) => e.holdId === i.holdId)));
    const done =
      hold.state !== "held" ||
      (idem?.id === i.holdId &&
        counted &&
        seats.every((s) => s !== null && s.state === "held" && s.holdId === i.holdId));
    if (done) return abort({ code: "replay", holdId: i.holdId });
  }
  // The claim this attempt adopted is gone: only a sweep writes a claim null, so the request it
  // named ended more than the retention ago. Claiming it again would revive that hold id (and
  // its record, if swept too) with a new expiry; a retry that starts afresh is a new request.
  if (idem === null && i.adopted) return abort({ code: "expired" });
  // The claim pinned an expiry that has passed (its attempt was cut short): locking seats now
  // would only lock them for a hold that is already over, and a swept hold record must not come
  // back to life through a late retry.
  if (idem?.expiresAtMs !== undefined && i.now > idem.expiresAtMs + t.skewMarginMs) {
    return abort({ code: "expired" });
  }
  if (idem !== null && i.adopted && i.now - idem.startedAtMs < t.claimInFlightMs) {
    return abort({ code: "in-flight" });
  }
  return undefined;
}

/** Each seat's verdict for this hold: the seats taken by others, and the expired holds to roll
 * back before their seats move. */
function judgeSeats(
  { seats, foreign }: HoldKeys,
  i: HoldInput,
  t: SeatTimings,
): { taken: string[]; rollback: HoldRollback[] } {
  const taken: string[] = [];
  const rollback: HoldRollback[] = [];
  seats.forEach((s, j) => {
    const holder = s !== null && s.state !== "free" ? foreign.get(s.holdId) : undefined;
    const verdict = seatIsFreeFor(s, i.holdId, i.now, holder, t.skewMarginMs);
    if (verdict === "taken") taken.push(i.seats[j]!);
    else if (verdict === "rollback" && s?.state === "held") {
      rollback.push({ holdId: s.holdId, expiresAtMs: s.expiresAtMs });
    }
  });
  return { taken, rollback };
}

/** With a per-buyer cap: an abort when records are missing or the cap is passed, else the quota
 * register to write and the seats' rollbacks joined by the quota's. Without one: no register. */
function countCap(
  { quota, foreign }: HoldKeys,
  i: HoldInput,
  expiresAtMs: number,
  seatRollback: readonly HoldRollback[],
): ChangeResult<Register> | { nextQuota: QuotaRecord | null; rollback: HoldRollback[] } {
  const rollback = [...seatRollback];
  if (!i.cap) return { nextQuota: null, rollback };
  const own: QuotaLive = { holdId: i.holdId, n: i.seats.length, expiresAtMs, key: i.key };
  const q = countQuota(quota, i, foreign, own);
  if (q.missing) return abort({ code: "records", holds: q.needs });
  // Expired holds still to roll back are left out: if the cap is passed without them, it is.
  if (q.count + i.seats.length > i.cap.max) {
    return abort({
      code: "seat-cap-reached",
      cap: i.cap.max,
      count: q.count,
      requested: i.seats.length,
    });
  }
  for (const r of q.rollback) {
    if (!rollback.some((x) => x.holdId === r.holdId)) rollback.push(r);
  }
  return { nextQuota: q.next, rollback };
}

/** The hold's writes, in holdSeatsKeys order: the claim and record as found or new, every seat
 * locked, the foreign records unchanged and (with a cap) the counted quota register. */
function buildHoldWrites(
  { idem, hold, seats, foreign }: HoldKeys,
  i: HoldInput,
  startedAtMs: number,
  expiresAtMs: number,
  nextQuota: QuotaRecord | null,
): ChangeResult<Register> {
  const claim: IdemRecord = idem ?? {
    op: "hold",
    hash: i.hash,
    id: i.holdId,
    startedAtMs,
    expiresAtMs,
  };
  const lock: SeatValue = { state: "held", holdId: i.holdId, expiresAtMs };
  const record: HoldRecord = hold ?? {
    state: "held",
    seats: i.seats,
    expiresAtMs,
    caller: i.caller,
    hash: i.hash,
    claimKey: idemKey(i.caller, i.key),
    ...(i.cap ? { quotaKey: quotaKey(i.caller, i.cap.eventId) } : {}),
  };
  const result: HoldLock = { holdId: i.holdId, expiresAtMs };
  return {
    values: [
      claim,
      record,
      ...seats.map(() => lock),
      ...i.foreign.map((id) => foreign.get(id) ?? null),
      ...(i.cap ? [nextQuota] : []),
    ],
    result,
  };
}

/**
 * Roll back an expired hold, over [hold/<holdId>]. `seatExpiresAtMs` is the expiry written on the
 * seat that pointed here: it is all we know of a hold whose change landed that lock but not its
 * record, and the "expired" tombstone then stops any re-run of that change from creating it.
 */
export function expireHold(i: {
  readonly holdId: string;
  readonly seatExpiresAtMs: number;
  readonly now: number;
  readonly timings?: SeatTimings;
}): ChangeFn<Register> {
  const margin = (i.timings ?? SEAT_TIMINGS).skewMarginMs;
  return (cur) => {
    const hold = cur[0] as HoldRecord | null;
    if (hold === null) {
      if (i.now <= i.seatExpiresAtMs + margin) return abort({ code: "live" });
      return { values: [{ state: "expired", expiresAtMs: i.seatExpiresAtMs }] };
    }
    if (hold.state === "held") {
      if (i.now <= hold.expiresAtMs + margin) return abort({ code: "live" });
      return { values: [{ state: "expired", seats: hold.seats, expiresAtMs: hold.expiresAtMs }] };
    }
    if (hold.state === "sold") return abort({ code: "sold" });
    return { values: [hold] };
  };
}

export interface ConfirmInput {
  readonly caller: string;
  readonly key: string;
  readonly hash: string;
  readonly holdId: string;
  /** A fresh order id; replaced by the one the idempotency claim already names. */
  readonly orderId: string;
  /** The sale's order for the order id the change settles on, kept in the sold record. Must be
   * deterministic (the change function may run more than once). */
  readonly order?: (orderId: string) => SaleOrder;
  /** The buyer's subject, kept in the sold record beside the order. */
  readonly holder?: string;
  /** The hold's seat keys, claim key and quota key as its record lists them (a change aborts
   * "seats" with the record's when they differ). */
  readonly seats: readonly string[];
  readonly claimKey?: string;
  readonly quotaKey?: string;
  /** Set only by a re-run after this change aborted "unproven": that abort wrote the hold's keys
   * back through a quorum, so their values are chosen. */
  readonly proven?: boolean;
  readonly now: number;
  readonly timings?: SeatTimings;
}

/** What a confirm's keys depend on. */
type ConfirmKeyInput = Pick<
  ConfirmInput,
  "caller" | "key" | "holdId" | "seats" | "claimKey" | "quotaKey"
>;

/** The hold's own keys a confirm proves: its claim, its quota register, then its seats. */
const provedKeys = (i: ConfirmKeyInput): string[] => [
  ...(i.claimKey ? [i.claimKey] : []),
  ...(i.quotaKey ? [i.quotaKey] : []),
  ...i.seats,
];

export function confirmHoldKeys(i: ConfirmKeyInput): string[] {
  return [idemKey(i.caller, i.key), holdKey(i.holdId), ...provedKeys(i)];
}

/**
 * Confirm, over [idem/<caller>/<key>, hold/<holdId>, ...its seats]: THE commit point of a sale.
 * The hold record goes from held to sold; the seats are read, not written (they follow later,
 * settleSeats), and no one can take a seat of a sold hold because taking needs the record
 * terminal and unsold. The record alone does not prove the locks landed (holdSeats writes both in
 * one change, which may land in part), so the sale needs every seat proven chosen as held by this
 * hold: seen at one ballot on two stores by this very change, or confirmed by the write-back of
 * an earlier run that aborted "unproven" (`seatsProven`). A chosen lock cannot move while the
 * record is not terminal, and the record turns sold here: so every seat of a sale stays its own.
 */
export function confirmHold(i: ConfirmInput): ChangeFn<Register> {
  const t = i.timings ?? SEAT_TIMINGS;
  return (cur, view) => {
    const idem = cur[0] as IdemRecord | null;
    const hold = cur[1] as HoldRecord | null;
    const own = cur.slice(2);
    const seats = own.slice(own.length - i.seats.length) as (SeatValue | null)[];
    const confirmKey = idemKey(i.caller, i.key);
    if (idem !== null && (idem.op !== "confirm" || idem.hash !== i.hash)) {
      return abort({ code: "conflict" });
    }
    const orderId = idem?.id ?? i.orderId;
    if (hold === null) return abort({ code: "not-found" });
    if (hold.state === "sold") {
      if (hold.confirm.key === confirmKey && hold.confirm.hash === i.hash) {
        return abort({ code: "replay", holdId: i.holdId, orderId: hold.orderId });
      }
      return abort({ code: "already-confirmed" });
    }
    if (hold.state !== "held") return abort({ code: "expired" });
    if (hold.caller !== i.caller) return abort({ code: "forbidden" });
    if (i.now > hold.expiresAtMs + t.skewMarginMs) return abort({ code: "expired" });
    if (idem !== null && idem.id !== i.orderId && i.now - idem.startedAtMs < t.claimInFlightMs) {
      return abort({ code: "in-flight" });
    }
    if (
      !sameSeats(hold.seats, i.seats) ||
      hold.claimKey !== i.claimKey ||
      hold.quotaKey !== i.quotaKey
    ) {
      return abort({
        code: "seats",
        seats: hold.seats,
        ...(hold.claimKey ? { claimKey: hold.claimKey } : {}),
        ...(hold.quotaKey ? { quotaKey: hold.quotaKey } : {}),
      });
    }
    // The hold's change landed whole only if its claim names it and its quota counts it (a record
    // can land without either: sold, it would let one request hold twice, or pass the cap).
    const claim0 = i.claimKey ? (own[0] as IdemRecord | null) : undefined;
    if (claim0 !== undefined && (claim0?.op !== "hold" || claim0.id !== i.holdId)) {
      return abort({ code: "expired" });
    }
    const quota = i.quotaKey ? (own[i.claimKey ? 1 : 0] as QuotaRecord | null) : undefined;
    if (quota !== undefined && !quota?.live.some((e) => e.holdId === i.holdId)) {
      return abort({ code: "expired" });
    }
    const missing = i.seats.filter((_, j) => {
      const s = seats[j];
      return !(s != null && s.state === "held" && s.holdId === i.holdId);
    });
    if (missing.length > 0) return abort({ code: "taken", seats: missing });
    if (!i.proven) {
      const unproven = provedKeys(i).filter((_, j) => view?.chosen[2 + j] !== true);
      if (unproven.length > 0) return abort({ code: "unproven", seats: unproven });
    }
    const claim: IdemRecord = idem ?? {
      op: "confirm",
      hash: i.hash,
      id: orderId,
      startedAtMs: i.now,
    };
    const sold: HoldRecord = {
      ...hold,
      state: "sold",
      orderId,
      confirm: { key: confirmKey, hash: i.hash },
      ...(i.order ? { order: i.order(orderId) } : {}),
      ...(i.holder === undefined ? {} : { holder: i.holder }),
    };
    return { values: [claim, sold, ...own], result: { holdId: i.holdId, orderId } };
  };
}

/** Whether two lists name the same seat keys (a hold's keys are unique). */
export function sameSeats(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((k) => set.has(k));
}

/** Release, over [hold/<holdId>]: the hold's owner gives its seats back. */
export function releaseHold(i: {
  readonly caller: string;
  readonly holdId: string;
}): ChangeFn<Register> {
  return (cur) => {
    const hold = cur[0] as HoldRecord | null;
    if (hold === null) return abort({ code: "not-found" });
    if (hold.state === "expired") return { values: [hold] };
    // Ownership before state: someone else's hold answers alike whatever became of it, so a buyer
    // probing ids cannot tell a sold hold from one that never existed.
    if (hold.caller !== i.caller) return abort({ code: "forbidden" });
    if (hold.state === "sold") return abort({ code: "sold" });
    if (hold.state === "released") return { values: [hold] };
    return { values: [{ ...hold, state: "released" }] };
  };
}

export interface SettleResult {
  readonly changed: number;
  /** Seats of this hold that point elsewhere: must stay empty (the simulator checks it). */
  readonly foreign: readonly string[];
}

/**
 * Makes seats follow a terminal hold record, over the hold's seat keys: sold → every seat held by
 * it becomes sold; released/expired → every seat still held by it becomes free. Seats that point
 * at another hold are left alone.
 */
export function settleSeats(i: {
  readonly holdId: string;
  readonly seats: readonly string[];
  readonly record: HoldRecord;
}): ChangeFn<Register> {
  return (cur) => {
    let changed = 0;
    const foreign: string[] = [];
    const rec = i.record;
    const values = (cur as (SeatValue | null)[]).map((s, j): SeatValue | null => {
      const mine = s !== null && s.state !== "free" && s.holdId === i.holdId;
      if (!mine) {
        if (rec.state === "sold") foreign.push(i.seats[j]!);
        return s;
      }
      if (rec.state === "sold") {
        if (s.state === "sold") return s;
        changed++;
        return { state: "sold", orderId: rec.orderId, holdId: i.holdId };
      }
      if (rec.state === "held" || s.state === "sold") return s;
      changed++;
      return { state: "free" };
    });
    const result: SettleResult = { changed, foreign };
    return { values, result };
  };
}

/**
 * Refund, over [quota/<caller>/<eventId>]: the refunded holds stop counting against the cap.
 * Its own change, run once the order is refunded (and again by every retry of the refund): a
 * multi-key change may land on some keys only, and a retry that finds the order already refunded
 * must still be able to finish this. Removing an absent hold changes nothing.
 */
export function forgetHolds(holdIds: readonly string[]): ChangeFn<Register> {
  return (cur) => {
    const q = cur[0] as QuotaRecord | null;
    if (q === null) return { values: [null] };
    const keep = (e: { readonly holdId: string }) => !holdIds.includes(e.holdId);
    return { values: [{ sold: q.sold.filter(keep), live: q.live.filter(keep) }] };
  };
}

/** The retention rule of every sweep (these changes and the scan's candidates in sweep.ts): is a
 * record that ended at `endedAtMs` past it? */
export function pastRetention(now: number, endedAtMs: number, t: SeatTimings): boolean {
  return now > endedAtMs + t.skewMarginMs + (t.retentionMs ?? RECORD_RETENTION_MS);
}

/** When a claim's request ended: its start, or its hold's pinned expiry when later. */
export function claimEndedAt(claim: Pick<IdemRecord, "startedAtMs" | "expiresAtMs">): number {
  return Math.max(claim.startedAtMs, claim.expiresAtMs ?? Number.NEGATIVE_INFINITY);
}

/**
 * Sweep a hold record, over [hold/<holdId>]: a hold that ended unsold (released, or expired and
 * rolled back) more than the retention ago is written null, for the collector to delete
 * (shared/quorum/gc.ts). Null is safe to leave behind: only a hold's own change creates its
 * record, and it refuses once the claim's pinned expiry is past (or the claim is gone), so a null
 * record never becomes live again, and a seat still pointing here is judged by its own expiry,
 * never freed earlier than the record would have freed it. Held, sold and young records are kept;
 * an expired record without an expiry (written before expiries were recorded) is kept too.
 */
export function sweepHold(i: {
  readonly now: number;
  readonly timings?: SeatTimings;
}): ChangeFn<Register> {
  const t = i.timings ?? SEAT_TIMINGS;
  return (cur) => {
    const hold = cur[0] as HoldRecord | null;
    if (hold === null) return abort({ code: "not-found" });
    if (hold.state !== "released" && hold.state !== "expired") return abort({ code: "kept" });
    const ended = hold.expiresAtMs;
    if (ended === undefined || !pastRetention(i.now, ended, t)) return abort({ code: "kept" });
    return { values: [null] };
  };
}

/**
 * Sweep an idempotency claim, over [idem/<caller>/<key>]: a claim past the retention (from its
 * request's start, or its hold's expiry when later) is written null. A retry after that is a new
 * request; what the claim protected stays protected by the records themselves (a sold hold names
 * the confirm that bought it, a refunded order refuses a second refund).
 */
export function sweepClaim(i: {
  readonly now: number;
  readonly timings?: SeatTimings;
}): ChangeFn<Register> {
  const t = i.timings ?? SEAT_TIMINGS;
  return (cur) => {
    const claim = cur[0] as IdemRecord | null;
    if (claim === null) return abort({ code: "not-found" });
    const ended = claimEndedAt(claim);
    if (!Number.isFinite(ended) || !pastRetention(i.now, ended, t)) return abort({ code: "kept" });
    return { values: [null] };
  };
}
