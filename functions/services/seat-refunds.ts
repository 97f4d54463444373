import { holdKey, orderKey, seatKey } from "../../shared/domain/keys.ts";
import type { OrderSeatRef } from "../../shared/domain/order.ts";
import {
  planSeatRefund,
  sameSeat,
  seatRefKey,
  withRefundedSeats,
} from "../../shared/domain/partial-refund.ts";
import type { HoldRecord, SeatValue } from "../../shared/seats/types.ts";
import { ProblemError } from "../problem.ts";
import { idemConflict, judgeClaim, type TheaterIdemRecord } from "./idempotency.ts";
import type { Services } from "./index.ts";
import type { StoredOrder } from "./order-record.ts";
import { freedSeats, freeQuota, openRefund, type RefundPayments, refundUpTo } from "./refunds.ts";
import { revokeOrderTickets } from "./revocations.ts";
import { retryingChange } from "./store.ts";
import { notFound } from "./venues.ts";

/**
 * Refunding some seats of an order (shared/domain/partial-refund.ts). Three steps, each safe to
 * repeat, so that a retry after a crash anywhere finishes the refund and refunds nothing twice:
 *  1. the order register records the refund as pending (`pendingRefund`: its seats once done).
 *     One partial refund of an order at a time: another request meets 409 until it commits;
 *  2. the money is refunded up to the cumulative target (the pending seats' prices), never by a
 *     fresh amount;
 *  3. one change commits it over the order, the theatre's idempotency claim, those seats and the
 *     hold that sold them: the seats are freed where still sold to the order, the order lists them
 *     refunded (reads refunded once no seat is left). Then their tickets are revoked.
 */

type Pending = { code: "busy" } | { code: "done"; order: StoredOrder } | { code: "not-found" };

const sameRefs = (a: readonly OrderSeatRef[], b: readonly OrderSeatRef[]) =>
  a.length === b.length && a.every((x) => b.some((y) => sameSeat(x, y)));

export async function refundSeatsFlow(
  s: Services,
  payments: RefundPayments,
  theaterId: string,
  key: string,
  orderId: string,
  seats: readonly OrderSeatRef[],
): Promise<{ order: StoredOrder; replayed: boolean }> {
  const body = { orderId, seats: seats.map(seatRefKey).sort() };
  const { order, hash, idemKey } = await openRefund(s, theaterId, key, orderId, body);
  const plan = planSeatRefund(order, seats);
  if (!plan.ok) {
    throw new ProblemError(
      422,
      "unknown-seat",
      "The order has no such seat",
      `order ${orderId} does not sell ${plan.unknown.map(seatRefKey).join(", ")}`,
    );
  }
  if (plan.fresh.length === 0) return finish(s, order, seats, true);

  const pending = await claimPending(s, orderId, seats);
  if ("code" in pending) {
    if (pending.code === "done") return finish(s, pending.order, seats, true);
    if (pending.code === "not-found") throw notFound("order", orderId);
    throw new ProblemError(
      409,
      "refund-in-progress",
      "Another refund of this order is in progress",
      "another partial refund of this order has not committed yet; retry shortly",
      {},
      { "retry-after": "2" },
    );
  }
  const after = pending.pendingRefund?.seats ?? [];
  const target = pending.seats
    .filter((x) => after.some((r) => sameSeat(r, x)))
    .reduce((n, x) => n + x.price.amount, 0);
  await refundUpTo(payments, order.paymentId, { amount: target, currency: order.total.currency });

  const claim: TheaterIdemRecord = { op: "refund", hash, id: orderId, startedAtMs: s.now() };
  const fresh = pending.seats.filter((x) => seats.some((r) => sameSeat(r, x)));
  const keys = [
    orderKey(orderId),
    idemKey,
    ...fresh.map((x) => seatKey(order.eventId, x.sectionId, x.seatId)),
    holdKey(order.holdId),
  ];
  const out = await retryingChange<unknown>(s, keys, (cur) => {
    const o = cur[0] as StoredOrder | null;
    if (o === null) return { abort: "not-found" };
    const idem = (cur[1] ?? null) as TheaterIdemRecord | null;
    if (judgeClaim(idem, "refund", hash).kind === "conflict") return { abort: "conflict" };
    // A full refund may have overtaken it: that one refunded (and freed) everything.
    if (o.status !== "confirmed" || !sameRefs(o.pendingRefund?.seats ?? [], after)) {
      return { abort: "overtaken" };
    }
    const held = cur.slice(2, 2 + fresh.length) as (SeatValue | null)[];
    const hold = (cur[2 + fresh.length] ?? null) as HoldRecord | null;
    const freed = freedSeats(orderId, held, new Map([[order.holdId, hold]]));
    return [withRefundedSeats(o, after), idem ?? claim, ...freed, hold];
  });
  if (!out.ok && out.reason === "conflict") throw idemConflict();
  if (!out.ok && out.reason === "not-found") throw notFound("order", orderId);
  const now = out.ok
    ? (out.values[0] as StoredOrder)
    : ((await s.store.get<StoredOrder>(orderKey(orderId))) ?? order);
  return finish(s, now, seats, !out.ok);
}

/** Step 1: the order records the pending refund (or says why it cannot). */
async function claimPending(
  s: Services,
  orderId: string,
  seats: readonly OrderSeatRef[],
): Promise<StoredOrder | Pending> {
  const r = await retryingChange<StoredOrder>(s, [orderKey(orderId)], ([cur]) => {
    if (cur === null || cur === undefined) return { abort: { code: "not-found" } };
    if (cur.status !== "confirmed") return { abort: { code: "done", order: cur } };
    const again = planSeatRefund(cur, seats);
    if (!again.ok) return { abort: { code: "not-found" } };
    if (again.fresh.length === 0) return { abort: { code: "done", order: cur } };
    if (cur.pendingRefund && !sameRefs(cur.pendingRefund.seats, again.after)) {
      return { abort: { code: "busy" } };
    }
    return [{ ...cur, pendingRefund: { seats: again.after } }];
  });
  return r.ok ? (r.values[0] as StoredOrder) : (r.reason as Pending);
}

/** What follows, repeated by every retry: the seats' tickets revoked, and once the whole order
 * is refunded, its hold off the buyer's quota. */
async function finish(
  s: Services,
  order: StoredOrder,
  seats: readonly OrderSeatRef[],
  replayed: boolean,
): Promise<{ order: StoredOrder; replayed: boolean }> {
  const gone = order.seats.filter((x) => seats.some((r) => sameSeat(r, x)));
  await revokeOrderTickets(s, { id: order.id, eventId: order.eventId, seats: gone }, "refunded");
  if (order.status === "refunded") await freeQuota(s, order);
  return { order, replayed };
}
