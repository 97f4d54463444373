import type { ProviderId } from "../../shared/config.ts";
import type { SeatRef } from "../../shared/domain/keys.ts";
import { seededRandom } from "../local/wan-proxy.ts";
import type { Buyer, BuyerOutcome, Measured, OpMeasure, SaleBackend } from "./backend.ts";
import { MAP_REFRESH_MS, refOfKey, type SeatBoard } from "./board.ts";
import { clock } from "./measure.ts";

/**
 * The flash sale: a crowd of `buyers` concurrent buyer agents arrives at once; each agent serves
 * one customer after another until the seat map shows nothing left. A customer picks 1 to 6 seats
 * (best first), holds them, and confirms, or abandons (releasing the seats or walking away). On a
 * 409 they pick other seats and try again; on a 503 or no answer they retry the SAME request (same
 * idempotency key) at the next provider, as a client should. A waiting room lets `concurrency`
 * customers into checkout at once (as ticket sites do in a flash sale); it also keeps two cores
 * from drowning in their own queue.
 */

/** Seats per order, with their share of customers (families and groups are rarer). */
export const ORDER_SIZES: readonly (readonly [number, number])[] = [
  [1, 0.3],
  [2, 0.35],
  [3, 0.1],
  [4, 0.15],
  [5, 0.04],
  [6, 0.06],
];
/** Holds a customer tries (each with other seats) before giving up on the sale. */
export const HOLD_ATTEMPTS_MAX = 8;
/** Tries of one request whose outcome was unknown (503, no answer) before the customer leaves. */
export const RETRIES_UNKNOWN_MAX = 6;
const RETRY_BACKOFF_MS = 50;
const RETRY_BACKOFF_MAX_MS = 1_000;
/** Agents waiting for a possible release when the map shows no free seat poll this often. */
const WAIT_FOR_RELEASE_MS = 25;
/**
 * Looks at the live seat map before a sale whose board shows nothing free ends, each a map refresh
 * after the last: enough for seats that came back to be sold, bounded because a seat locked by a
 * hold that was cut short stays taken until that hold expires.
 */
const END_LOOKS_MAX = 3;

export interface SaleOptions {
  readonly backend: SaleBackend;
  readonly board: SeatBoard;
  readonly eventId: string;
  /** Concurrent buyer agents. */
  readonly buyers: number;
  /** Customers in checkout at once (the waiting room lets in this many). */
  readonly concurrency: number;
  readonly seed: number;
  /** Share of customers who abandon after holding. */
  readonly abandonRate?: number;
  /** Of those, the share who release explicitly (the rest walk away, the hold runs out). */
  readonly releaseShare?: number;
  /** Checkout time between hold and confirm (uniform in [0, thinkMs)). */
  readonly thinkMs?: number;
  /** Customers start no faster than this many per second (chaos spreads the sale over its
   * phases); undefined = all agents at once. */
  readonly arrivalsPerSec?: number;
  /** Stops new customers after this long. */
  readonly maxDurationMs?: number;
  /** Asked before every request: the chance that the client is killed mid-flight. */
  readonly abortRate?: () => number;
  /** Abort delay upper bound (uniform in [0, abortMaxMs)). */
  readonly abortMaxMs?: number;
  /** Set to stop new customers (running ones finish). */
  readonly stop?: { stopped: boolean };
  /** Called every PROGRESS_EVERY_MS with a one-line progress report. */
  readonly progress?: (line: string) => void;
}

/** Progress lines: often enough to see a run is alive, rare enough not to flood a CI log. */
const PROGRESS_EVERY_MS = 5_000;

export type OpKind = "hold" | "confirm" | "release";

export interface OpRecord {
  readonly kind: OpKind;
  readonly at: ProviderId;
  readonly seats: number;
  /** Since the sale started (ms). */
  readonly startMs: number;
  readonly latencyMs: number;
  readonly t2Ms?: number;
  readonly changes?: number;
  readonly status: number;
  readonly code: string;
  readonly retryAfter: boolean;
  /** Try number of the same request (0 = first). */
  readonly retry: number;
}

export interface HoldRecordLog {
  readonly buyer: string;
  readonly holdId: string;
  readonly seats: readonly string[];
  readonly atMs: number;
  /** What the customer did with it. */
  fate: "confirmed" | "released" | "walked" | "unconfirmed" | "pending";
}

export interface OrderLog {
  readonly buyer: string;
  readonly holdId: string;
  readonly orderId: string;
  readonly seats: readonly string[];
  readonly atMs: number;
}

