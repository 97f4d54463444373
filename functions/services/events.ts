import {
  applyEventUpdate,
  type CreateEventInput,
  cancelEvent,
  closeSales,
  type Event,
  type EventResult,
  newEvent,
  openSales,
  type UpdateEventInput,
} from "../../shared/domain/event.ts";
import {
  eventKey,
  eventListKey,
  idOfKey,
  orderKey,
  scanPrefix,
  theaterEventKey,
  theaterIdemKey,
} from "../../shared/domain/keys.ts";
import type { Money } from "../../shared/domain/money.ts";
import { keptProceeds, keptTotal } from "../../shared/domain/partial-refund.ts";
import type { DomainIssue } from "../../shared/domain/result.ts";
import { requestHash } from "../../shared/seats/hash.ts";
import { BATCH_KEYS_MAX } from "../../shared/storage/ports.ts";
import { ProblemError } from "../problem.ts";
import { newEntityId } from "../random.ts";
import { takenSeats } from "./availability.ts";
import {
  type CatalogConsistency,
  eventListEntry,
  getEvent,
  getPlanMeta,
  getPlanOf,
  readMany,
} from "./catalog.ts";
import { bodyHash, idemConflict, judgeClaim, type TheaterIdemRecord } from "./idempotency.ts";
import type { Services } from "./index.ts";
import type { StoredOrder } from "./order-record.ts";
import { scanPages } from "./paging.ts";
import { retryingChange } from "./store.ts";
import { checkPlanRef, checkVenueRef, notFound, unprocessable } from "./venues.ts";

/**
 * Events of a theatre. The event record and its two list entries (`events/<eid>` for buyers,
 * `theater/<tid>/event/<eid>` for the theatre) always change together in ONE quorum change, so a
 * list never shows a status or title the event does not have.
 */

/** Strong validator of an event's current state (If-Match on PATCH). */
export const eventEtag = (e: Event) => `"${requestHash(e)}"`;

/** Codes that refuse a change because of the event's state (409) rather than its input (422). */
const STATE_CODES = new Set([
  "invalid_status",
  "event_cancelled",
  "price_change_after_sales_open",
  "plan_change_after_sales_open",
  "sales_open_change_after_sales_open",
]);

function refusal(errors: readonly DomainIssue[]): ProblemError {
  if (errors.some((e) => STATE_CODES.has(e.code))) {
    return new ProblemError(
      409,
      "event-state-conflict",
      "The event's state does not allow this change",
      errors[0]?.message,
      { errors },
    );
  }
  return unprocessable("invalid-event", "The event cannot be saved as asked", errors);
}

const keysOf = (theaterId: string, eventId: string) => [
  eventKey(eventId),
  eventListKey(eventId),
  theaterEventKey(theaterId, eventId),
];

const withIndexes = (e: Event) => [e, eventListEntry(e), eventListEntry(e)];

/** The event moved to another plan between reading the plan and changing the event. */
class StalePlan extends Error {}

type Abort =
  | { kind: "conflict" }
  | { kind: "replay"; id: string; startedAtMs: number }
  | { kind: "not-found" }
  | { kind: "precondition" }
  | { kind: "refused"; errors: readonly DomainIssue[] }
  | { kind: "stale-plan"; planId: string };

export async function createEvent(
  s: Services,
  theaterId: string,
  key: string,
  input: CreateEventInput,
): Promise<{ event: Event; replayed: boolean }> {
  const hash = bodyHash("event", input);
  const idem = theaterIdemKey(theaterId, key);
  const prior = judgeClaim(await s.store.get<TheaterIdemRecord>(idem), "event", hash);
  if (prior.kind === "conflict") throw idemConflict();
  const id = newEntityId("e_");
  const made = newEvent(id, theaterId, input);
  if (!made.ok) throw refusal(made.errors);
  if (prior.kind === "new") {
    await checkVenueRef(s, theaterId, made.event.venueId);
    await checkPlanRef(s, theaterId, made.event.planId);
  }
  const claim: TheaterIdemRecord = { op: "event", hash, id, startedAtMs: s.now() };
  const r = await retryingChange<unknown>(s, [idem, ...keysOf(theaterId, id)], ([rec]) => {
    const v = judgeClaim((rec ?? null) as TheaterIdemRecord | null, "event", hash);
    return v.kind === "new" ? [claim, ...withIndexes(made.event)] : { abort: v };
  });
  if (r.ok) return { event: made.event, replayed: false };
  const why = r.reason as Abort;
  if (why.kind !== "replay") throw idemConflict();
  const stored = await getEvent(s, why.id, "quorum");
  if (stored === null) throw notFound("event", why.id);
  return { event: stored, replayed: true };
}

