import { toBase64Url } from "../crypto/base64.ts";
import { holdKey, idemKey, isSegment, type SeatRef, seatKeys } from "../domain/keys.ts";
import type { QuorumClient } from "../quorum/client.ts";
import type { Attested, ChangeFn, ChangeOutcome } from "../quorum/proposer.ts";
import { UNKNOWN_RERUNS } from "../quorum/retry-budget.ts";
import {
  confirmHold,
  confirmHoldKeys,
  expireHold,
  HOLD_TTL_MS,
  type HoldInput,
  type HoldLock,
  holdSeats,
  holdSeatsKeys,
  MAX_SEATS_PER_BUYER,
  MAX_SEATS_PER_HOLD,
  releaseHold,
  SEAT_TIMINGS,
  type SeatAbort,
  type SeatTimings,
  type SettleResult,
  settleSeats,
  sweepClaim,
  sweepHold,
} from "./changes.ts";
import { requestHash } from "./hash.ts";
import type { HoldRecord, Register, SaleOrder, SeatValue } from "./types.ts";

/**
 * Async facade over QuorumClient for the HTTP layer. Every method is safe to retry with the same
 * idempotency key on any provider: the change functions are idempotent and the idempotency
 * register pins the ids the first attempt chose.
 */

/** Retries of one step whose outcome was unknown (its function is idempotent, so re-running it
 * finishes or confirms the earlier attempt): the budget's share (shared/quorum/retry-budget.ts). */
export const STEP_RETRIES = UNKNOWN_RERUNS;
/** Rounds of "fetch counted holds' records, roll back expired holders, then lock" before a hold
 * gives up as taken. */
export const HOLD_ROUNDS = 6;
/** Runs of a confirm's change: one, plus one after an "unproven" abort (which made the seats
 * proven), one after a "seats" abort (a stale seat list) and one after rolling back the hold it
 * found past its expiry. */
export const CONFIRM_ROUNDS = 4;

export type SeatErrorCode =
  | "conflict"
  | "in-flight"
  | "taken"
  | "expired"
  | "not-found"
  | "forbidden"
  | "already-confirmed"
  | "sold"
  | "seat-cap-reached"
  | "invalid"
  | "unknown"
  | "unavailable";

/** HTTP status the API should answer with for each error. */
export const SEAT_ERROR_STATUS: Record<SeatErrorCode, number> = {
  conflict: 422,
  "in-flight": 409,
  taken: 409,
  expired: 410,
  "not-found": 404,
  forbidden: 403,
  "already-confirmed": 409,
  sold: 409,
  "seat-cap-reached": 409,
  invalid: 400,
  unknown: 503,
  unavailable: 503,
};

export type SeatOutcome<T> =
  | { readonly ok: true; readonly value: T; readonly replayed: boolean }
  | {
      readonly ok: false;
      readonly code: SeatErrorCode;
      readonly status: number;
      readonly detail?: unknown;
    };

export interface HoldRequest {
  readonly eventId: string;
  readonly seats: readonly SeatRef[];
  /** The event's per-buyer cap on seats held plus bought (1..MAX_SEATS_PER_BUYER); absent: none. */
  readonly maxSeatsPerBuyer?: number;
}

/** What the seat service answers for a hold: its id, when it expires and the seat keys it locks. */
export interface HeldSeats {
  readonly holdId: string;
  readonly expiresAtMs: number;
  readonly seats: readonly string[];
  /** A replay's record as it stands now: "released" when the hold was given back since. */
  readonly state?: "held" | "sold" | "released";
}

/** What a confirm needs of a hold record besides its id: the keys its change wrote. */
export interface HoldKeys {
  readonly seats?: readonly string[];
  readonly claimKey?: string;
  readonly quotaKey?: string;
}

const holdKeysOf = (k: HoldKeys) => ({
  seats: k.seats ?? [],
  ...(k.claimKey ? { claimKey: k.claimKey } : {}),
  ...(k.quotaKey ? { quotaKey: k.quotaKey } : {}),
});

