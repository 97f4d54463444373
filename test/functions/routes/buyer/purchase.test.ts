import { beforeAll, describe, expect, it } from "vitest";
import { TICKET_SIGN_PATH } from "../../../../functions/peers/ticket-sign-client.ts";
import { eventKey, paymentKey } from "../../../../shared/domain/keys.ts";
import { HOLD_TTL_MS, SKEW_MARGIN_MS } from "../../../../shared/seats/changes.ts";
import { verifyExport } from "../../../../shared/tickets/export.ts";
import { verifyTicket } from "../../../../shared/tickets/verify.ts";
import { type MemoryCluster, startMemoryCluster } from "../../../support/memory-cluster.ts";
import { directStore, type Seeded, seedEvent } from "../../../support/seed.ts";
import { CARD_DECLINED, CARD_OK, call, newKey } from "./helpers.ts";

let mc: MemoryCluster;
let ev: Seeded;
let alice: string;
let bob: string;

beforeAll(async () => {
  mc = await startMemoryCluster();
  ev = await seedEvent(
    directStore(mc.acceptors, () => mc.clock.ms),
    { nowMs: mc.clock.ms },
  );
  alice = await mc.tokenFor("alice");
  bob = await mc.tokenFor("bob");
});

const seat = (i: number) => ev.seats[i]!;
const hold = (token: string, seats: unknown[], key = newKey(), p = "cloudflare" as const) =>
  call(mc, p, "POST", `/v1/events/${ev.eventId}/holds`, { token, key, body: { seats } });
const confirm = (
  token: string,
  holdId: string,
  card = CARD_OK,
  key = newKey(),
  p: "cloudflare" | "vercel" | "aws" = "vercel",
) => call(mc, p, "POST", `/v1/holds/${holdId}/confirm`, { token, key, body: { card } });

