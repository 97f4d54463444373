import { toBase64Url } from "../../shared/crypto/base64.ts";
import type { Event } from "../../shared/domain/event.ts";
import { BUYER_ID_PATTERN } from "../../shared/domain/ids.ts";
import { buyerOrderKey, eventOrderKey, idemKey, orderKey } from "../../shared/domain/keys.ts";
import type { Money } from "../../shared/domain/money.ts";
import {
  type CardInput,
  confirmOrder,
  type EventDisplay,
  newOrder,
  type OrderSeat,
} from "../../shared/domain/order.ts";
import { canonicalJson } from "../../shared/formats/canonical-json.ts";
import { splitProceeds } from "../../shared/payments/split.ts";
import { SKEW_MARGIN_MS, sameSeats } from "../../shared/seats/changes.ts";
import { SEAT_ERROR_STATUS } from "../../shared/seats/service.ts";
import type { HoldRecord } from "../../shared/seats/types.ts";
import { clip } from "../../shared/tickets/derive.ts";
import { ProblemError } from "../problem.ts";
import type { SeatLookup } from "./catalog.ts";
import { priceHold, readOwnHold } from "./holds.ts";
import type { Services } from "./index.ts";
import { holdSeatsCopy } from "./instance-cache.ts";
import { type OrderIndexEntry, StoredOrder } from "./order-record.ts";
import { paymentsFor } from "./payments.ts";
import { type StepTiming, timed } from "./step-timing.ts";
import { outcomeUnknown, RETRY_AFTER_S } from "./store.ts";
import {
  type IssueResult,
  issueTickets,
  signTickets,
  type TicketRecord,
  ticketKeys,
  ticketsFromAttests,
  ticketValues,
} from "./tickets.ts";
import { getVenue } from "./venues.ts";

/**
 * The purchase flow: held seats → authorised payment → sale committed on the hold record (the one
 * commit point, shared/seats) → capture → order record → tickets. Each step after the commit is
 * idempotent and keyed by what the commit decided (the order id), so a client that lost a reply
 * retries the same request (same Idempotency-Key), on any provider, and the retry finishes the
 * steps the first attempt did not, without a second effect.
 */

const problem = (
  status: 402 | 404 | 409 | 410 | 422 | 503,
  slug: string,
  title: string,
  detail?: string,
  ext: Record<string, unknown> = {},
) =>
  new ProblemError(
    status,
    slug,
    title,
    detail,
    ext,
    status === 503 ? { "retry-after": String(RETRY_AFTER_S) } : {},
  );

/** The buyer id an order records: the `sub` itself when it fits the Order schema, else its hash. */
export function orderBuyerId(sub: string, seg: string): string {
  return BUYER_ID_PATTERN.test(sub) ? sub : seg;
}

