import { beforeAll, describe, expect, it } from "vitest";
import { refundChange } from "../../../../functions/services/refunds.ts";
import { orderKey, paymentKey, seatKey } from "../../../../shared/domain/keys.ts";
import { HOLD_TTL_MS, SKEW_MARGIN_MS } from "../../../../shared/seats/changes.ts";
import type { SeatValue } from "../../../../shared/seats/types.ts";
import { type MemoryCluster, startMemoryCluster } from "../../../support/memory-cluster.ts";
import { directStore } from "../../../support/seed.ts";
import { CARD_DECLINED, CARD_OK, call } from "../buyer/helpers.ts";
import {
  eventBody,
  licensedTheater,
  manage,
  newKey,
  readJson,
  type TheaterCreds,
  valuesOf,
} from "./helpers.ts";

let mc: MemoryCluster;
let odeon: TheaterCreds;
let eventId: string;
let alice: string;
let bob: string;
let orderId: string;
let paid: number;
let refundKey: string;
const seat = (seatId: string) => ({ sectionId: "stalls", seatId });
const everyValue = () =>
  [mc.acceptors.cloudflare, mc.acceptors.vercel, mc.acceptors.aws].map(valuesOf);

beforeAll(async () => {
  mc = await startMemoryCluster();
  odeon = await licensedTheater(mc, "odeon");
  alice = await mc.tokenFor("alice");
  bob = await mc.tokenFor("bob");
  const plan = await manage(mc, "cloudflare", odeon, "POST", "/v1/manage/plans", {
    key: newKey(),
    body: { format: "tessera", plan: await readJson("docs/examples/plan-small.json") },
  });
  const venue = await manage(mc, "vercel", odeon, "POST", "/v1/manage/venues", {
    key: newKey(),
    body: { name: "Odeon", address: "Wien", timezone: "Europe/Vienna", planId: plan.body.id },
  });
  const ev = await manage(mc, "aws", odeon, "POST", "/v1/manage/events", {
    key: newKey(),
    body: eventBody(mc.clock.ms, venue.body.id, plan.body.id, { premium: 4900, standard: 2900 }),
  });
  eventId = ev.body.id;
  const open = await manage(
    mc,
    "cloudflare",
    odeon,
    "POST",
    `/v1/manage/events/${eventId}/open-sales`,
  );
  expect(open.body.status).toBe("on-sale");
});

describe("orders, summary and refunds", () => {
  it("a buyer pays; the theatre lists the order with its proceeds split", async () => {
    const h = await call(mc, "cloudflare", "POST", `/v1/events/${eventId}/holds`, {
      token: alice,
      key: newKey(),
      body: { seats: [seat("stalls-a1"), seat("stalls-a2")] },
    });
    expect(h.status).toBe(201);
    const c = await call(mc, "vercel", "POST", `/v1/holds/${h.body.holdId}/confirm`, {
      token: alice,
      key: newKey(),
      body: { card: CARD_OK },
    });
    expect(c.status).toBe(201);
    orderId = c.body.order.id;
    paid = c.body.order.total.amount;
    expect(paid).toBe(9800);

    // A declined card leaves Bob's seat held (until the hold expires).
    const hb = await call(mc, "aws", "POST", `/v1/events/${eventId}/holds`, {
      token: bob,
      key: newKey(),
      body: { seats: [seat("stalls-a3")] },
    });
    const declined = await call(mc, "aws", "POST", `/v1/holds/${hb.body.holdId}/confirm`, {
      token: bob,
      key: newKey(),
      body: { card: CARD_DECLINED },
    });
    expect(declined.status).toBe(402);

    const l = await manage(mc, "aws", odeon, "GET", `/v1/manage/events/${eventId}/orders`);
    expect(l.status).toBe(200);
    expect(l.body.items).toHaveLength(1);
    const o = l.body.items[0];
    expect(o).toMatchObject({ id: orderId, status: "confirmed", total: { amount: 9800 } });
    expect(o.holdId).toBeUndefined(); // internal fields stay inside
    expect(
      o.proceeds.reduce((n: number, p: { amount: { amount: number } }) => n + p.amount.amount, 0),
    ).toBe(9800);
  });

  it("summarises seats, revenue and the proceeds split", async () => {
    const r = await manage(mc, "cloudflare", odeon, "GET", `/v1/manage/events/${eventId}/summary`);
    expect(r.status).toBe(200);
    const total = r.body.seats.total;
    expect(r.body.seats).toEqual({ total, sold: 2, held: 1, available: total - 3 });
    expect(r.body.revenue).toEqual({ amount: 9800, currency: "EUR" });
    const split = r.body.proceeds.reduce(
      (n: number, p: { amount: { amount: number } }) => n + p.amount.amount,
      0,
    );
    expect(split).toBe(9800);
    expect(r.body.proceeds.map((p: { party: string }) => p.party)).toContain("theater");
  });

  it("refunds: payment refunded, order refunded, seats free again for a new hold", async () => {
    const key = newKey();
    refundKey = key;
    const r = await manage(mc, "aws", odeon, "POST", `/v1/manage/orders/${orderId}/refund`, {
      key,
    });
    expect(r.status).toBe(200);
    expect(r.body.status).toBe("refunded");
    const store = directStore(mc.acceptors, () => mc.clock.ms);
    const [order, s1, s2] = await store.getMany<{ status: string; paymentId: string } & SeatValue>([
      orderKey(orderId),
      seatKey(eventId, "stalls", "stalls-a1"),
      seatKey(eventId, "stalls", "stalls-a2"),
    ]);
    expect(order!.status).toBe("refunded");
    expect(s1).toEqual({ state: "free" });
    expect(s2).toEqual({ state: "free" });
    const pay = await store.get<{ payment: { status: string; refunded: number } }>(
      paymentKey(order!.paymentId),
    );
    expect(pay!.payment).toMatchObject({ status: "refunded", refunded: 9800 });

    const h = await call(mc, "vercel", "POST", `/v1/events/${eventId}/holds`, {
      token: bob,
      key: newKey(),
      body: { seats: [seat("stalls-a1")] },
    });
    expect(h.status).toBe(201);

    // Same key again: replays, nothing changes.
    const before = everyValue();
    const again = await manage(
      mc,
      "cloudflare",
      odeon,
      "POST",
      `/v1/manage/orders/${orderId}/refund`,
      {
        key,
      },
    );
    expect(again.status).toBe(200);
    expect(again.body.status).toBe("refunded");
    const fresh = await manage(mc, "vercel", odeon, "POST", `/v1/manage/orders/${orderId}/refund`, {
      key: newKey(),
    });
    expect(fresh.status).toBe(200);
    expect(everyValue()).toEqual(before);
  });

  it("the summary counts the refund", async () => {
    const r = await manage(mc, "vercel", odeon, "GET", `/v1/manage/events/${eventId}/summary`);
    expect(r.body.orders).toEqual({ confirmed: 0, refunded: 1, other: 0 });
    expect(r.body.revenue.amount).toBe(0);
    expect(r.body.refunded.amount).toBe(9800);
    expect(r.body.seats.sold).toBe(0);
    expect(r.body.seats.held).toBe(2); // Bob's declined hold and his new one
  });

  it("refuses: unknown order 404, key reused for another order 422, missing key 400", async () => {
    expect(
      (await manage(mc, "aws", odeon, "POST", "/v1/manage/orders/o_nope/refund", { key: newKey() }))
        .status,
    ).toBe(404);
    const h = await call(mc, "cloudflare", "POST", `/v1/events/${eventId}/holds`, {
      token: alice,
      key: newKey(),
      body: { seats: [seat("stalls-b1")] },
    });
    const c = await call(mc, "cloudflare", "POST", `/v1/holds/${h.body.holdId}/confirm`, {
      token: alice,
      key: newKey(),
      body: { card: CARD_OK },
    });
    expect(c.status).toBe(201);
    const before = everyValue();
    const reused = await manage(
      mc,
      "aws",
      odeon,
      "POST",
      `/v1/manage/orders/${c.body.order.id}/refund`,
      { key: refundKey },
    );
    expect(reused.status).toBe(422);
    const none = await manage(
      mc,
      "aws",
      odeon,
      "POST",
      `/v1/manage/orders/${c.body.order.id}/refund`,
    );
    expect(none.status).toBe(400);
    expect(everyValue()).toEqual(before);
  });

  it("a declined card left the seat held until expiry; then it is free for anyone", async () => {
    const take = () =>
      call(mc, "cloudflare", "POST", `/v1/events/${eventId}/holds`, {
        token: alice,
        key: newKey(),
        body: { seats: [seat("stalls-a3")] },
      });
    expect((await take()).status).toBe(409);
    mc.clock.ms += HOLD_TTL_MS + SKEW_MARGIN_MS + 1;
    expect((await take()).status).toBe(201);
  });
});