describe("buying seats", () => {
  let holdId: string;
  let orderId: string;
  let ticketIds: string[];

  it("holds seats: 201 with expiry, total and Location", async () => {
    const r = await hold(alice, [seat(0), seat(1)]);
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      eventId: ev.eventId,
      state: "held",
      seats: [seat(0), seat(1)],
      total: { amount: 5000, currency: "EUR" },
    });
    expect(Date.parse(r.body.expiresAt)).toBe(mc.clock.ms + HOLD_TTL_MS);
    expect(r.headers.get("location")).toBe(`/v1/holds/${r.body.holdId}`);
    holdId = r.body.holdId;
  });

  it("another buyer cannot take held seats: 409 listing them", async () => {
    const r = await hold(bob, [seat(1), seat(2)], newKey(), "aws" as "cloudflare");
    expect(r.status).toBe(409);
    expect(r.body.seats).toEqual([seat(1)]);
  });

  it("another buyer cannot see, release or confirm the hold (404)", async () => {
    expect((await call(mc, "aws", "GET", `/v1/holds/${holdId}`, { token: bob })).status).toBe(404);
    expect((await call(mc, "aws", "DELETE", `/v1/holds/${holdId}`, { token: bob })).status).toBe(
      404,
    );
    expect((await confirm(bob, holdId)).status).toBe(404);
    const mine = await call(mc, "aws", "GET", `/v1/holds/${holdId}`, { token: alice });
    expect(mine.status).toBe(200);
    expect(mine.body.state).toBe("held");
  });

  it("confirms with a test card: order, proceeds and tickets signed by the stores that decided the sale", async () => {
    const key = newKey();
    const r = await confirm(alice, holdId, CARD_OK, key);
    expect(r.status).toBe(201);
    // The processor's share of the wait, apart (the bench subtracts it from the confirm).
    expect(r.headers.get("server-timing")).toMatch(/(^|, )processor;dur=\d+(\.\d)?$/);
    const { order, tickets, ticketsPending } = r.body;
    expect(order).toMatchObject({
      eventId: ev.eventId,
      status: "confirmed",
      buyerId: "alice",
      total: { amount: 5000, currency: "EUR" },
      holdId,
    });
    const split = (order.proceeds as { amount: { amount: number } }[]).reduce(
      (sum, p) => sum + p.amount.amount,
      0,
    );
    expect(split).toBe(order.total.amount);
    expect(ticketsPending).toBe(false);
    expect(tickets).toHaveLength(2);
    for (const t of tickets) {
      const v = await verifyTicket(t.ticket, mc.tc.cluster);
      expect(v.valid).toBe(true);
      if (v.valid) {
        // Signed in the accept replies of the two stores whose yes decided the sale.
        expect(v.providers.length).toBeGreaterThanOrEqual(2);
        expect(v.claims).toMatchObject({ hld: "alice", ord: order.id, evt: ev.eventId });
        // What the ticket is for, readable offline (the seeded event has no venue record).
        expect(v.claims).toMatchObject({ evn: "Seeded performance" });
        expect(v.claims.evs).toBe(Math.floor(Date.parse(order.eventDisplay.startsAt) / 1000));
        expect(v.claims).not.toHaveProperty("ven");
      }
      // The compact door form carries two signatures and verifies alone.
      expect(t.compact.split(".")).toHaveLength(6);
    }
    orderId = order.id;
    ticketIds = tickets.map((t: { id: string }) => t.id);

    // The replay of the same request on ANOTHER provider: same order, same tickets, one payment.
    const again = await confirm(alice, holdId, CARD_OK, key, "aws");
    expect(again.status).toBe(201);
    expect(again.body.order).toEqual(order);
    expect(again.body.tickets.map((t: { id: string }) => t.id)).toEqual(ticketIds);
    const payments = [...mc.acceptors.cloudflare.records.keys()].filter((k) =>
      k.startsWith("payment/"),
    );
    expect(payments).toEqual([paymentKey(order.paymentId)]);
  });

  it("a second confirm of the sold hold with another key is refused (409), nothing charged", async () => {
    const r = await confirm(alice, holdId);
    expect(r.status).toBe(409);
  });

  it("lists the buyer's orders and tickets; others get 404", async () => {
    const list = await call(mc, "cloudflare", "GET", "/v1/me/orders", { token: alice });
    expect(list.status).toBe(200);
    expect(list.body.items.map((o: { id: string }) => o.id)).toEqual([orderId]);
    const one = await call(mc, "aws", "GET", `/v1/me/orders/${orderId}`, { token: alice });
    expect(one.status).toBe(200);
    expect(one.body.tickets.map((t: { id: string }) => t.id)).toEqual(ticketIds);
    expect((await call(mc, "aws", "GET", `/v1/me/orders/${orderId}`, { token: bob })).status).toBe(
      404,
    );
    expect((await call(mc, "aws", "GET", "/v1/me/orders", { token: bob })).body.items).toEqual([]);
    const mine = await call(mc, "vercel", "GET", "/v1/me/tickets", { token: alice });
    expect(mine.body.items.map((t: { id: string }) => t.id).sort()).toEqual([...ticketIds].sort());
  });

  it("exports the tickets as a signed file that verifies offline", async () => {
    const r = await call(mc, "aws", "GET", "/v1/me/tickets/export", { token: alice });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-disposition")).toMatch(/^attachment/);
    expect(r.body.tickets).toHaveLength(2);
    const self = await verifyExport(r.body);
    expect(self).toMatchObject({ valid: false, selfConsistent: true, authenticated: false });
    const trusted = await verifyExport(r.body, { trusted: mc.tc.cluster });
    expect(trusted).toMatchObject({ valid: true, keysSource: "trusted" });
    expect(trusted.exportSignatures).toEqual([
      { provider: "aws", kid: expect.any(String), valid: true },
    ]);
  });

  it("serves a ticket's QR code as SVG to its holder only", async () => {
    const r = await call(mc, "cloudflare", "GET", `/v1/tickets/${ticketIds[0]}/qr.svg`, {
      token: alice,
    });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("image/svg+xml");
    expect(String(r.body)).toMatch(/<svg[\s\S]*<\/svg>/);
    const other = await call(mc, "cloudflare", "GET", `/v1/tickets/${ticketIds[0]}/qr.svg`, {
      token: bob,
    });
    expect(other.status).toBe(404);
  });

  it("releases a hold: 204, the seats are free again", async () => {
    const h = await hold(alice, [seat(5)]);
    const del = await call(mc, "vercel", "DELETE", `/v1/holds/${h.body.holdId}`, { token: alice });
    expect(del.status).toBe(204);
    expect((await hold(bob, [seat(5)])).status).toBe(201);
  });
});