/** The theatre's own event (quorum read), else 404: another theatre's event does not exist for it. */
export async function ownEvent(
  s: Services,
  theaterId: string,
  eventId: string,
  consistency: CatalogConsistency = "quorum",
): Promise<Event> {
  const e = await getEvent(s, eventId, consistency);
  if (e === null || e.theaterId !== theaterId) throw notFound("event", eventId);
  return e;
}

/**
 * Runs one deterministic transition over the event and its list entries. `transition` sees the
 * current event; the clock is read once, before the change, so a re-run decides the same way.
 */
async function transitionEvent(
  s: Services,
  theaterId: string,
  eventId: string,
  transition: (cur: Event) => EventResult | { unchanged: Event } | { abort: Abort },
  ifMatch?: string,
): Promise<Event> {
  const r = await retryingChange<unknown>(s, keysOf(theaterId, eventId), ([cur]) => {
    const e = cur as Event | null;
    if (e === null || e.theaterId !== theaterId) return { abort: { kind: "not-found" } };
    const t = transition(e);
    if ("abort" in t) return t;
    if ("unchanged" in t) return { abort: { kind: "unchanged", event: t.unchanged } };
    if (!t.ok) return { abort: { kind: "refused", errors: t.errors } };
    // A change that changes nothing (a re-run finding its own earlier effect) needs no write and
    // matches any precondition.
    if (eventEtag(t.event) === eventEtag(e)) return { abort: { kind: "unchanged", event: e } };
    if (ifMatch !== undefined && ifMatch !== "*" && ifMatch !== eventEtag(e)) {
      return { abort: { kind: "precondition" } };
    }
    return withIndexes(t.event);
  });
  if (r.ok) return r.values[0] as Event;
  const why = r.reason as Abort | { kind: "unchanged"; event: Event };
  switch (why.kind) {
    case "unchanged":
      return why.event;
    case "not-found":
      throw notFound("event", eventId);
    case "precondition":
      throw new ProblemError(
        412,
        "precondition-failed",
        "Precondition Failed",
        "the event changed since you read it (If-Match); read it again",
      );
    case "refused":
      throw refusal(why.errors);
    case "stale-plan":
      throw new StalePlan();
    default:
      throw refusal([{ path: "", code: "conflict", message: "the change was refused; retry" }]);
  }
}

export async function updateEvent(
  s: Services,
  theaterId: string,
  eventId: string,
  input: UpdateEventInput,
  ifMatch?: string,
): Promise<Event> {
  if (input.venueId !== undefined) await checkVenueRef(s, theaterId, input.venueId);
  if (input.planId !== undefined) await checkPlanRef(s, theaterId, input.planId);
  const now = s.now();
  return await transitionEvent(
    s,
    theaterId,
    eventId,
    (cur) => applyEventUpdate(cur, input, now),
    ifMatch,
  );
}

/**
 * Puts the event on sale after checking every category with seats carries a price. Opening an
 * event already on sale answers with it unchanged, so a retried call is harmless.
 */
export async function openEventSales(
  s: Services,
  theaterId: string,
  eventId: string,
): Promise<Event> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const seen = await ownEvent(s, theaterId, eventId);
    if (seen.status === "on-sale") return seen;
    const meta = await checkPlanRef(s, theaterId, seen.planId);
    const plan = await getPlanOf(s, meta, "local");
    if (plan === null) {
      throw new ProblemError(
        503,
        "plan-unavailable",
        "The seating plan could not be read",
        "retry",
        {},
        {
          "retry-after": "2",
        },
      );
    }
    const now = s.now();
    try {
      return await transitionEvent(s, theaterId, eventId, (cur) => {
        if (cur.status === "on-sale") return { unchanged: cur };
        // The plan was read outside the change: if the event moved to another plan meanwhile,
        // read again rather than check prices against the wrong seats.
        if (cur.planId !== plan.id) return { abort: { kind: "stale-plan", planId: cur.planId } };
        return openSales(cur, now, plan);
      });
    } catch (e) {
      if (!(e instanceof StalePlan)) throw e;
    }
  }
  throw refusal([{ path: "/planId", code: "plan_changed", message: "the plan changed; retry" }]);
}