export interface OrderView {
  readonly holdId: string;
  readonly orderId: string;
  readonly seats: readonly string[];
}

/** Random bytes in a hold or order id: 96 bits, like every other entity id, so ids cannot be
 * guessed (they name a buyer's hold in URLs) and never collide. */
export const ID_RANDOM_BYTES = 12;

/** A hold id as `newId("h")` makes it: "h" and 16 base64url characters. */
const HOLD_ID = /^h[A-Za-z0-9_-]{16}$/;

/**
 * A sale's order id: "o", the hold's own 16 characters, then 16 fresh ones (each attempt of a
 * confirm proposes its own id; the sale keeps the one its claim names). The order's record is
 * written after the answer, so the id must lead back to the sold hold record that carries the
 * order: a read that finds no record yet can finish it from there (`holdOfOrder`). A hold id of
 * another shape (none is made here) gets an order id that names no hold.
 */
export function saleOrderId(holdId: string, random: Uint8Array): string {
  const fresh = toBase64Url(random);
  return HOLD_ID.test(holdId) ? `o${holdId.slice(1)}${fresh}` : `o${fresh}`;
}

/** The hold an order id made by `saleOrderId` names, else null. Only a hint: the hold's sold
 * record decides whether the order is its sale. */
export function holdOfOrder(orderId: string): string | null {
  const m = /^o([A-Za-z0-9_-]{16})[A-Za-z0-9_-]{16}$/.exec(orderId);
  return m ? `h${m[1]}` : null;
}

export interface SeatServiceOptions {
  readonly now: () => number;
  /** n cryptographically random bytes (crypto.getRandomValues); the simulator passes a seeded
   * stream so a run replays exactly. */
  readonly randomBytes: (n: number) => Uint8Array;
  readonly holdTtlMs?: number;
  /** Skew margin and claim age; absent: SEAT_TIMINGS (production). The simulator scales them. */
  readonly timings?: SeatTimings;
}

const fail = (code: SeatErrorCode, detail?: unknown): SeatOutcome<never> => ({
  ok: false,
  code,
  status: SEAT_ERROR_STATUS[code],
  detail,
});

export class SeatService {
  private readonly ttlMs: number;
  private readonly timings: SeatTimings;

  constructor(
    private readonly client: QuorumClient,
    private readonly o: SeatServiceOptions,
  ) {
    this.ttlMs = o.holdTtlMs ?? HOLD_TTL_MS;
    this.timings = o.timings ?? SEAT_TIMINGS;
  }