describe("refundChange", () => {
  const order = {
    id: "o1",
    theaterId: "t",
    eventId: "e",
    buyerId: "alice",
    seats: ["a", "b", "c", "d"].map((x) => ({
      seatId: x,
      sectionId: "s",
      categoryId: "c",
      price: { amount: 100, currency: "EUR" as const },
    })),
    total: { amount: 400, currency: "EUR" as const },
    status: "confirmed" as const,
    paymentId: "p",
    createdAt: "2026-11-25T12:00:00.000Z",
    idempotencyKey: "k",
    proceeds: [],
    holdId: "h1",
  };
  const claim = { op: "refund" as const, hash: "x", id: "o1", startedAtMs: 0 };
  const f = refundChange({ orderId: "o1", claim, seatCount: 4, holdIds: ["h1"] });
  const sold = { state: "sold", orderId: "o1", holdId: "h1" };
  const heldBySale = { state: "held", holdId: "h1", expiresAtMs: 1 };
  const later = { state: "held", holdId: "h2", expiresAtMs: 9 };
  const soldRecord = {
    state: "sold",
    seats: [],
    expiresAtMs: 1,
    caller: "b",
    hash: "h",
    orderId: "o1",
    confirm: { key: "k", hash: "h" },
  };

  it("frees seats sold to the order, or still held by the hold that sold them; leaves others", () => {
    const out = f([order, null, sold, heldBySale, later, null, soldRecord]) as unknown[];
    expect(out[0]).toMatchObject({ status: "refunded", proceeds: [], holdId: "h1" });
    expect(out[1]).toEqual(claim);
    expect(out.slice(2, 6)).toEqual([{ state: "free" }, { state: "free" }, later, null]);
    expect(out[6]).toEqual(soldRecord);
  });

  it("is idempotent: on its own result it changes nothing", () => {
    const first = f([order, null, sold, heldBySale, later, null, soldRecord]) as unknown[];
    expect(f(first)).toEqual({ abort: { code: "already-refunded", order: first[0] } });
  });

  it("refuses an order that is not confirmed, and a key used for another request", () => {
    expect(f([{ ...order, status: "pending" }, null, null, null, null, null, null])).toEqual({
      abort: { code: "invalid-status", status: "pending" },
    });
    expect(f([order, { ...claim, hash: "other" }, null, null, null, null, null])).toEqual({
      abort: { code: "conflict" },
    });
  });
});
