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
  const random = seededRandom(o.seed);
  const abandonRate = o.abandonRate ?? 0.1;
  const releaseShare = o.releaseShare ?? 0.5;
  const thinkMs = o.thinkMs ?? 50;
  const sem = new Semaphore(o.concurrency);
  const t0 = clock();
  const startedAt = Date.now();
  const since = () => clock() - t0;
  const stop = o.stop ?? { stopped: false };
  const ops: OpRecord[] = [];
  const holds: HoldRecordLog[] = [];
  const orders: OrderLog[] = [];
  let customers = 0;
  let soldOutTurnedAway = 0;
  let gaveUp = 0;
  let unresolved = 0;
  let conflicts = 0;
  let holdRetries = 0;
  let resends = 0;
  let mayRelease = 0;
  let inCheckout = 0;
  let looks = 0;
  let seatsBackOnMap = 0;
  let look: Promise<boolean> | null = null;
  let sellOutMs: number | null = null;
  let nextArrival = 0;
  const providers = o.backend.providers;

  const noteFree = () => {
    if (o.board.freeSeats === 0) sellOutMs = since();
  };

  /** One request, re-sent with the same idempotency key at the next provider while its outcome
   * is unknown. */
  const send = async <T>(
    kind: OpKind,
    home: number,
    seats: number,
    call: (at: ProviderId, abortAfterMs: number | undefined) => Promise<Measured<T>>,
  ): Promise<BuyerOutcome<T>> => {
    let last: BuyerOutcome<T> | undefined;
    for (let retry = 0; retry < RETRIES_UNKNOWN_MAX; retry++) {
      const at = providers[(home + retry) % providers.length] as ProviderId;
      const abort =
        o.abortRate !== undefined && random() < o.abortRate()
          ? random() * (o.abortMaxMs ?? 200)
          : undefined;
      const start = since();
      const m = await call(at, abort);
      const out = m.outcome;
      ops.push(opRecord(kind, at, seats, start, m.measure, out, retry));
      last = out;
      if (!unknownOutcome(out)) return out;
      // Past the run's time limit nobody waits for an answer any more.
      if (o.maxDurationMs !== undefined && since() > o.maxDurationMs) break;
      resends++;
      await sleep(Math.min(RETRY_BACKOFF_MAX_MS, RETRY_BACKOFF_MS * 2 ** retry));
    }
    unresolved++;
    return last as BuyerOutcome<T>;
  };

  const customer = async (n: number, buyer: Buyer) => {
    const home = Math.floor(random() * providers.length);
    const size = drawSize(random);
    const abandons = random() < abandonRate;
    const releases = abandons && random() < releaseShare;
    const key = (s: string) => `c${n}-${s}`;
    let held: { holdId: string; seats: SeatRef[]; keys: readonly string[] } | null = null;
    for (let attempt = 0; attempt < HOLD_ATTEMPTS_MAX && held === null; attempt++) {
      const seats = o.board.choose(size, random, since());
      if (seats === "wait") {
        // Everything left is in someone's checkout: look again shortly (not a new attempt).
        attempt--;
        await sleep(WAIT_FOR_RELEASE_MS);
        if (stop.stopped) return;
        continue;
      }
      if (seats.length === 0) {
        soldOutTurnedAway++;
        return;
      }
      if (attempt > 0) holdRetries++;
      o.board.selecting(seats, true, since());
      const out = await send("hold", home, seats.length, (at, abortAfterMs) =>
        o.backend.hold(at, buyer, key(`h${attempt}`), o.eventId, seats, {
          ...(abortAfterMs === undefined ? {} : { abortAfterMs }),
        }),
      ).finally(() => o.board.selecting(seats, false, since()));
      if (out.ok) {
        held = { holdId: out.value.holdId, seats, keys: out.value.seats };
        o.board.held(seats);
        noteFree();
        break;
      }
      if (out.status === 409 && out.code !== "in-flight") {
        conflicts++;
        const taken = (out.taken ?? []).map(refOfKey).filter((r): r is SeatRef => r !== null);
        o.board.takenBySomeoneElse(taken.length > 0 ? taken : []);
        noteFree();
        continue;
      }
      if (unknownOutcome(out)) return; // counted as unresolved by send()
      gaveUp++;
      return;
    }
    if (held === null) {
      gaveUp++;
      return;
    }
    const log: HoldRecordLog = {
      buyer: buyer.id,
      holdId: held.holdId,
      seats: held.keys,
      atMs: since(),
      fate: "pending",
    };
    holds.push(log);
    if (releases) mayRelease++;
    try {
      if (thinkMs > 0) await sleep(random() * thinkMs);
      if (abandons && !releases) {
        log.fate = "walked";
        return;
      }
      if (releases) {
        const out = await send("release", home, held.seats.length, (at, abortAfterMs) =>
          o.backend.release(at, buyer, held.holdId, {
            ...(abortAfterMs === undefined ? {} : { abortAfterMs }),
          }),
        );
        if (out.ok) {
          log.fate = "released";
          o.board.released(held.seats);
        } else {
          log.fate = "walked";
        }
        return;
      }
      const out = await send("confirm", home, held.seats.length, (at, abortAfterMs) =>
        o.backend.confirm(at, buyer, key("confirm"), held.holdId, {
          ...(abortAfterMs === undefined ? {} : { abortAfterMs }),
        }),
      );
      if (out.ok) {
        log.fate = "confirmed";
        o.board.sold(held.seats);
        orders.push({
          buyer: buyer.id,
          holdId: held.holdId,
          orderId: out.value.orderId,
          seats: held.keys,
          atMs: since(),
        });
      } else {
        log.fate = "unconfirmed";
      }
    } finally {
      if (releases) mayRelease--;
    }
  };

  /** One look at the live map, shared by every agent that finds the board sold out: true when
   * seats came back (or the map could not be read and looks are left). */
  const lookAgain = (): Promise<boolean> => {
    look ??= (async () => {
      if (looks >= END_LOOKS_MAX) return false;
      looks++;
      await sleep(MAP_REFRESH_MS);
      const at = providers[looks % providers.length] as ProviderId;
      const free = await o.backend
        .freeOnMap(at, await o.backend.buyer(0), o.eventId, [...o.board.all()])
        .catch(() => null);
      if (free === null) return looks < END_LOOKS_MAX;
      const back = o.board.refresh(free);
      seatsBackOnMap += back;
      return back > 0;
    })().finally(() => {
      look = null;
    });
    return look;
  };

  const agent = async () => {
    for (;;) {
      if (stop.stopped) return;
      if (o.maxDurationMs !== undefined && since() > o.maxDurationMs) {
        stop.stopped = true;
        return;
      }
      if (o.board.freeSeats === 0) {
        // Customers still in checkout may release, or be refused seats that come back.
        if (mayRelease > 0 || inCheckout > 0) {
          await sleep(WAIT_FOR_RELEASE_MS);
          continue;
        }
        if (await lookAgain()) continue;
        return;
      }
      if (o.arrivalsPerSec !== undefined) {
        const interval = 1000 / o.arrivalsPerSec;
        const at = Math.max(since(), nextArrival);
        nextArrival = at + interval;
        if (at > since()) await sleep(at - since());
        if (stop.stopped) return;
      }
      // The waiting room: a customer enters checkout only when one of `concurrency` places is
      // free, and keeps it until done (so a confirm never queues behind new arrivals' holds).
      await sem.acquire();
      try {
        if (stop.stopped || (o.board.freeSeats === 0 && mayRelease === 0)) continue;
        const n = customers++;
        inCheckout++;
        try {
          await customer(n, await o.backend.buyer(n));
        } finally {
          inCheckout--;
        }
      } finally {
        sem.release();
      }
    }
  };

  const progress = o.progress;
  const ticker =
    progress === undefined
      ? undefined
      : setInterval(() => {
          const held = ops.filter((x) => x.kind === "hold" && x.status === 200).length;
          progress(
            `${(since() / 1000).toFixed(0)}s: ${customers} customers, ${held} holds, ` +
              `${orders.length} orders, ${o.board.freeSeats} seats free, ${ops.length} requests`,
          );
        }, PROGRESS_EVERY_MS);
  try {
    await Promise.all(Array.from({ length: o.buyers }, () => agent()));
  } finally {
    if (ticker) clearInterval(ticker);
  }
  return {
    startedAt,
    durationMs: since(),
    sellOutMs,
    customers,
    ops,
    holds,
    orders,
    soldOutTurnedAway,
    gaveUp,
    unresolved,
    conflicts,
    holdRetries,
    resends,
    seatsBackOnMap,
    timedOut: o.maxDurationMs !== undefined && since() > o.maxDurationMs,
  };
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
