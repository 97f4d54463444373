import { checkSale, type Event } from "../../shared/domain/event.ts";
import { eventKey, holdKey, parseSeatKey } from "../../shared/domain/keys.ts";
import type { Money } from "../../shared/domain/money.ts";
import { type PricingResult, priceSeats } from "../../shared/domain/pricing.ts";
import type { HeldSeats } from "../../shared/seats/service.ts";
import type { HoldRecord } from "../../shared/seats/types.ts";
import { ProblemError } from "../problem.ts";
import { lookupSeats, readEvent, type SeatLookup } from "./catalog.ts";
import type { Services } from "./index.ts";
import { eventCopy, keepHoldSeats } from "./instance-cache.ts";
import { seatProblem } from "./seat-problem.ts";
import { type StepTiming, timed } from "./step-timing.ts";

/**
 * Holds as the buyer API sees them: placing one only after the event is on sale to this buyer and
 * every seat exists in its plan and has a price, reading one back, and pricing its seats (for its
 * owner's view and for the purchase that confirms it). The seat service (shared/seats) decides who
 * gets a seat; this decides whether the request may reach it.
 */

/** A seat of the event's plan, as a request names it. */
export interface SeatRef {
  readonly sectionId: string;
  readonly seatId: string;
}

const SALE_STATUS = {
  not_visible: 404,
  not_on_sale: 409,
  sales_not_open_yet: 409,
  sales_closed: 409,
} as const;

export const holdNotFound = (holdId: string) =>
  new ProblemError(404, "not-found", "Not Found", `hold ${holdId} does not exist or is not yours`);

/** Reads a hold record linearizably (read-only: the purchase re-checks it in its own change);
 * someone else's (or none) is a 404. */
export async function readOwnHold(s: Services, seg: string, holdId: string): Promise<HoldRecord> {
  const hold = await s.store.read<HoldRecord>(holdKey(holdId));
  if (hold === null || (hold.state !== "expired" && hold.caller !== seg))
    throw holdNotFound(holdId);
  return hold;
}

/** The seats in the event's plan and `seatIds`' order lines at the event's current prices. */
async function priceRefs(
  s: Services,
  event: Event,
  refs: readonly SeatRef[],
  seatIds: readonly string[],
): Promise<{ lookup: SeatLookup; priced: PricingResult }> {
  const lookup = await lookupSeats(s, event.planId, [...new Set(refs.map((r) => r.sectionId))]);
  return { lookup, priced: priceSeats(event, lookup, seatIds) };
}

export interface PlaceHoldInput {
  readonly sub: string;
  readonly seg: string;
  readonly key: string;
  readonly eventId: string;
  readonly seats: readonly SeatRef[];
  /** Told how long each step took (ms): `copy` (the event copy), `check` (sale window, plan and
   * prices), `lock` (the hold's quorum change), `event` (the majority read beside it). */
  readonly timing?: StepTiming<HoldStep>;
}

export type HoldStep = "copy" | "check" | "lock" | "event";

/**
 * What a buyer may hold on `event`: the plan has every seat and each has a price. Throws the
 * problem otherwise; the sale window is checked apart (eventOnSale).
 */
async function holdablePrice(s: Services, event: Event, seats: readonly SeatRef[]): Promise<Money> {
  const seatIds = [...new Set(seats.map((x) => x.seatId))];
  const { lookup, priced } = await priceRefs(s, event, seats, seatIds);
  const unknown = seats.filter((x) => lookup.get(x.seatId)?.sectionId !== x.sectionId);
  if (unknown.length > 0) {
    throw new ProblemError(422, "unknown-seats", "Unknown seats", "the plan has no such seats", {
      seats: unknown,
      errors: unknown.map((x) => ({
        path: "/seats",
        code: "unknown_seat",
        message: `no seat ${x.sectionId}/${x.seatId}`,
      })),
    });
  }
  if (!priced.ok) {
    throw new ProblemError(
      422,
      "unpriceable",
      "Seats cannot be bought",
      priced.errors.map((e) => e.message).join("; "),
      { errors: priced.errors },
    );
  }
  return priced.total;
}

/** The sale window's verdict for this buyer, as a problem, or the event. */
function onSale(s: Services, event: Event, sub: string): Event {
  const sale = checkSale(event, sub, s.now());
  if (sale.ok) return event;
  if (sale.code === "not_visible") {
    throw new ProblemError(
      404,
      "not-found",
      "Not Found",
      `event ${event.id} does not exist or is not visible to you`,
    );
  }
  throw new ProblemError(
    SALE_STATUS[sale.code],
    sale.code.replaceAll("_", "-"),
    "Not on sale",
    sale.message,
  );
}

const lockSeats = async (
  s: Services,
  i: PlaceHoldInput,
  event: Event,
): Promise<HeldSeats & { replayed?: boolean }> => {
  const r = await s.seats.hold(i.seg, i.key, {
    eventId: i.eventId,
    seats: i.seats.map((x) => ({ section: x.sectionId, seatId: x.seatId })),
    ...(event.maxSeatsPerBuyer === undefined ? {} : { maxSeatsPerBuyer: event.maxSeatsPerBuyer }),
  });
  if (!r.ok) throw seatProblem(r.code, r.detail);
  keepHoldSeats(s.store, r.value.holdId, { caller: i.seg, seats: r.value.seats });
  if (!r.replayed) return r.value;
  // A replay answers what this request's first try did. Its hold may have been given back since:
  // by its buyer, or by this service when that try was refused after the lock (placeHold). Either
  // way it is over (an expired one the seat service refuses itself), and a 201 for it would only
  // send the buyer to a 410 at checkout.
  if (r.value.state === "released") {
    throw new ProblemError(
      410,
      "hold-gone",
      "Hold no longer live",
      `this request's hold ${r.value.holdId} is released; hold the seats again with a new key`,
    );
  }
  return { ...r.value, replayed: true };
};