  /** Holds every requested seat, or none. */
  async hold(caller: string, key: string, req: HoldRequest): Promise<SeatOutcome<HeldSeats>> {
    let seats: string[];
    try {
      if (!isSegment(caller) || !isSegment(key)) throw new RangeError("bad caller or key");
      seats = seatKeys(req.eventId, req.seats);
    } catch (e) {
      return fail("invalid", e instanceof Error ? e.message : String(e));
    }
    if (seats.length === 0 || seats.length > MAX_SEATS_PER_HOLD) {
      return fail("invalid", `between 1 and ${MAX_SEATS_PER_HOLD} seats`);
    }
    const max = req.maxSeatsPerBuyer;
    if (max !== undefined && !(Number.isInteger(max) && max >= 1 && max <= MAX_SEATS_PER_BUYER)) {
      return fail("invalid", `a cap of 1 to ${MAX_SEATS_PER_BUYER} seats`);
    }
    const cap = max === undefined ? undefined : { eventId: req.eventId, max };
    const hash = requestHash({ op: "hold", seats });
    let holdId = this.newId("h");
    let adopted = false;
    /** Holders of wanted seats rolled back so far, and the caller's holds the cap counts. */
    const holders = new Set<string>();
    let counted: readonly string[] = [];
    let lock: HoldLock | null = null;
    for (let round = 0; round < HOLD_ROUNDS && lock === null; round++) {
      const roundAtMs = this.o.now();
      const input: HoldInput = {
        caller,
        key,
        hash,
        holdId,
        adopted,
        seats,
        foreign: [...new Set([...holders, ...counted])].filter((id) => id !== holdId),
        now: roundAtMs,
        roundAtMs,
        ttlMs: this.ttlMs,
        timings: this.timings,
        ...(cap ? { cap } : {}),
      };
      const out = await this.step(holdSeatsKeys(input), (now) => holdSeats({ ...input, now }));
      if (out.status === "ok") {
        lock = out.result as HoldLock;
        break;
      }
      if (out.status !== "aborted") return this.lost(out);
      const why = out.reason as SeatAbort;
      switch (why.code) {
        case "adopt":
          holdId = why.holdId;
          adopted = true;
          continue;
        case "replay":
          // The abort wrote back what it read, so this record is committed.
          return this.replayHold(why.holdId, out.values[1] as HoldRecord | null);
        case "rollback":
          for (const h of why.holds) {
            const r = await this.expire(h.holdId, h.expiresAtMs);
            if (r.status === "unknown" || r.status === "unavailable") return this.lost(r);
            holders.add(h.holdId);
          }
          continue;
        case "records":
          counted = why.holds;
          continue;
        default:
          return this.refused(why);
      }
    }
    if (lock === null) return fail("taken", "seats kept changing hands");
    return { ok: true, value: { ...lock, seats }, replayed: false };
  }

  /**
   * Runs the prepare of a confirm's change ahead of it (QuorumClient.prime), so its commit needs
   * only the accept round. Without `record`: the confirm's own claim, a key no one has written
   * (run it while the hold is read). With it: the hold's keys as its record lists them (run it
   * while the card is authorised; keys this instance changed last are warm already). Never
   * fails: a prime that does not land leaves the commit to prepare as usual.
   */
  async primeConfirm(
    caller: string,
    key: string,
    holdId: string,
    record?: HoldKeys,
  ): Promise<void> {
    if (!isSegment(caller) || !isSegment(key) || !isSegment(holdId)) return;
    const keys = record
      ? confirmHoldKeys({ caller, key, holdId, ...holdKeysOf(record) }).slice(1)
      : [idemKey(caller, key)];
    await this.client.prime(keys).catch(() => false);
  }