export interface SaleLog {
  readonly startedAt: number;
  readonly durationMs: number;
  /** When the map last went to zero free seats (the last seat was reserved). */
  readonly sellOutMs: number | null;
  readonly customers: number;
  readonly ops: OpRecord[];
  readonly holds: HoldRecordLog[];
  readonly orders: OrderLog[];
  /** Customers who left because the map showed nothing free. */
  readonly soldOutTurnedAway: number;
  /** Customers who gave up after HOLD_ATTEMPTS_MAX refusals. */
  readonly gaveUp: number;
  /** Requests whose outcome stayed unknown after every retry. */
  readonly unresolved: number;
  /** 409 refusals of holds, and hold attempts beyond a customer's first. */
  readonly conflicts: number;
  readonly holdRetries: number;
  /** Idempotent re-sends of the same request (after 503 or no answer). */
  readonly resends: number;
  /** Seats the board showed taken that the live map, looked at before the sale ended, showed
   * free again (refused or unanswered requests that left nothing behind). */
  readonly seatsBackOnMap: number;
  readonly timedOut: boolean;
}

class Semaphore {
  private waiting: (() => void)[] = [];
  constructor(private free: number) {}
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((r) => this.waiting.push(r));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function drawSize(random: () => number): number {
  let x = random();
  for (const [k, p] of ORDER_SIZES) {
    x -= p;
    if (x < 0) return k;
  }
  return 1;
}

const unknownOutcome = (o: BuyerOutcome<unknown>) =>
  !o.ok && (o.status === 0 || o.status >= 500 || o.code === "in-flight");

export async function runSale(o: SaleOptions): Promise<SaleLog> {
  return new FlashSale(o).run();
}

type Held = { holdId: string; seats: SeatRef[]; keys: readonly string[] };

/** One sale's state: the counters its log reports and the shared live-map look. */
class FlashSale {
  private readonly random: () => number;
  private readonly sem: Semaphore;
  private readonly t0 = clock();
  private readonly startedAt = Date.now();
  private readonly stop: { stopped: boolean };
  private readonly providers: readonly ProviderId[];
  private readonly ops: OpRecord[] = [];
  private readonly holds: HoldRecordLog[] = [];
  private readonly orders: OrderLog[] = [];
  private customers = 0;
  private soldOutTurnedAway = 0;
  private gaveUp = 0;
  private unresolved = 0;
  private conflicts = 0;
  private holdRetries = 0;
  private resends = 0;
  private mayRelease = 0;
  private inCheckout = 0;
  private looks = 0;
  private seatsBackOnMap = 0;
  private look: Promise<boolean> | null = null;
  private sellOutMs: number | null = null;
  private nextArrival = 0;

  constructor(private readonly o: SaleOptions) {
    this.random = seededRandom(o.seed);
    this.sem = new Semaphore(o.concurrency);
    this.stop = o.stop ?? { stopped: false };
    this.providers = o.backend.providers;
  }

  private since(): number {
    return clock() - this.t0;
  }

  private noteFree(): void {
    if (this.o.board.freeSeats === 0) this.sellOutMs = this.since();
  }

  async run(): Promise<SaleLog> {
    const ticker = this.o.progress === undefined ? undefined : this.startTicker(this.o.progress);
    try {
      await Promise.all(Array.from({ length: this.o.buyers }, () => this.agent()));
    } finally {
      if (ticker) clearInterval(ticker);
    }
    return {
      startedAt: this.startedAt,
      durationMs: this.since(),
      sellOutMs: this.sellOutMs,
      customers: this.customers,
      ops: this.ops,
      holds: this.holds,
      orders: this.orders,
      soldOutTurnedAway: this.soldOutTurnedAway,
      gaveUp: this.gaveUp,
      unresolved: this.unresolved,
      conflicts: this.conflicts,
      holdRetries: this.holdRetries,
      resends: this.resends,
      seatsBackOnMap: this.seatsBackOnMap,
      timedOut: this.o.maxDurationMs !== undefined && this.since() > this.o.maxDurationMs,
    };
  }

  private startTicker(progress: (line: string) => void): ReturnType<typeof setInterval> {
    return setInterval(() => {
      const held = this.ops.filter((x) => x.kind === "hold" && x.status === 200).length;
      progress(
        `${(this.since() / 1000).toFixed(0)}s: ${this.customers} customers, ${held} holds, ` +
          `${this.orders.length} orders, ${this.o.board.freeSeats} seats free, ${this.ops.length} requests`,
      );
    }, PROGRESS_EVERY_MS);
  }