/** Idempotency key handed to the payment processor: one per (buyer, request key). */
async function paymentKeyFor(seg: string, key: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${seg}\n${key}`));
  return `pk_${toBase64Url(new Uint8Array(d))}`;
}

/** The venue's name as this provider's store has it committed (display text only: null when it
 * cannot be read, and the tickets then name no venue). */
async function venueName(s: Services, event: Event): Promise<string | null> {
  try {
    return (await getVenue(s, event.theaterId, event.venueId)).name;
  } catch {
    return null;
  }
}

/** Each seat's ticket display names, fixed into the order when the sale commits. */
function withDisplay(seats: readonly OrderSeat[], lookup: SeatLookup): OrderSeat[] {
  return seats.map((seat) => {
    const info = lookup.get(seat.seatId);
    if (!info) return seat;
    return {
      ...seat,
      display: {
        section: clip(info.sectionName),
        ...(info.rowLabel ? { row: clip(info.rowLabel) } : {}),
        label: clip(info.label),
        category: clip(info.categoryName),
      },
    };
  });
}

/**
 * Writes the order and both index entries in ONE change; if the order already exists (a retry),
 * the stored one wins, so `createdAt` (and the ticket issue time derived from it) never moves.
 */
export async function writeOrder(
  s: Services,
  seg: string,
  order: StoredOrder,
): Promise<StoredOrder> {
  const { keys, values } = orderWrites(seg, order);
  const w = await s.store.change<StoredOrder | OrderIndexEntry>(keys, ([cur]) =>
    cur != null ? { abort: cur } : [...values],
  );
  return (w.ok ? order : w.reason) as StoredOrder;
}

/** The order's record and its two index entries (buyer, event): keys and values, in that order. */
function orderWrites(seg: string, order: StoredOrder) {
  const entry: OrderIndexEntry = {
    orderId: order.id,
    eventId: order.eventId,
    createdAt: order.createdAt,
  };
  return {
    keys: [
      orderKey(order.id),
      buyerOrderKey(seg, order.id),
      eventOrderKey(order.eventId, order.id),
    ],
    values: [order, entry, entry] as const,
  };
}

export interface PurchaseInput {
  readonly sub: string;
  readonly seg: string;
  readonly key: string;
  readonly holdId: string;
  /** Needed only when there is something to pay; a free order ignores it. */
  readonly card?: CardInput | undefined;
  /** Told how long each step took (ms): `hold` (reading it), `price` (event, plan, prices),
   * `authorize` (the card processor), `commit` (the sale's quorum change), `follow` (beside the
   * capture and the seats: `tickets`, the providers' signatures, then `record`, the order and its
   * tickets written). */
  readonly timing?: StepTiming<ConfirmStep>;
  /** Runs work on after the answer (the platform's `waitUntil`); absent where the platform stops
   * at the answer, and then every follow-up finishes first. */
  readonly defer?: ((work: Promise<unknown>) => void) | undefined;
}

export type ConfirmStep =
  | "hold"
  | "price"
  | "authorize"
  | "commit"
  | "follow"
  | "tickets"
  | "record";

export interface PurchaseResult {
  readonly order: StoredOrder;
  readonly issued: IssueResult;
  /** Time the answer waited on the payment processor (ms): the authorisation, and the capture's
   * part that outlasted the order's and seats' writes beside it. Reported as Server-Timing. */
  readonly processorMs: number;
}

/** Milliseconds since `t0` on the monotonic clock (timing only: nothing decides on it). */
const since = (t0: number) => performance.now() - t0;

/** A hold a confirm may still act on: live, or sold (a retry of the confirm that sold it). */
type ConfirmableHold = Extract<HoldRecord, { state: "held" | "sold" }>;

/** Refuses before touching the card what cannot succeed; the seat service re-checks all of it. */
function refuseUnconfirmable(
  s: Services,
  i: PurchaseInput,
  hold: HoldRecord,
): asserts hold is ConfirmableHold {
  if (hold.state === "sold" && hold.confirm.key !== idemKey(i.seg, i.key)) {
    throw problem(
      409,
      "already-confirmed",
      "Hold already confirmed",
      `hold ${i.holdId} was bought with another request`,
      { orderId: hold.orderId },
    );
  }
  if (hold.state === "released" || hold.state === "expired") {
    throw problem(410, "hold-gone", "Hold no longer live", `hold ${i.holdId} is ${hold.state}`);
  }
  if (hold.state === "held" && s.now() > hold.expiresAtMs + SKEW_MARGIN_MS) {
    throw problem(410, "hold-gone", "Hold no longer live", `hold ${i.holdId} expired`);
  }
}

export async function confirmPurchase(s: Services, i: PurchaseInput): Promise<PurchaseResult> {
  // The commit's prepare runs ahead, beside the reads and then the card (decision 0009): the
  // confirm's own claim at once, the hold's keys once its record is read (warm already when this
  // instance placed the hold). The commit then needs only its accept round.
  const claimPrimed = s.seats.primeConfirm(i.seg, i.key, i.holdId);
  const { hold, eventId, event, lookup, priced } = await readAndPrice(s, i);
  const holdPrimed = s.seats.primeConfirm(i.seg, i.key, i.holdId, hold);
  const venue = venueName(s, event);
  if (!priced.ok) {
    throw problem(
      422,
      "unpriceable",
      "Seats cannot be priced",
      priced.errors.map((e) => e.message).join("; "),
      { errors: priced.errors },
    );
  }
  const authorizing = performance.now();
  const paymentId = await timed(i.timing, "authorize", () => authorizeTotal(s, i, priced.total));
  const authorizeMs = since(authorizing);
  const now = s.now();
  const place = await venue;
  const eventDisplay: EventDisplay = {
    title: clip(event.title),
    startsAt: event.startsAt,
    ...(place ? { venue: clip(place) } : {}),
  };
  // The order is decided with the sale: the sold record carries it, so every follow-up and every
  // provider's ticket signature derives from the one value the quorum chose.
  const orderFor = (orderId: string): StoredOrder => {
    const draft = confirmOrder(
      newOrder({
        id: orderId,
        theaterId: event.theaterId,
        eventId,
        buyerId: orderBuyerId(i.sub, i.seg),
        seats: withDisplay(priced.seats, lookup),
        eventDisplay,
        total: priced.total,
        now,
        idempotencyKey: i.key,
      }),
      paymentId,
    );
    if (!draft.ok) throw new Error("a new order must be confirmable");
    return { ...draft.order, proceeds: splitProceeds(priced.total), holdId: i.holdId };
  };
  const sale = await timed(i.timing, "commit", async () => {
    await Promise.all([claimPrimed, holdPrimed]);
    return commitSale(s, i, hold, paymentId, orderFor);
  });
  const committed =
    sale.sold?.state === "sold" ? StoredOrder.safeParse(sale.sold.order).data : undefined;
  // A sale committed before orders travelled in its record: its order record decides (a retry
  // of that sale keeps the first attempt's order and its creation time).
  const order = committed ?? (await writeOrder(s, i.seg, orderFor(sale.orderId)));
  const after = await followUpSale(s, i, sale, order, paymentId);
  return { ...after, processorMs: authorizeMs + after.processorMs };
}

/**
 * The hold, read linearizably, and its seats priced. A hold this instance placed is priced from
 * its remembered seats while the record is read (seats never change once held); the pricing is
 * used only if the record lists the same seats.
 */
async function readAndPrice(s: Services, i: PurchaseInput) {
  const hint = holdSeatsCopy(s.store, i.holdId);
  const early =
    hint?.caller === i.seg
      ? timed(i.timing, "price", () => priceHold(s, hint.seats)).catch(() => null)
      : undefined;
  const hold = await timed(i.timing, "hold", () => readOwnHold(s, i.seg, i.holdId));
  refuseUnconfirmable(s, i, hold);
  const hinted = await early;
  const priced =
    hinted && hint && sameSeats(hint.seats, hold.seats)
      ? hinted
      : await timed(i.timing, "price", () => priceHold(s, hold.seats));
  if (hold.state === "held" && priced.event.status === "cancelled") {
    throw problem(
      409,
      "event-cancelled",
      "Event cancelled",
      `event ${priced.eventId} is cancelled`,
    );
  }
  return { hold, ...priced };
}

type CommittedSale = Extract<
  Awaited<ReturnType<Services["seats"]["confirm"]>>,
  { ok: true }
>["value"] & { readonly replayed: boolean };

/** The sale's commit: the sold hold, or the refusal as a problem (the authorisation voided
 * unless the sale may still have committed, or another attempt of this request may capture it). */
async function commitSale(
  s: Services,
  i: PurchaseInput,
  hold: HoldRecord,
  paymentId: string | null,
  order: (orderId: string) => StoredOrder,
): Promise<CommittedSale> {
  const c = await s.seats.confirm(i.seg, i.key, {
    holdId: i.holdId,
    record: hold,
    settle: false,
    order,
    holder: i.sub,
  });
  if (c.ok) return { ...c.value, replayed: c.replayed };
  if (c.code === "unknown" || c.code === "unavailable") {
    // The sale may have committed: keep the authorisation, the retry with the same key learns it.
    throw outcomeUnknown("the sale's commit did not complete");
  }
  // "in-flight": another attempt of this very request may still capture this authorisation.
  if (c.code !== "in-flight" && paymentId !== null) {
    await paymentsFor(s)
      .void(paymentId)
      .catch(() => undefined);
  }
  const slug = c.code === "conflict" ? "idempotency-key-reused" : `hold-${c.code}`;
  throw new ProblemError(
    SEAT_ERROR_STATUS[c.code] as 409,
    slug,
    "Hold not confirmed",
    `the hold could not be confirmed: ${c.code}`,
    c.detail === undefined ? {} : { reason: c.detail },
  );
}

/**
 * The sale is committed with its order: capturing, moving the seats to "sold" and recording the
 * order with its signed tickets are independent, idempotent follow-ups (a retry repeats them
 * harmlessly; the seat sweep settles seats and records orders a lost attempt left). The answer
 * carries the order and its tickets, signed by the stores that decided the sale (their accept
 * replies), so it waits only for the capture (the processor's time, reported apart): where the
 * platform keeps working after the answer (`i.defer`), the seats and the order's record follow
 * it. A replay answers what is stored, so it waits for the record; so does a platform that stops
 * at the answer (Lambda behind API Gateway), where work left running would be frozen.
 */
async function followUpSale(
  s: Services,
  i: PurchaseInput,
  sale: CommittedSale,
  order: StoredOrder,
  paymentId: string | null,
): Promise<Omit<PurchaseResult, "processorMs"> & { processorMs: number }> {
  const capture = () =>
    paymentId === null ? Promise.resolve(null) : paymentsFor(s).capture(paymentId, order.total);
  if (i.defer && !sale.replayed) {
    const signed = await timed(i.timing, "tickets", () => ticketsOf(s, i, order, sale));
    i.defer(recordAfterAnswer(s, i, sale, order, signed));
    const capturing = performance.now();
    const cap = await capture();
    capturedOrThrow(s, sale.orderId, cap);
    return { order, issued: signed, processorMs: since(capturing) };
  }
  const following = performance.now();
  let ownMs = 0;
  const own = <T>(p: Promise<T>) =>
    p.finally(() => {
      ownMs = Math.max(ownMs, since(following));
    });
  const settled = own(s.seats.settleSold(i.holdId, sale.sold)).catch(() => null);
  const recorded = own(
    timed(i.timing, "follow", async () => {
      const signed = await timed(i.timing, "tickets", () => ticketsOf(s, i, order, sale));
      return timed(i.timing, "record", () => recordSale(s, i, order, signed));
    }),
  );
  const [captured, written] = await Promise.allSettled([capture(), recorded]);
  const seatsSold = await settled;
  const processorMs = Math.max(0, since(following) - ownMs);
  if (!seatsSold?.ok) console.warn(`[${s.deps.provider}] hold ${i.holdId}: seats not settled yet`);
  if (written.status === "rejected") throw written.reason;
  if (captured.status === "rejected") throw captured.reason;
  capturedOrThrow(s, sale.orderId, captured.value);
  return { ...written.value, processorMs };
}

type Capture = Awaited<ReturnType<ReturnType<typeof paymentsFor>["capture"]>> | null;

/** A capture the processor refused is the buyer's to retry (same request): the sale stands. */
function capturedOrThrow(s: Services, orderId: string, cap: Capture): void {
  if (cap === null || cap.status === "captured") return;
  console.error(`[${s.deps.provider}] order ${orderId}: capture refused: ${cap.message}`);
  throw problem(
    503,
    "payment-capture-pending",
    "Payment not captured yet",
    `the sale is recorded; capture failed (${cap.code}); retry the same request`,
  );
}

/**
 * The follow-ups of an answered sale: its seats to "sold", its order, index entries and tickets
 * recorded. Never rejects: what fails here the seat sweep finishes (seats, order), and the
 * buyer's tickets, already in the answer, are issued again on request.
 */
async function recordAfterAnswer(
  s: Services,
  i: PurchaseInput,
  sale: CommittedSale,
  order: StoredOrder,
  signed: IssueResult,
): Promise<void> {
  const [seats, recorded] = await Promise.allSettled([
    s.seats.settleSold(i.holdId, sale.sold),
    recordSale(s, i, order, signed),
  ]);
  if (seats.status === "rejected" || !seats.value.ok) {
    console.warn(`[${s.deps.provider}] hold ${i.holdId}: seats not settled yet`);
  }
  if (recorded.status === "rejected") {
    console.warn(`[${s.deps.provider}] order ${order.id}: not recorded yet: ${recorded.reason}`);
  }
}

/**
 * The order's record, its two index entries and its signed tickets in ONE change. An order stored
 * already (a retry) stays; one that differs from the sale's (impossible unless a record was
 * tampered with) wins, and the tickets are then signed for it.
 */
async function recordSale(
  s: Services,
  i: PurchaseInput,
  order: StoredOrder,
  signed: IssueResult,
): Promise<{ order: StoredOrder; issued: IssueResult }> {
  const own = orderWrites(i.seg, order);
  const keys = [...own.keys, ...ticketKeys(signed.tickets)];
  const w = await s.store.change<unknown>(keys, (cur) =>
    cur[0] != null && canonicalJson(cur[0]) !== canonicalJson(order)
      ? { abort: cur[0] }
      : [cur[0] ?? order, ...own.values.slice(1), ...ticketValues(signed.tickets, cur.slice(3))],
  );
  if (!w.ok) {
    const stored = w.reason as StoredOrder;
    const issued = await orPending(s, stored, () => issueTickets(s, stored, i.sub, i.seg));
    return { order: stored, issued };
  }
  const tickets = signed.tickets.map((t, j) => ({
    id: t.id,
    record: w.values[3 + 3 * j] as TicketRecord,
  }));
  return { order: w.values[0] as StoredOrder, issued: { ...signed, tickets } };
}

/**
 * The order's tickets signed by a quorum, not stored yet: from the signatures the acceptors that
 * decided the sale put in their accept replies, else asked of every provider (a replay, a sale
 * decided by stores that did not sign, signatures that did not check).
 */
async function ticketsOf(
  s: Services,
  i: PurchaseInput,
  order: StoredOrder,
  sale: CommittedSale,
): Promise<IssueResult> {
  const attested = sale.attested
    ? await ticketsFromAttests(s, order, i.sub, i.seg, sale.attested).catch(() => null)
    : null;
  return attested ?? orPending(s, order, () => signTickets(s, order, i.sub, i.seg));
}

/** Tickets, or none when co-signing failed: the sale and the order stand, and the tickets follow
 * with POST /v1/me/orders/{id}/tickets. */
async function orPending(
  s: Services,
  order: StoredOrder,
  issue: () => Promise<IssueResult>,
): Promise<IssueResult> {
  let issued: IssueResult;
  try {
    issued = await issue();
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    issued = { tickets: [], providers: [], refusals: { [s.deps.provider]: reason } };
  }
  if (issued.tickets.length === 0) {
    console.warn(
      `[${s.deps.provider}] order ${order.id}: tickets pending: ${JSON.stringify(issued.refusals)}`,
    );
  }
  return issued;
}

/**
 * Authorises the card for `total` and answers the payment id, or null for a free order: a zero
 * total never reaches the processor (which refuses to authorise nothing), so no card is needed and
 * none is charged; a card sent anyway is ignored. Anything to pay without a card is a 422.
 */
async function authorizeTotal(s: Services, i: PurchaseInput, total: Money): Promise<string | null> {
  if (total.amount === 0) return null;
  if (i.card === undefined) {
    throw problem(
      422,
      "card-required",
      "A card is required",
      `the seats cost ${total.amount} (minor units of ${total.currency}); send \`card\``,
    );
  }
  const auth = await paymentsFor(s).authorize({
    orderId: i.holdId,
    amount: total,
    card: i.card,
    idempotencyKey: await paymentKeyFor(i.seg, i.key),
  });
  if (auth.status === "declined") {
    // The seats stay held: the buyer may try another card until the hold expires.
    throw problem(
      402,
      "payment-declined",
      "Payment declined",
      `the card was declined: ${auth.reason}`,
      { reason: auth.reason },
    );
  }
  if (auth.status === "error") {
    if (auth.retryable)
      throw problem(503, "payment-unavailable", "Payment processor unavailable", auth.message);
    throw problem(
      422,
      auth.code === "idempotency_conflict" ? "idempotency-key-reused" : "payment-refused",
      "Payment request refused",
      auth.message,
    );
  }
  return auth.paymentId;
}