  /**
   * Turns a live hold into a sale; the hold record is the commit point, seats follow. `record`:
   * the hold's keys if the caller has just read its record (saves a read; a wrong list only costs
   * a re-run with the record's own).
   */
  async confirm(
    caller: string,
    key: string,
    req: {
      readonly holdId: string;
      readonly record?: HoldKeys;
      /** false: answer once the sale commits, leaving its seats to `settleSold`, which the caller
       * runs beside its own follow-ups (the order's record, the capture). */
      readonly settle?: boolean;
      /** The sale's order for an order id, committed inside the sold record (deterministic). */
      readonly order?: (orderId: string) => SaleOrder;
      /** The buyer's subject, kept in the sold record for the ticket claims derived from it. */
      readonly holder?: string;
    },
  ): Promise<
    SeatOutcome<OrderView & { readonly sold?: HoldRecord; readonly attested?: readonly Attested[] }>
  > {
    if (!isSegment(caller) || !isSegment(key) || !isSegment(req.holdId)) {
      return fail("invalid", "bad caller, key or hold id");
    }
    let keys: HoldKeys | undefined = req.record;
    if (keys === undefined) {
      const got = await this.client.get<Register>([holdKey(req.holdId)], { consistency: "quorum" });
      if (got.status !== "ok") return fail("unavailable", got.reason);
      keys = (got.values[0] as HoldKeys | null) ?? { seats: [] };
    }
    const base = {
      caller,
      key,
      hash: requestHash({ op: "confirm", holdId: req.holdId }),
      holdId: req.holdId,
      orderId: saleOrderId(req.holdId, this.o.randomBytes(ID_RANDOM_BYTES)),
      timings: this.timings,
      ...(req.order ? { order: req.order } : {}),
      ...(req.holder === undefined ? {} : { holder: req.holder }),
    };
    let proven = false;
    let rolledBack = false;
    let out: ChangeOutcome<Register> | undefined;
    for (let round = 0; round < CONFIRM_ROUNDS; round++) {
      const input = { ...base, ...holdKeysOf(keys), proven, now: this.o.now() };
      // One idempotency key for the hold and its confirm: the claim is the hold's (422 below).
      if (input.claimKey === idemKey(caller, key)) return fail("conflict");
      out = await this.step(confirmHoldKeys(input), (now) => confirmHold({ ...input, now }));
      if (out.status !== "aborted") break;
      const why = out.reason as SeatAbort;
      const rec = out.values[1] as HoldRecord | null | undefined;
      if (why.code === "seats") keys = why;
      else if (why.code === "unproven") proven = true;
      else if (why.code === "expired" && !rolledBack && rec && this.pastExpiry(rec)) {
        // "Expired" must stay true: another confirm of this hold, whose clock read came before
        // the expiry, could still sell it after this answer. Rolled back, it cannot; the next run
        // answers from the record (expired, or sold by that other confirm first).
        const r = await this.expire(req.holdId, rec.expiresAtMs);
        if (r.status !== "ok" && r.status !== "aborted") return this.lost(r);
        rolledBack = true;
      } else break;
    }
    if (out === undefined) return fail("unavailable");
    let orderId: string;
    let replayed = false;
    let sold: HoldRecord | null = null;
    if (out.status === "ok") {
      orderId = (out.result as { orderId: string }).orderId;
      sold = out.values[1] as HoldRecord;
    } else if (out.status === "aborted" && (out.reason as SeatAbort).code === "replay") {
      orderId = (out.reason as { orderId: string }).orderId;
      replayed = true;
      // An abort's values are read linearizably (written back first): the sale as it committed.
      if (req.settle === false) sold = (out.values[1] as HoldRecord | null) ?? null;
    } else if (out.status === "aborted") {
      return this.refused(out.reason as SeatAbort);
    } else {
      return this.lost(out);
    }
    // The sale is committed; moving the seats to "sold" is follow-up work that settle() (or a
    // later retry, or the sweeper) finishes if this attempt cannot.
    if (req.settle === false) {
      const value = {
        holdId: req.holdId,
        orderId,
        seats: sold?.seats ?? [],
        // What the acceptors that decided the sale vouched for in their replies (ticket
        // signatures, functions/peers/witnessing-acceptor.ts).
        ...(out.status === "ok" && out.attested ? { attested: out.attested } : {}),
      };
      return { ok: true, value: sold ? { ...value, sold } : value, replayed };
    }
    const settled = await this.settleSold(req.holdId, sold ?? undefined);
    // Seats not settled yet are still the order's: the sold record names them.
    const named = settled.ok ? settled.value.seats : (sold?.seats ?? []);
    return { ok: true, value: { holdId: req.holdId, orderId, seats: named }, replayed };
  }

  /** Moves a sale's seats to "sold": from the sold record a confirm answered (no read), or, for a
   * replayed confirm, from the record read through a quorum. */
  async settleSold(
    holdId: string,
    sold?: HoldRecord,
  ): Promise<SeatOutcome<SettleResult & { state: string; seats: readonly string[] }>> {
    return sold ? await this.settleRecord(holdId, sold) : await this.settle(holdId);
  }