  /** One request, re-sent with the same idempotency key at the next provider while its outcome
   * is unknown. */
  private async send<T>(
    kind: OpKind,
    home: number,
    seats: number,
    call: (at: ProviderId, abortAfterMs: number | undefined) => Promise<Measured<T>>,
  ): Promise<BuyerOutcome<T>> {
    const o = this.o;
    let last: BuyerOutcome<T> | undefined;
    for (let retry = 0; retry < RETRIES_UNKNOWN_MAX; retry++) {
      const at = this.providers[(home + retry) % this.providers.length] as ProviderId;
      const abort =
        o.abortRate !== undefined && this.random() < o.abortRate()
          ? this.random() * (o.abortMaxMs ?? 200)
          : undefined;
      const start = this.since();
      const m = await call(at, abort);
      const out = m.outcome;
      this.ops.push(opRecord(kind, at, seats, start, m.measure, out, retry));
      last = out;
      if (!unknownOutcome(out)) return out;
      // Past the run's time limit nobody waits for an answer any more.
      if (o.maxDurationMs !== undefined && this.since() > o.maxDurationMs) break;
      this.resends++;
      await sleep(Math.min(RETRY_BACKOFF_MAX_MS, RETRY_BACKOFF_MS * 2 ** retry));
    }
    this.unresolved++;
    return last as BuyerOutcome<T>;
  }

  private async customer(n: number, buyer: Buyer): Promise<void> {
    const home = Math.floor(this.random() * this.providers.length);
    const size = drawSize(this.random);
    const abandons = this.random() < (this.o.abandonRate ?? 0.1);
    const releases = abandons && this.random() < (this.o.releaseShare ?? 0.5);
    const held = await this.holdSome(n, buyer, home, size);
    if (held === "left") return;
    if (held === null) {
      this.gaveUp++;
      return;
    }
    const log: HoldRecordLog = {
      buyer: buyer.id,
      holdId: held.holdId,
      seats: held.keys,
      atMs: this.since(),
      fate: "pending",
    };
    this.holds.push(log);
    if (releases) this.mayRelease++;
    try {
      const thinkMs = this.o.thinkMs ?? 50;
      if (thinkMs > 0) await sleep(this.random() * thinkMs);
      if (abandons && !releases) log.fate = "walked";
      else if (releases) await this.release(buyer, home, held, log);
      else await this.confirm(n, buyer, home, held, log);
    } finally {
      if (releases) this.mayRelease--;
    }
  }

  /** Holds seats, picking others after each refusal: the hold, null after HOLD_ATTEMPTS_MAX
   * refusals, or "left" (sold out, an unknown outcome, or another refusal: counted already). */
  private async holdSome(
    n: number,
    buyer: Buyer,
    home: number,
    size: number,
  ): Promise<Held | null | "left"> {
    const o = this.o;
    for (let attempt = 0; attempt < HOLD_ATTEMPTS_MAX; attempt++) {
      const seats = o.board.choose(size, this.random, this.since());
      if (seats === "wait") {
        // Everything left is in someone's checkout: look again shortly (not a new attempt).
        attempt--;
        await sleep(WAIT_FOR_RELEASE_MS);
        if (this.stop.stopped) return "left";
        continue;
      }
      if (seats.length === 0) {
        this.soldOutTurnedAway++;
        return "left";
      }
      if (attempt > 0) this.holdRetries++;
      o.board.selecting(seats, true, this.since());
      const out = await this.send("hold", home, seats.length, (at, abortAfterMs) =>
        o.backend.hold(at, buyer, `c${n}-h${attempt}`, o.eventId, seats, {
          ...(abortAfterMs === undefined ? {} : { abortAfterMs }),
        }),
      ).finally(() => o.board.selecting(seats, false, this.since()));
      if (out.ok) {
        o.board.held(seats);
        this.noteFree();
        return { holdId: out.value.holdId, seats, keys: out.value.seats };
      }
      if (out.status === 409 && out.code !== "in-flight") {
        this.conflicts++;
        const taken = (out.taken ?? []).map(refOfKey).filter((r): r is SeatRef => r !== null);
        o.board.takenBySomeoneElse(taken.length > 0 ? taken : []);
        this.noteFree();
        continue;
      }
      if (unknownOutcome(out)) return "left"; // counted as unresolved by send()
      this.gaveUp++;
      return "left";
    }
    return null;
  }

