import { toBase64Url } from "../../shared/crypto/base64.ts";
import { BUYER_ID_PATTERN } from "../../shared/domain/ids.ts";
import { buyerOrderKey, eventOrderKey, idemKey, orderKey } from "../../shared/domain/keys.ts";
import type { Money } from "../../shared/domain/money.ts";
import {
  type CardInput,
  confirmOrder,
  newOrder,
  type OrderSeat,
} from "../../shared/domain/order.ts";
import { splitProceeds } from "../../shared/payments/split.ts";
import { SKEW_MARGIN_MS } from "../../shared/seats/changes.ts";
import { SEAT_ERROR_STATUS } from "../../shared/seats/service.ts";
import type { HoldRecord } from "../../shared/seats/types.ts";
import { clip } from "../../shared/tickets/derive.ts";
import { ProblemError } from "../problem.ts";
import type { SeatLookup } from "./catalog.ts";
import { priceHold, readOwnHold } from "./holds.ts";
import type { Services } from "./index.ts";
import type { OrderIndexEntry, StoredOrder } from "./order-record.ts";
import { paymentsFor } from "./payments.ts";
import { outcomeUnknown, RETRY_AFTER_S } from "./store.ts";
import { type IssueResult, issueTickets } from "./tickets.ts";

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
  const entry: OrderIndexEntry = {
    orderId: order.id,
    eventId: order.eventId,
    createdAt: order.createdAt,
  };
  const keys = [
    orderKey(order.id),
    buyerOrderKey(seg, order.id),
    eventOrderKey(order.eventId, order.id),
  ];
  const w = await s.store.change<StoredOrder | OrderIndexEntry>(keys, ([cur]) =>
    cur != null ? { abort: cur } : [order, entry, entry],
  );
  return (w.ok ? order : w.reason) as StoredOrder;
}

export interface PurchaseInput {
  readonly sub: string;
  readonly seg: string;
  readonly key: string;
  readonly holdId: string;
  /** Needed only when there is something to pay; a free order ignores it. */
  readonly card?: CardInput | undefined;
}

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
  const hold = await readOwnHold(s, i.seg, i.holdId);
  refuseUnconfirmable(s, i, hold);
  const { eventId, event, lookup, priced } = await priceHold(s, hold.seats, hold.state === "held");
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
  const paymentId = await authorizeTotal(s, i, priced.total);
  const authorizeMs = since(authorizing);
  const sale = await commitSale(s, i, hold, paymentId);

  const draft = confirmOrder(
    newOrder({
      id: sale.orderId,
      theaterId: event.theaterId,
      eventId,
      buyerId: orderBuyerId(i.sub, i.seg),
      seats: withDisplay(priced.seats, lookup),
      total: priced.total,
      now: s.now(),
      idempotencyKey: i.key,
    }),
    paymentId,
  );
  if (!draft.ok) throw new Error("a new order must be confirmable");
  const after = await followUpSale(s, i, sale, paymentId, {
    ...draft.order,
    proceeds: splitProceeds(priced.total),
    holdId: i.holdId,
  });
  const order = after.order;
  const issued = await ticketsOrPending(s, i, order);
  return { order, issued, processorMs: authorizeMs + after.processorMs };
}

type CommittedSale = Extract<
  Awaited<ReturnType<Services["seats"]["confirm"]>>,
  { ok: true }
>["value"];

/** The sale's commit: the sold hold, or the refusal as a problem (the authorisation voided
 * unless the sale may still have committed, or another attempt of this request may capture it). */
async function commitSale(
  s: Services,
  i: PurchaseInput,
  hold: HoldRecord,
  paymentId: string | null,
): Promise<CommittedSale> {
  const c = await s.seats.confirm(i.seg, i.key, { holdId: i.holdId, record: hold, settle: false });
  if (c.ok) return c.value;
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
 * The sale is committed: capturing, recording the order and moving the seats to "sold" are
 * independent, idempotent follow-ups (a retry repeats them harmlessly, the seat sweep settles
 * seats a failed settle left), so they run together. All finish before any answer, so a failure
 * of one never leaves another running unseen. A free order has nothing to capture. Answers the
 * stored order and the processor's share of the time (what the capture took beyond our writes).
 */
async function followUpSale(
  s: Services,
  i: PurchaseInput,
  sale: CommittedSale,
  paymentId: string | null,
  order: StoredOrder,
): Promise<{ order: StoredOrder; processorMs: number }> {
  const following = performance.now();
  let ownMs = 0;
  const timed = <T>(p: Promise<T>) =>
    p.finally(() => {
      ownMs = Math.max(ownMs, since(following));
    });
  const settled = timed(s.seats.settleSold(i.holdId, sale.sold)).catch(() => null);
  const [captured, written] = await Promise.allSettled([
    paymentId === null ? Promise.resolve(null) : paymentsFor(s).capture(paymentId, order.total),
    timed(writeOrder(s, i.seg, order)),
  ]);
  const seatsSold = await settled;
  const processorMs = Math.max(0, since(following) - ownMs);
  if (!seatsSold?.ok) console.warn(`[${s.deps.provider}] hold ${i.holdId}: seats not settled yet`);
  if (written.status === "rejected") throw written.reason;
  if (captured.status === "rejected") throw captured.reason;
  const cap = captured.value;
  if (cap !== null && cap.status !== "captured") {
    console.error(`[${s.deps.provider}] order ${sale.orderId}: capture refused: ${cap.message}`);
    throw problem(
      503,
      "payment-capture-pending",
      "Payment not captured yet",
      `the sale is recorded; capture failed (${cap.code}); retry the same request`,
    );
  }
  return { order: written.value, processorMs };
}

/** The order's tickets; when co-signing fails the sale and the order stand, and the tickets
 * follow with POST /v1/me/orders/{id}/tickets. */
async function ticketsOrPending(
  s: Services,
  i: PurchaseInput,
  order: StoredOrder,
): Promise<IssueResult> {
  let issued: IssueResult;
  try {
    issued = await issueTickets(s, order, i.sub, i.seg);
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