/** What a hold is checked against before its lock: the sale window, the plan and the prices. */
const checkHold = (s: Services, i: PlaceHoldInput, event: Event): Promise<Money> =>
  timed(i.timing, "check", async () => {
    onSale(s, event, i.sub);
    return holdablePrice(s, event, i.seats);
  });

/** Holds on `event`, read linearizably first: the order every hold used to take. */
async function placeHoldOn(s: Services, i: PlaceHoldInput, event: Event) {
  const total = await checkHold(s, i, event);
  const { replayed: _, ...hold } = await timed(i.timing, "lock", () => lockSeats(s, i, event));
  return { hold, total };
}

/** Any 503: the request may be retried with the same key, which finishes what this one began. */
const retryLater = (e: unknown) => e instanceof ProblemError && e.problem.status === 503;

/** The event fields a hold's change depends on: a copy that differs in them placed another hold. */
const sameHold = (a: Event, b: Event) =>
  a.planId === b.planId && a.maxSeatsPerBuyer === b.maxSeatsPerBuyer;

/**
 * Holds `seats` for the buyer (all of them or none), refusing before the seat service is asked what
 * could never be bought: an event not on sale to them, seats its plan lacks, seats without a price.
 *
 * The event decides on this instance's last committed copy (or this provider's store's), and the
 * linearizable read that proves the copy current runs beside the hold's change instead of before
 * it (issue 13: one round trip less on every hold of an onsale). The answer waits for both: it is
 * given only if the current event
 * allows what the hold did (on sale to this buyer, same plan and cap, the seats priced); otherwise
 * the hold is released and the answer is what the current event says. A copy that refuses, or
 * none, is not trusted to refuse: the hold then takes the old order (read, then hold); nor is a
 * seat refusal under the copy's cap or plan once the current event has another.
 */
export async function placeHold(
  s: Services,
  i: PlaceHoldInput,
): Promise<{ hold: HeldSeats; total: Money }> {
  const copy = await timed(
    i.timing,
    "copy",
    async () =>
      eventCopy(s.store, i.eventId) ??
      (await s.store.localGet<Event>(eventKey(i.eventId)).catch(() => null)),
  );
  if (copy === null) {
    return placeHoldOn(s, i, await timed(i.timing, "event", () => readEvent(s, i.eventId)));
  }
  try {
    await checkHold(s, i, copy);
  } catch {
    return placeHoldOn(s, i, await timed(i.timing, "event", () => readEvent(s, i.eventId)));
  }
  const [current, held] = await Promise.allSettled([
    timed(i.timing, "event", () => readEvent(s, i.eventId)),
    timed(i.timing, "lock", () => lockSeats(s, i, copy)),
  ]);
  if (held.status === "rejected") {
    // Refused under the copy's plan or cap: decided again on the current event if those changed
    // (a cap lifted since), else the refusal stands. Nothing was held either way.
    if (current.status === "rejected") throw current.reason;
    if (!sameHold(copy, current.value)) return placeHoldOn(s, i, current.value);
    throw held.reason;
  }
  const { replayed, ...hold } = held.value;
  // The event could not be read (503): the hold stands untold, and the retry of this request (same
  // key) replays it and checks the event again. Giving it back would make that replay a released
  // hold.
  if (current.status === "rejected" && retryLater(current.reason)) throw current.reason;
  try {
    if (current.status === "rejected") throw current.reason;
    const event = onSale(s, current.value, i.sub);
    if (!sameHold(copy, event)) {
      throw new ProblemError(
        409,
        "event-changed",
        "Event changed",
        `event ${i.eventId} changed while the seats were held; hold them again with a new key`,
      );
    }
    return { hold, total: await holdablePrice(s, event, i.seats) };
  } catch (e) {
    // Nobody was told this hold: give the seats back now rather than at its expiry. A replayed
    // one was answered to an earlier try of this request, and stays as it was.
    if (!replayed) {
      const back = await s.seats.release(i.seg, hold.holdId).catch(() => null);
      if (!back?.ok) console.warn(`hold ${hold.holdId}: release after refusal failed`);
    }
    throw e;
  }
}

/** A hold's seats priced at its event's current prices, with where each seat is. */
export interface PricedHold {
  readonly eventId: string;
  readonly event: Event;
  readonly lookup: SeatLookup;
  readonly priced: PricingResult;
}

/** Prices the seats of a hold (seat keys) at its event's current prices. */
export async function priceHold(s: Services, seatKeys: readonly string[]): Promise<PricedHold> {
  const refs = seatKeys.map(parseSeatKey);
  const eventId = refs[0]?.eventId ?? "";
  const event = await readEvent(s, eventId);
  const seatIds = refs.map((r) => r.seatId);
  return { eventId, event, ...(await priceRefs(s, event, refs, seatIds)) };
}

/** What a hold's seats cost now; undefined when it holds none or they cannot be priced. */
export async function holdTotal(s: Services, rec: HoldRecord): Promise<Money | undefined> {
  const seats = rec.seats ?? [];
  if (seats.length === 0) return undefined;
  const { priced } = await priceHold(s, seats);
  return priced.ok ? priced.total : undefined;
}