  private async release(buyer: Buyer, home: number, held: Held, log: HoldRecordLog) {
    const out = await this.send("release", home, held.seats.length, (at, abortAfterMs) =>
      this.o.backend.release(at, buyer, held.holdId, {
        ...(abortAfterMs === undefined ? {} : { abortAfterMs }),
      }),
    );
    if (out.ok) {
      log.fate = "released";
      this.o.board.released(held.seats);
    } else {
      log.fate = "walked";
    }
  }

  private async confirm(n: number, buyer: Buyer, home: number, held: Held, log: HoldRecordLog) {
    const out = await this.send("confirm", home, held.seats.length, (at, abortAfterMs) =>
      this.o.backend.confirm(at, buyer, `c${n}-confirm`, held.holdId, {
        ...(abortAfterMs === undefined ? {} : { abortAfterMs }),
      }),
    );
    if (!out.ok) {
      log.fate = "unconfirmed";
      return;
    }
    log.fate = "confirmed";
    this.o.board.sold(held.seats);
    this.orders.push({
      buyer: buyer.id,
      holdId: held.holdId,
      orderId: out.value.orderId,
      seats: held.keys,
      atMs: this.since(),
    });
  }

  /** One look at the live map, shared by every agent that finds the board sold out: true when
   * seats came back (or the map could not be read and looks are left). */
  private lookAgain(): Promise<boolean> {
    this.look ??= (async () => {
      if (this.looks >= END_LOOKS_MAX) return false;
      this.looks++;
      await sleep(MAP_REFRESH_MS);
      const at = this.providers[this.looks % this.providers.length] as ProviderId;
      const free = await this.o.backend
        .freeOnMap(at, await this.o.backend.buyer(0), this.o.eventId, [...this.o.board.all()])
        .catch(() => null);
      if (free === null) return this.looks < END_LOOKS_MAX;
      const back = this.o.board.refresh(free);
      this.seatsBackOnMap += back;
      return back > 0;
    })().finally(() => {
      this.look = null;
    });
    return this.look;
  }

  /** Serves one customer after another until the map shows nothing left (or the run stops). */
  private async agent(): Promise<void> {
    const o = this.o;
    for (;;) {
      if (this.stop.stopped) return;
      if (o.maxDurationMs !== undefined && this.since() > o.maxDurationMs) {
        this.stop.stopped = true;
        return;
      }
      if (o.board.freeSeats === 0) {
        // Customers still in checkout may release, or be refused seats that come back.
        if (this.mayRelease > 0 || this.inCheckout > 0) {
          await sleep(WAIT_FOR_RELEASE_MS);
          continue;
        }
        if (await this.lookAgain()) continue;
        return;
      }
      await this.arrive();
      if (this.stop.stopped) return;
      // The waiting room: a customer enters checkout only when one of `concurrency` places is
      // free, and keeps it until done (so a confirm never queues behind new arrivals' holds).
      await this.sem.acquire();
      try {
        if (this.stop.stopped || (o.board.freeSeats === 0 && this.mayRelease === 0)) continue;
        const n = this.customers++;
        this.inCheckout++;
        try {
          await this.customer(n, await o.backend.buyer(n));
        } finally {
          this.inCheckout--;
        }
      } finally {
        this.sem.release();
      }
    }
  }

  /** Customers start no faster than `arrivalsPerSec`, when set. */
  private async arrive(): Promise<void> {
    if (this.o.arrivalsPerSec === undefined) return;
    const interval = 1000 / this.o.arrivalsPerSec;
    const at = Math.max(this.since(), this.nextArrival);
    this.nextArrival = at + interval;
    if (at > this.since()) await sleep(at - this.since());
  }
}

function opRecord(
  kind: OpKind,
  at: ProviderId,
  seats: number,
  startMs: number,
  m: OpMeasure,
  out: BuyerOutcome<unknown>,
  retry: number,
): OpRecord {
  return {
    kind,
    at,
    seats,
    startMs,
    latencyMs: m.latencyMs,
    ...(m.t2Ms === undefined ? {} : { t2Ms: m.t2Ms }),
    ...(m.changes === undefined ? {} : { changes: m.changes }),
    status: out.ok ? 200 : out.status,
    code: out.ok ? (out.replayed ? "replayed" : "ok") : out.code,
    retryAfter: !out.ok && out.retryAfter,
    retry,
  };
}