describe("refusals", () => {
  it("needs a buyer token (401)", async () => {
    const r = await call(mc, "cloudflare", "POST", `/v1/events/${ev.eventId}/holds`, {
      key: newKey(),
      body: { seats: [seat(10)] },
    });
    expect(r.status).toBe(401);
  });

  it("needs an Idempotency-Key on holds and confirms (400)", async () => {
    const r = await call(mc, "cloudflare", "POST", `/v1/events/${ev.eventId}/holds`, {
      token: alice,
      body: { seats: [seat(10)] },
    });
    expect(r.status).toBe(400);
    expect(r.headers.get("content-type")).toBe("application/problem+json");
    const c = await call(mc, "cloudflare", "POST", "/v1/holds/h123/confirm", {
      token: alice,
      body: { card: CARD_OK },
    });
    expect(c.status).toBe(400);
  });

  it("refuses the same key with a different body (422), replays it with the same (201)", async () => {
    const key = newKey();
    const first = await hold(alice, [seat(11)], key);
    expect(first.status).toBe(201);
    const replay = await hold(alice, [seat(11)], key, "aws" as "cloudflare");
    expect(replay.status).toBe(201);
    expect(replay.body.holdId).toBe(first.body.holdId);
    const other = await hold(alice, [seat(12)], key);
    expect(other.status).toBe(422);
  });

  it("refuses unknown seats (422) and unknown events (404)", async () => {
    const r = await hold(alice, [{ sectionId: "stalls", seatId: "nope" }]);
    expect(r.status).toBe(422);
    expect(r.body.seats).toEqual([{ sectionId: "stalls", seatId: "nope" }]);
    const wrongSection = await hold(alice, [{ sectionId: "floor", seatId: seat(0).seatId }]);
    expect(wrongSection.status).toBe(422);
    const none = await call(mc, "cloudflare", "POST", "/v1/events/ev-none/holds", {
      token: alice,
      key: newKey(),
      body: { seats: [seat(0)] },
    });
    expect(none.status).toBe(404);
  });

  it("sells general-admission places like seats", async () => {
    const r = await hold(alice, [{ sectionId: ev.gaAreaId, seatId: `${ev.gaAreaId}-3` }]);
    expect(r.status).toBe(201);
    expect(r.body.total).toEqual({ amount: 1500, currency: "EUR" });
    const past = await hold(alice, [{ sectionId: ev.gaAreaId, seatId: `${ev.gaAreaId}-999` }]);
    expect(past.status).toBe(422);
  });

  it("hides events the buyer may not see (404) and refuses closed sales (409)", async () => {
    const store = directStore(mc.acceptors, () => mc.clock.ms);
    const secret = await seedEvent(store, {
      nowMs: mc.clock.ms,
      visibility: "authorised",
      allowedBuyers: ["bob"],
    });
    const closed = await seedEvent(store, { nowMs: mc.clock.ms, status: "sales-closed" });
    const body = (e: Seeded) => ({ seats: [e.seats[0]] });
    const path = (e: Seeded) => `/v1/events/${e.eventId}/holds`;
    const a = await call(mc, "vercel", "POST", path(secret), {
      token: alice,
      key: newKey(),
      body: body(secret),
    });
    expect(a.status).toBe(404);
    const b = await call(mc, "vercel", "POST", path(secret), {
      token: bob,
      key: newKey(),
      body: body(secret),
    });
    expect(b.status).toBe(201);
    const c = await call(mc, "vercel", "POST", path(closed), {
      token: alice,
      key: newKey(),
      body: body(closed),
    });
    expect(c.status).toBe(409);
  });
});