  async release(caller: string, holdId: string): Promise<SeatOutcome<{ holdId: string }>> {
    if (!isSegment(caller) || !isSegment(holdId)) return fail("invalid", "bad caller or hold id");
    const out = await this.step([holdKey(holdId)], () => releaseHold({ caller, holdId }));
    if (out.status === "aborted") return this.refused(out.reason as SeatAbort);
    if (out.status !== "ok") return this.lost(out);
    await this.settleRecord(holdId, out.values[0] as HoldRecord);
    return { ok: true, value: { holdId }, replayed: false };
  }

  /**
   * Brings a hold's seats in line with its record: sold → seats sold, released/expired → seats
   * freed, held past expiry → rolled back first. Idempotent; the sweeper calls it for every hold.
   */
  async settle(
    holdId: string,
    hint?: { readonly seats: readonly string[]; readonly expiresAtMs: number },
  ): Promise<SeatOutcome<SettleResult & { state: string; seats: readonly string[] }>> {
    const got = await this.client.get<Register>([holdKey(holdId)], { consistency: "quorum" });
    if (got.status !== "ok") return fail("unavailable", got.reason);
    let rec = got.values[0] as HoldRecord | null;
    if (rec === null && hint === undefined) return fail("not-found");
    if (rec === null || rec.state === "held") {
      // A record that never landed (its hold's change was cut short) is known only from the
      // expiry its seats carry; a held record from its own.
      const expiresAtMs = rec?.expiresAtMs ?? hint!.expiresAtMs;
      if (this.o.now() <= expiresAtMs + this.timings.skewMarginMs) {
        const seats = rec?.seats ?? [];
        return {
          ok: true,
          value: { state: "held", seats, changed: 0, foreign: [] },
          replayed: false,
        };
      }
      const r = await this.expire(holdId, expiresAtMs);
      if (r.status !== "ok" && r.status !== "aborted") return this.lost(r);
      const again = await this.client.get<Register>([holdKey(holdId)], { consistency: "quorum" });
      if (again.status !== "ok") return fail("unavailable", again.reason);
      rec = again.values[0] as HoldRecord;
    }
    return this.settleRecord(holdId, rec, hint?.seats);
  }

  /** Moves the seats of a terminal hold record to where the record says they belong. */
  private async settleRecord(
    holdId: string,
    rec: HoldRecord,
    hintSeats?: readonly string[],
  ): Promise<SeatOutcome<SettleResult & { state: string; seats: readonly string[] }>> {
    const seats = rec.seats ?? hintSeats ?? [];
    if (seats.length === 0 || rec.state === "held") {
      return {
        ok: true,
        value: { state: rec.state, seats, changed: 0, foreign: [] },
        replayed: false,
      };
    }
    const out = await this.step(seats, () => settleSeats({ holdId, seats, record: rec }));
    // settleSeats never aborts; anything but ok means the quorum could not be reached.
    if (out.status !== "ok") return fail(out.status === "unknown" ? "unknown" : "unavailable");
    return {
      ok: true,
      value: { state: rec.state, seats, ...(out.result as SettleResult) },
      replayed: false,
    };
  }

  /**
   * One record of a sweep pass (shared/seats/sweep.ts): a hold past expiry is rolled back and its
   * seats freed; one that ended unsold more than the retention ago is freed again (cheap if done)
   * and written null. Every decision is re-made inside a quorum change on committed state: the
   * scan that named the hold is only a hint.
   */
  async sweepHold(holdId: string): Promise<"expired" | "swept" | "kept" | "failed"> {
    const settled = await this.settle(holdId);
    if (!settled.ok) return settled.code === "not-found" ? "kept" : "failed";
    const state = settled.value.state;
    if (state === "held" || state === "sold") return "kept";
    const out = await this.step([holdKey(holdId)], (now) =>
      sweepHold({ now, timings: this.timings }),
    );
    if (out.status === "ok") return "swept";
    if (out.status === "aborted") return state === "expired" ? "expired" : "kept";
    return "failed";
  }

