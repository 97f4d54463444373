import type { Event } from "./event.ts";
import { type Money, sumMoney } from "./money.ts";
import type { OrderSeat } from "./order.ts";
import type { DomainIssue } from "./result.ts";
import type { SeatIndex } from "./seat-index.ts";

export type PricingResult =
  | { readonly ok: true; readonly seats: readonly OrderSeat[]; readonly total: Money }
  | { readonly ok: false; readonly errors: readonly DomainIssue[] };

/**
 * Prices seats at the event's current prices: the lines and total of an order.
 * Codes: no_prices, unknown_seat, unpriced_category.
 */
export function priceSeats(
  event: Event,
  seats: SeatIndex,
  seatIds: readonly string[],
): PricingResult {
  const currency = event.priceCategories[0]?.price.currency;
  if (!currency) {
    return {
      ok: false,
      errors: [{ path: "", code: "no_prices", message: "the event has no prices" }],
    };
  }
  const prices = new Map(event.priceCategories.map((p) => [p.categoryId, p.price]));
  const errors: DomainIssue[] = [];
  const lines: OrderSeat[] = [];
  seatIds.forEach((seatId, i) => {
    const loc = seats.get(seatId);
    if (!loc) {
      errors.push({
        path: `/seatIds/${i}`,
        code: "unknown_seat",
        message: `the plan has no seat ${seatId}`,
      });
      return;
    }
    const price = prices.get(loc.categoryId);
    if (!price) {
      errors.push({
        path: `/seatIds/${i}`,
        code: "unpriced_category",
        message: `seat ${seatId} is in category ${loc.categoryId}, which is not on sale`,
      });
      return;
    }
    lines.push({ seatId, sectionId: loc.sectionId, categoryId: loc.categoryId, price });
  });
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    seats: lines,
    total: sumMoney(
      lines.map((l) => l.price),
      currency,
    ),
  };
}