describe("tickets when a provider is away", () => {
  it("issues with two signatures while one provider is cut, then re-issues with three", async () => {
    const h = await hold(alice, [seat(20)]);
    expect(h.status).toBe(201);
    mc.cut("aws");
    try {
      const r = await confirm(alice, h.body.holdId, CARD_OK, newKey(), "cloudflare");
      expect(r.status).toBe(201);
      const v = await verifyTicket(r.body.tickets[0].ticket, mc.tc.cluster);
      expect(v.valid && v.providers).toEqual(["cloudflare", "vercel"]);
    } finally {
      mc.heal("aws");
    }
    const orders = await call(mc, "cloudflare", "GET", "/v1/me/orders?limit=100", { token: alice });
    const order = orders.body.items.find((o: { holdId: string }) => o.holdId === h.body.holdId);
    // AWS's store missed the sale: it refuses, the read repair teaches it, and it signs.
    const again = await call(mc, "vercel", "POST", `/v1/me/orders/${order.id}/tickets`, {
      token: alice,
    });
    expect(again.status).toBe(200);
    const v = await verifyTicket(again.body.tickets[0].ticket, mc.tc.cluster);
    expect(v.valid && v.providers).toEqual(["cloudflare", "vercel", "aws"]);
  });

  it("lists an order on a provider whose store missed it, before any anti-entropy", async () => {
    const h = await hold(bob, [seat(22)]);
    mc.cut("aws");
    let orderId: string;
    try {
      const r = await confirm(bob, h.body.holdId, CARD_OK, newKey(), "cloudflare");
      expect(r.status).toBe(201);
      orderId = r.body.order.id;
    } finally {
      mc.heal("aws");
    }
    // AWS's own store has no index entry for the order: only a two-store scan finds it.
    const orders = await call(mc, "aws", "GET", "/v1/me/orders?limit=100", { token: bob });
    expect(orders.status).toBe(200);
    expect(orders.body.items.map((o: { id: string }) => o.id)).toContain(orderId);
    const tickets = await call(mc, "aws", "GET", "/v1/me/tickets?limit=100", { token: bob });
    expect(tickets.status).toBe(200);
    expect(
      tickets.body.items.filter((t: { orderId: string }) => t.orderId === orderId),
    ).toHaveLength(1);
  });

  it("needs no signing call: the stores that accept the sale sign in their replies", async () => {
    const h = await hold(alice, [seat(21)]);
    mc.cutPath(TICKET_SIGN_PATH);
    try {
      const r = await confirm(alice, h.body.holdId, CARD_OK, newKey(), "aws");
      expect(r.status).toBe(201);
      expect(r.body.ticketsPending).toBe(false);
      const v = await verifyTicket(r.body.tickets[0].ticket, mc.tc.cluster);
      expect(v.valid && v.providers.length).toBeGreaterThanOrEqual(2);
    } finally {
      mc.healPath(TICKET_SIGN_PATH);
    }
  });
});