  /** Writes an idempotency claim null once it is past the retention (sweepClaim). */
  async sweepClaim(key: string): Promise<"swept" | "kept" | "failed"> {
    const out = await this.step([key], (now) => sweepClaim({ now, timings: this.timings }));
    if (out.status === "ok") return "swept";
    return out.status === "aborted" ? "kept" : "failed";
  }

  /** Seat values as stored (quorum: linearizable; local: this provider's copy only). */
  async seats(
    eventId: string,
    refs: readonly SeatRef[],
    consistency: "local" | "quorum" = "local",
  ): Promise<SeatOutcome<{ key: string; seat: SeatValue | null }[]>> {
    let keys: string[];
    try {
      keys = seatKeys(eventId, refs);
    } catch (e) {
      return fail("invalid", e instanceof Error ? e.message : String(e));
    }
    const got = await this.client.get<SeatValue>(keys, { consistency });
    if (got.status !== "ok") return fail("unavailable", got.reason);
    return {
      ok: true,
      value: keys.map((key, j) => ({ key, seat: got.values[j] ?? null })),
      replayed: false,
    };
  }

  /** A record still "held" whose expiry plus the margin has passed on this clock. */
  private pastExpiry(rec: HoldRecord): rec is Extract<HoldRecord, { state: "held" }> {
    return rec.state === "held" && this.o.now() > rec.expiresAtMs + this.timings.skewMarginMs;
  }

  private expire(holdId: string, seatExpiresAtMs: number): Promise<ChangeOutcome<Register>> {
    const input = { holdId, seatExpiresAtMs, timings: this.timings };
    return this.step([holdKey(holdId)], (now) => expireHold({ ...input, now }));
  }

  private replayHold(holdId: string, rec: HoldRecord | null): SeatOutcome<HeldSeats> {
    if (rec === null || rec.state === "expired") return fail("expired");
    return {
      ok: true,
      value: { holdId, expiresAtMs: rec.expiresAtMs, seats: rec.seats, state: rec.state },
      replayed: true,
    };
  }

  /**
   * One change, re-run while its outcome is unknown (safe: every seat function is idempotent).
   * Each try gets the clock as it starts, so no function decides on a time older than one
   * change's lifetime: a retention or an expiry rule never meets a clock read minutes earlier.
   */
  private async step(
    keys: readonly string[],
    make: (now: number) => ChangeFn<Register>,
  ): Promise<ChangeOutcome<Register>> {
    let out = await this.client.change<Register>(keys, make(this.o.now()));
    let unknown = out.status === "unknown" ? out : undefined;
    for (
      let i = 0;
      i < STEP_RETRIES && (out.status === "unknown" || out.status === "unavailable");
      i++
    ) {
      out = await this.client.change<Register>(keys, make(this.o.now()));
      if (out.status === "unknown") unknown = out;
    }
    // "Unavailable" says nothing was written by that try; an earlier try's value may still have
    // landed, so the step's outcome is the unknown one.
    return out.status === "unavailable" && unknown !== undefined ? unknown : out;
  }

  private refused(why: SeatAbort): SeatOutcome<never> {
    switch (why.code) {
      case "taken":
        return fail("taken", why.seats);
      case "seat-cap-reached":
        return fail("seat-cap-reached", {
          cap: why.cap,
          count: why.count,
          requested: why.requested,
        });
      case "conflict":
      case "in-flight":
      case "expired":
      case "not-found":
      case "forbidden":
      case "already-confirmed":
      case "sold":
        return fail(why.code);
      case "stale":
        return fail("unknown", "the attempt outlived the hold it was placing");
      default:
        return fail("unavailable", why);
    }
  }

  private lost(out: ChangeOutcome<Register>): SeatOutcome<never> {
    return out.status === "unknown"
      ? fail("unknown", "may or may not have happened: retry with the same idempotency key")
      : fail("unavailable", "reason" in out ? out.reason : undefined);
  }

  private newId(prefix: string): string {
    return `${prefix}${toBase64Url(this.o.randomBytes(ID_RANDOM_BYTES))}`;
  }
}
