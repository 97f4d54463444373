import { describe, expect, it } from "vitest";
import smallPlan from "../../docs/examples/plan-small.json" with { type: "json" };
import { newEvent } from "../../shared/domain/event.ts";
import { HOLD_SEATS_MAX, Hold, isHoldActive, newHold } from "../../shared/domain/hold.ts";
import { BuyerId, Id } from "../../shared/domain/ids.ts";
import {
  cancelOrder,
  confirmOrder,
  newOrder,
  Order,
  refundOrder,
} from "../../shared/domain/order.ts";
import { priceSeats } from "../../shared/domain/pricing.ts";
import { indexSeats } from "../../shared/domain/seat-index.ts";
import { validatePlan } from "../../shared/plans/validate.ts";

const plan = (() => {
  const r = validatePlan(smallPlan);
  if (!r.ok) throw new Error("example plan invalid");
  return r.plan;
})();
const event = (() => {
  const r = newEvent("e1", "t1", {
    title: "Hamlet",
    startsAt: "2026-04-01T19:30:00+02:00",
    venueId: "v1",
    planId: plan.id,
    priceCategories: [
      { categoryId: "premium", price: { amount: 4500, currency: "EUR" } },
      { categoryId: "standard", price: { amount: 2900, currency: "EUR" } },
    ],
    salesWindow: { opensAt: "2026-03-01T10:00:00+01:00", closesAt: "2026-04-01T18:00:00+02:00" },
  });
  if (!r.ok) throw new Error();
  return r.event;
})();
const NOW = Date.parse("2026-03-10T12:00:00Z");

describe("ids", () => {
  it("accepts key-safe ids only", () => {
    expect(Id.safeParse("seat_A-12").success).toBe(true);
    expect(Id.safeParse("x".repeat(64)).success).toBe(true);
    for (const bad of ["", "x".repeat(65), "a/b", "a b", "ä", "a.b"]) {
      expect(Id.safeParse(bad).success, bad).toBe(false);
    }
    expect(BuyerId.safeParse("auth0|5f1c2a").success).toBe(true);
    expect(BuyerId.safeParse("google-oauth2|1234@x.y:z").success).toBe(true);
    expect(BuyerId.safeParse("a/b").success).toBe(false);
    expect(BuyerId.safeParse("a b").success).toBe(false);
  });
});

describe("priceSeats", () => {
  const seats = indexSeats(plan);

  it("prices seats by category and totals them", () => {
    const r = priceSeats(event, seats, ["stalls-a1", "stalls-b1", "balcony-b8"]);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.seats.map((s) => [s.seatId, s.sectionId, s.categoryId, s.price.amount])).toEqual([
      ["stalls-a1", "stalls", "premium", 4500],
      ["stalls-b1", "stalls", "standard", 2900],
      ["balcony-b8", "balcony", "standard", 2900],
    ]);
    expect(r.total).toEqual({ amount: 10300, currency: "EUR" });
  });

  it("names every unknown or unpriced seat", () => {
    const onlyPremium = { ...event, priceCategories: event.priceCategories.slice(0, 1) };
    const r = priceSeats(onlyPremium, seats, ["stalls-a1", "nope", "stalls-b1"]);
    expect(r.ok ? [] : r.errors.map((e) => `${e.code} ${e.path}`)).toEqual([
      "unknown_seat /seatIds/1",
      "unpriced_category /seatIds/2",
    ]);
  });
});

describe("orders", () => {
  const priced = priceSeats(event, indexSeats(plan), ["stalls-a1", "stalls-a2"]);
  if (!priced.ok) throw new Error();
  const order = newOrder({
    id: "o1",
    theaterId: "t1",
    eventId: "e1",
    buyerId: "auth0|alice",
    seats: priced.seats,
    total: priced.total,
    now: NOW,
    idempotencyKey: "2f1e9c4a-7d1b-4c55-9b3e-1a2b3c4d5e6f",
  });

  it("starts pending with a consistent total", () => {
    expect(order.status).toBe("pending");
    expect(order.paymentId).toBeNull();
    expect(order.createdAt).toBe("2026-03-10T12:00:00.000Z");
    expect(Order.safeParse({ ...order, total: { amount: 1, currency: "EUR" } }).success).toBe(
      false,
    );
  });

  it("moves pending → confirmed → refunded, pending → cancelled, and nothing else", () => {
    const confirmed = confirmOrder(order, "pay_1");
    expect(confirmed.ok && confirmed.order).toMatchObject({
      status: "confirmed",
      paymentId: "pay_1",
    });
    if (!confirmed.ok) return;
    const refunded = refundOrder(confirmed.order);
    expect(refunded.ok && refunded.order.status).toBe("refunded");
    const cancelled = cancelOrder(order);
    expect(cancelled.ok && cancelled.order.status).toBe("cancelled");
    expect(confirmOrder(confirmed.order, "pay_2").ok).toBe(false);
    expect(cancelOrder(confirmed.order).ok).toBe(false);
    expect(refundOrder(order).ok).toBe(false);
    if (!cancelled.ok || !refunded.ok) return;
    expect(confirmOrder(cancelled.order, "pay_1").ok).toBe(false);
    expect(refundOrder(refunded.order).ok).toBe(false);
  });
});

describe("holds", () => {
  it("expire after their duration", () => {
    const h = newHold({
      id: "h1",
      eventId: "e1",
      buyerId: "auth0|alice",
      seatIds: ["stalls-a1"],
      now: NOW,
      durationMs: 60_000,
    });
    expect(isHoldActive(h, NOW + 59_999)).toBe(true);
    expect(isHoldActive(h, NOW + 60_000)).toBe(false);
  });

  it("take 1 to HOLD_SEATS_MAX distinct seats", () => {
    const base = { id: "h1", eventId: "e1", buyerId: "b", expiresAt: "2026-03-10T12:10:00Z" };
    expect(Hold.safeParse({ ...base, seatIds: [] }).success).toBe(false);
    expect(Hold.safeParse({ ...base, seatIds: ["a", "a"] }).success).toBe(false);
    const many = Array.from({ length: HOLD_SEATS_MAX + 1 }, (_, i) => `s${i}`);
    expect(Hold.safeParse({ ...base, seatIds: many }).success).toBe(false);
    expect(Hold.safeParse({ ...base, seatIds: many.slice(1) }).success).toBe(true);
  });
});
