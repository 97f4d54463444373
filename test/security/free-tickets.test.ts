import { beforeAll, describe, expect, it } from "vitest";
import { verifyTicket } from "../../shared/tickets/verify.ts";
import { CARD_OK, call, newKey } from "../functions/routes/buyer/helpers.ts";
import { licensedTheater, manage, type TheaterCreds } from "../functions/routes/manage/helpers.ts";
import { type MemoryCluster, startMemoryCluster } from "../support/memory-cluster.ts";
import { directStore, type Seeded, seedEvent } from "../support/seed.ts";

/**
 * Issue #11 item 9: a seat priced 0 could be listed and held but never bought (the card processor
 * refused a zero amount: 422 "nothing to pay"). Free orders now skip the processor: no card needed,
 * no payment record, paymentId null, tickets as for any order, refunds that move no money.
 */

let mc: MemoryCluster;
let free: Seeded;
let paid: Seeded;
let alice: string;
let theater: TheaterCreds;

const paymentRecords = () =>
  [...mc.acceptors.cloudflare.records.keys()].filter((k) => k.startsWith("payment/")).length;

beforeAll(async () => {
  mc = await startMemoryCluster();
  const store = directStore(mc.acceptors, () => mc.clock.ms);
  free = await seedEvent(store, { nowMs: mc.clock.ms, seatPrice: 0, gaPrice: 0 });
  paid = await seedEvent(store, { nowMs: mc.clock.ms, eventId: "ev-paid", planId: "pl-paid" });
  alice = await mc.tokenFor("alice");
  theater = await licensedTheater(mc, free.theaterId);
});

const hold = async (ev: Seeded, seats: unknown[]) => {
  const r = await call(mc, "cloudflare", "POST", `/v1/events/${ev.eventId}/holds`, {
    token: alice,
    key: newKey(),
    body: { seats },
  });
  expect(r.status).toBe(201);
  return r.body;
};

describe("free tickets", () => {
  it("hold → confirm without a card → order with total 0, no payment, verifiable tickets", async () => {
    const h = await hold(free, [free.seats[0], free.seats[1]]);
    expect(h.total).toEqual({ amount: 0, currency: "EUR" });
    const before = paymentRecords();
    const r = await call(mc, "vercel", "POST", `/v1/holds/${h.holdId}/confirm`, {
      token: alice,
      key: newKey(),
      body: {},
    });
    expect(r.status).toBe(201);
    expect(r.body.order).toMatchObject({
      status: "confirmed",
      total: { amount: 0, currency: "EUR" },
      paymentId: null,
    });
    expect(r.body.tickets).toHaveLength(2);
    expect(paymentRecords()).toBe(before);
    const v = await verifyTicket(r.body.tickets[0].ticket, mc.tc.cluster);
    expect(v.valid).toBe(true);
    const orders = await call(mc, "aws", "GET", "/v1/me/orders", { token: alice });
    expect(orders.body.items.map((o: { id: string }) => o.id)).toContain(r.body.order.id);
  });

  it("ignores a card sent with a free order (the processor is never called)", async () => {
    const h = await hold(free, [free.seats[2]]);
    const before = paymentRecords();
    const r = await call(mc, "aws", "POST", `/v1/holds/${h.holdId}/confirm`, {
      token: alice,
      key: newKey(),
      body: { card: CARD_OK },
    });
    expect(r.status).toBe(201);
    expect(r.body.order.paymentId).toBeNull();
    expect(paymentRecords()).toBe(before);
  });

  it("replays a free confirm with the same key (same order, no second one)", async () => {
    const h = await hold(free, [free.seats[3]]);
    const key = newKey();
    const body = {};
    const a = await call(mc, "cloudflare", "POST", `/v1/holds/${h.holdId}/confirm`, {
      token: alice,
      key,
      body,
    });
    const b = await call(mc, "vercel", "POST", `/v1/holds/${h.holdId}/confirm`, {
      token: alice,
      key,
      body,
    });
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(b.body.order.id).toBe(a.body.order.id);
  });

  it("a theatre refunds a free order: seats back on sale, no money moved", async () => {
    const h = await hold(free, [free.seats[4]]);
    const c = await call(mc, "vercel", "POST", `/v1/holds/${h.holdId}/confirm`, {
      token: alice,
      key: newKey(),
      body: {},
    });
    expect(c.status).toBe(201);
    const r = await manage(
      mc,
      "aws",
      theater,
      "POST",
      `/v1/manage/orders/${c.body.order.id}/refund`,
      { key: newKey() },
    );
    expect(r.status).toBe(200);
    expect(r.body.status).toBe("refunded");
    const again = await call(mc, "aws", "POST", `/v1/events/${free.eventId}/holds`, {
      token: alice,
      key: newKey(),
      body: { seats: [free.seats[4]] },
    });
    expect(again.status).toBe(201);
  });

  it("still requires a card when something is to pay: 422 card-required, seats stay held", async () => {
    const h = await hold(paid, [paid.seats[0]]);
    const r = await call(mc, "vercel", "POST", `/v1/holds/${h.holdId}/confirm`, {
      token: alice,
      key: newKey(),
      body: {},
    });
    expect(r.status).toBe(422);
    expect(r.body.type).toBe("https://tessera.dev/problems/card-required");
    const g = await call(mc, "aws", "GET", `/v1/holds/${h.holdId}`, { token: alice });
    expect(g.body.state).toBe("held");
  });
});
