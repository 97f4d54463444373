import { type SplitEntry, splitProceeds } from "../payments/split.ts";
import type { Money } from "./money.ts";
import type { Order, OrderSeat, OrderSeatRef } from "./order.ts";

/**
 * Refunding some seats of an order. The order stays `confirmed` and lists the refunded seats
 * (`refundedSeats`) until every seat is refunded, when it reads `refunded`. Money is refunded up
 * to a cumulative target (the refunded seats' prices), never by a fresh amount, so a retry or a
 * second request never refunds a seat twice. The proceeds of what is kept are the split of the
 * kept total; what a partial refund takes from each party is the order's recorded split less that,
 * so the parts refunded sum to the refunded amount to the minor unit, and a full refund takes back
 * exactly what the order recorded.
 */

/** A seat of an order as one string: "<section>/<seat>". */
export const seatRefKey = (s: OrderSeatRef) => `${s.sectionId}/${s.seatId}`;

export const sameSeat = (a: OrderSeatRef, b: OrderSeatRef) => seatRefKey(a) === seatRefKey(b);

/** The order's seats refunded so far (all of them once the order reads refunded). */
export function refundedSeatsOf(order: Order): OrderSeat[] {
  if (order.status === "refunded") return [...order.seats];
  const gone = new Set((order.refundedSeats ?? []).map(seatRefKey));
  return order.seats.filter((s) => gone.has(seatRefKey(s)));
}

const sum = (seats: readonly OrderSeat[]) => seats.reduce((n, s) => n + s.price.amount, 0);

export const refundedAmount = (order: Order): number => sum(refundedSeatsOf(order));

/** What the buyer keeps paying for: the total less the refunded seats. */
export const keptTotal = (order: Order): Money => ({
  amount: order.total.amount - refundedAmount(order),
  currency: order.total.currency,
});

/** The proceeds of what is kept: the recorded split while nothing was refunded. */
export function keptProceeds(order: Order & { proceeds?: SplitEntry[] }): SplitEntry[] {
  if (refundedAmount(order) === 0 && order.proceeds) return order.proceeds;
  return splitProceeds(keptTotal(order));
}

export type SeatRefundPlan =
  | {
      readonly ok: true;
      /** The order's refunded seats once this refund commits (earlier ones included). */
      readonly after: OrderSeatRef[];
      /** Money refunded in all once it commits. */
      readonly target: number;
      /** Seats this request adds (none: everything asked for is refunded already). */
      readonly fresh: OrderSeat[];
    }
  | { readonly ok: false; readonly unknown: OrderSeatRef[] };

/** What refunding `seats` of `order` means, or the seats the order does not have. */
export function planSeatRefund(order: Order, seats: readonly OrderSeatRef[]): SeatRefundPlan {
  const unknown = seats.filter((r) => !order.seats.some((s) => sameSeat(s, r)));
  if (unknown.length > 0) return { ok: false, unknown };
  const before = refundedSeatsOf(order);
  const fresh = order.seats.filter(
    (s) => seats.some((r) => sameSeat(s, r)) && !before.some((b) => sameSeat(b, s)),
  );
  const afterSeats = order.seats.filter(
    (s) => before.some((b) => sameSeat(b, s)) || fresh.some((f) => sameSeat(f, s)),
  );
  return {
    ok: true,
    after: afterSeats.map((s) => ({ sectionId: s.sectionId, seatId: s.seatId })),
    target: sum(afterSeats),
    fresh,
  };
}

/** The order once a refund of `after` commits: refunded in full when no seat is left. */
export function withRefundedSeats<T extends Order>(order: T, after: readonly OrderSeatRef[]): T {
  const { pendingRefund: _p, refundedSeats: _r, ...rest } = order;
  if (after.length >= order.seats.length) return { ...rest, status: "refunded" } as T;
  return { ...rest, refundedSeats: [...after] } as T;
}