describe("tickets when the stores sign nothing in their accept replies", () => {
  let bare: MemoryCluster;
  let bareEv: Seeded;
  let carol: string;
  beforeAll(async () => {
    bare = await startMemoryCluster({ clusterId: "bare-accepts", witnessAccepts: false });
    bareEv = await seedEvent(
      directStore(bare.acceptors, () => bare.clock.ms),
      {
        nowMs: bare.clock.ms,
      },
    );
    carol = await bare.tokenFor("carol");
  });

  it("are asked of every provider after the commit: three signatures", async () => {
    const h = await call(bare, "vercel", "POST", `/v1/events/${bareEv.eventId}/holds`, {
      token: carol,
      key: newKey(),
      body: { seats: [bareEv.seats[0]] },
    });
    const r = await call(bare, "vercel", "POST", `/v1/holds/${h.body.holdId}/confirm`, {
      token: carol,
      key: newKey(),
      body: { card: CARD_OK },
    });
    expect(r.status).toBe(201);
    const v = await verifyTicket(r.body.tickets[0].ticket, bare.tc.cluster);
    expect(v.valid && v.providers.length).toBeGreaterThanOrEqual(2);
  });

  it("keeps the sale when fewer than two providers vouch, and issues later", async () => {
    const h = await call(bare, "aws", "POST", `/v1/events/${bareEv.eventId}/holds`, {
      token: carol,
      key: newKey(),
      body: { seats: [bareEv.seats[1]] },
    });
    bare.cutPath(TICKET_SIGN_PATH);
    let orderId: string;
    try {
      const r = await call(bare, "aws", "POST", `/v1/holds/${h.body.holdId}/confirm`, {
        token: carol,
        key: newKey(),
        body: { card: CARD_OK },
      });
      expect(r.status).toBe(201);
      expect(r.body.order.status).toBe("confirmed");
      expect(r.body).toMatchObject({ tickets: [], ticketsPending: true });
      orderId = r.body.order.id;
      const early = await call(bare, "aws", "POST", `/v1/me/orders/${orderId}/tickets`, {
        token: carol,
      });
      expect(early.status).toBe(503);
    } finally {
      bare.healPath(TICKET_SIGN_PATH);
    }
    const later = await call(bare, "aws", "POST", `/v1/me/orders/${orderId}/tickets`, {
      token: carol,
    });
    expect(later.status).toBe(200);
    expect((await verifyTicket(later.body.tickets[0].ticket, bare.tc.cluster)).valid).toBe(true);
  });
});

// Last: moves the shared clock past a hold's lifetime.
describe("a declined card", () => {
  it("answers 402, keeps the seats held until expiry, then frees them", async () => {
    const h = await hold(alice, [seat(25), seat(26)]);
    const key = newKey();
    const r = await confirm(alice, h.body.holdId, CARD_DECLINED, key);
    expect(r.status).toBe(402);
    expect(r.body).toMatchObject({
      type: "https://tessera.dev/problems/payment-declined",
      reason: "card_declined",
    });
    // Same key, another card: the key is spent on the declined request.
    expect((await confirm(alice, h.body.holdId, CARD_OK, key)).status).toBe(422);
    expect((await hold(bob, [seat(25)])).status).toBe(409);
    const still = await call(mc, "aws", "GET", `/v1/holds/${h.body.holdId}`, { token: alice });
    expect(still.body.state).toBe("held");

    mc.clock.ms += HOLD_TTL_MS + SKEW_MARGIN_MS + 1000;
    const late = await confirm(alice, h.body.holdId);
    expect(late.status).toBe(410);
    const taken = await hold(bob, [seat(25), seat(26)]);
    expect(taken.status).toBe(201);
  });
});

describe("a purchase on a cancelled event", () => {
  it("is refused 409 event-cancelled, though the hold was placed (and priced) on this instance", async () => {
    const other = await seedEvent(
      directStore(mc.acceptors, () => mc.clock.ms),
      {
        nowMs: mc.clock.ms,
      },
    );
    const h = await call(mc, "vercel", "POST", `/v1/events/${other.eventId}/holds`, {
      token: alice,
      key: newKey(),
      body: { seats: [other.seats[0]] },
    });
    expect(h.status).toBe(201);
    const store = directStore(mc.acceptors, () => mc.clock.ms);
    const cancelled = await store.change<Record<string, unknown>>(
      [eventKey(other.eventId)],
      ([e]) => [{ ...e, status: "cancelled" }],
    );
    expect(cancelled.ok).toBe(true);
    const r = await confirm(alice, h.body.holdId, CARD_OK, newKey(), "vercel");
    expect(r.status).toBe(409);
    expect(r.body.type).toMatch(/event-cancelled$/);
  });
});