/** Stops sales; closing an event whose sales are already closed answers with it unchanged. */
export async function closeEventSales(
  s: Services,
  theaterId: string,
  eventId: string,
): Promise<Event> {
  return await transitionEvent(s, theaterId, eventId, (cur) =>
    cur.status === "sales-closed" ? { unchanged: cur } : closeSales(cur),
  );
}

/** Cancels the event for good (no more sales); a cancelled event answers with it unchanged. The
 * refunds that follow are functions/services/cancellation.ts. */
export async function markEventCancelled(
  s: Services,
  theaterId: string,
  eventId: string,
): Promise<Event> {
  return await transitionEvent(s, theaterId, eventId, (cur) =>
    cur.status === "cancelled" ? { unchanged: cur } : cancelEvent(cur),
  );
}

export interface EventSummary {
  eventId: string;
  status: Event["status"];
  seats: { total: number; sold: number; held: number; available: number };
  orders: { confirmed: number; refunded: number; other: number };
  /** Sum of confirmed orders' totals (refunded orders excluded). */
  revenue: Money;
  /** Sum of refunded orders' totals. */
  refunded: Money;
  /** Per party, summed over confirmed orders' recorded splits; sums exactly to `revenue`. */
  proceeds: { party: string; amount: Money }[];
}

/** Orders read per store call while summarising (the store's batch limit). */
const SUMMARY_ORDER_BATCH = BATCH_KEYS_MAX;

/**
 * Counts from this provider's store: seat registers (a seat has one register, so nothing is
 * counted twice) and the event's order index, read a page at a time. Local reads: a summary may
 * trail the quorum by the replication delay, which a dashboard tolerates.
 */
export async function eventSummary(s: Services, event: Event): Promise<EventSummary> {
  const meta = await getPlanMeta(s, event.planId, "local");
  const taken = await takenSeats(s, event.id);
  let sold = 0;
  let held = 0;
  for (const a of taken.values()) a === "sold" ? sold++ : held++;
  const total = meta?.seatCount ?? sold + held;

  const currency = event.priceCategories[0]?.price.currency ?? "EUR";
  let revenue = 0;
  let refunded = 0;
  const counts = { confirmed: 0, refunded: 0, other: 0 };
  const parties = new Map<string, number>();
  for await (const page of scanPages<unknown>(s, scanPrefix.eventOrders(event.id))) {
    for (let i = 0; i < page.length; i += SUMMARY_ORDER_BATCH) {
      const ids = page.slice(i, i + SUMMARY_ORDER_BATCH).map((it) => idOfKey(it.key));
      const orders = await readMany<StoredOrder>(s, ids.map(orderKey), "local");
      for (const o of orders) {
        if (o === null) continue;
        if (o.status === "confirmed") {
          // Seats refunded one by one count as refunded; the rest is revenue, split as kept.
          counts.confirmed++;
          const kept = keptTotal(o);
          revenue += kept.amount;
          refunded += o.total.amount - kept.amount;
          for (const p of keptProceeds(o)) {
            parties.set(p.party, (parties.get(p.party) ?? 0) + p.amount.amount);
          }
        } else if (o.status === "refunded") {
          counts.refunded++;
          refunded += o.total.amount;
        } else counts.other++;
      }
    }
  }
  return {
    eventId: event.id,
    status: event.status,
    seats: { total, sold, held, available: Math.max(0, total - sold - held) },
    orders: counts,
    revenue: { amount: revenue, currency },
    refunded: { amount: refunded, currency },
    proceeds: [...parties].map(([party, amount]) => ({ party, amount: { amount, currency } })),
  };
}
