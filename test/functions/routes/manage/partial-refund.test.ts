import { beforeAll, describe, expect, it } from "vitest";
import { withDefaults } from "../../../../functions/deps.ts";
import { createServices } from "../../../../functions/services/index.ts";
import { paymentsFor } from "../../../../functions/services/payments.ts";
import { orderKey, paymentKey } from "../../../../shared/domain/keys.ts";
import { splitProceeds } from "../../../../shared/payments/split.ts";
import { MemoryBlobs } from "../../../../shared/storage/memory.ts";
import { checkFeeds } from "../../../../shared/tickets/revocation-feed.ts";
import { type MemoryCluster, startMemoryCluster } from "../../../support/memory-cluster.ts";
import { directStore } from "../../../support/seed.ts";
import { buySeats, call } from "../buyer/helpers.ts";
import { licensedTheater, manage, newKey, type TheaterCreds, theaterWithEvent } from "./helpers.ts";

let mc: MemoryCluster;
let odeon: TheaterCreds;
let eventId: string;
let alice: string;
let bob: string;
const seat = (seatId: string) => ({ sectionId: "stalls", seatId });

async function buy(token: string, seats: string[]) {
  const opts = { confirm: "vercel" as const };
  return (await buySeats(mc, token, eventId, seats.map(seat), opts)).body as {
    order: {
      id: string;
      total: { amount: number };
      seats: { seatId: string; price: { amount: number } }[];
    };
    tickets: { id: string; claims: { seat: { id: string } } }[];
  };
}

const refund = (orderId: string, body?: unknown, key = newKey()) =>
  manage(mc, "aws", odeon, "POST", `/v1/manage/orders/${orderId}/refund`, {
    key,
    ...(body === undefined ? {} : { body }),
  });

const paymentOf = async (orderId: string) => {
  const store = directStore(mc.acceptors, () => mc.clock.ms);
  const order = await store.get<{ paymentId: string }>(orderKey(orderId));
  const p = await store.get<{ payment: { status: string; refunded: number } }>(
    paymentKey(order!.paymentId),
  );
  return p!.payment;
};

beforeAll(async () => {
  mc = await startMemoryCluster();
  odeon = await licensedTheater(mc, "odeon");
  alice = await mc.tokenFor("alice");
  bob = await mc.tokenFor("bob");
  ({ eventId } = await theaterWithEvent(mc, odeon, { premium: 4999, standard: 2999 }));
});

describe("refunding some seats of an order", () => {
  let bought: Awaited<ReturnType<typeof buy>>;
  const price = (seatId: string) =>
    bought.order.seats.find((x) => x.seatId === seatId)?.price.amount ?? NaN;
  const tidOf = (seatId: string) =>
    bought.tickets.find((t) => t.claims.seat.id === seatId)?.id ?? "";

  it("refunds that seat's price only, frees that seat, revokes that ticket; the rest stay valid", async () => {
    bought = await buy(alice, ["stalls-a1", "stalls-a2", "stalls-a3"]);
    const key = newKey();
    const r = await refund(bought.order.id, { seats: [seat("stalls-a2")] }, key);
    expect(r.status).toBe(200);
    expect(r.body.status).toBe("confirmed");
    expect(r.body.refundedSeats).toEqual([seat("stalls-a2")]);
    expect(await paymentOf(bought.order.id)).toMatchObject({
      status: "captured",
      refunded: price("stalls-a2"),
    });

    const feed = await call(mc, "vercel", "GET", `/v1/events/${eventId}/revocations`, {});
    const check = await checkFeeds([feed.body], mc.tc.cluster);
    expect([...check.revoked.keys()]).toEqual([tidOf("stalls-a2")]);
    const mine = await call(mc, "aws", "GET", "/v1/me/tickets", { token: alice });
    const status = new Map(
      mine.body.items.map((t: { id: string; status: string }) => [t.id, t.status]),
    );
    expect(status.get(tidOf("stalls-a2"))).toBe("revoked");
    expect(status.get(tidOf("stalls-a1"))).toBe("valid");
    expect(status.get(tidOf("stalls-a3"))).toBe("valid");

    // The seat is on sale again; the others stay sold.
    const h = await call(mc, "cloudflare", "POST", `/v1/events/${eventId}/holds`, {
      token: bob,
      key: newKey(),
      body: { seats: [seat("stalls-a2")] },
    });
    expect(h.status).toBe(201);
    await call(mc, "cloudflare", "DELETE", `/v1/holds/${h.body.holdId}`, { token: bob });
    const taken = await call(mc, "cloudflare", "POST", `/v1/events/${eventId}/holds`, {
      token: bob,
      key: newKey(),
      body: { seats: [seat("stalls-a1")] },
    });
    expect(taken.status).toBe(409);

    // The same request again, or the same seat under a new key: nothing more is refunded.
    expect((await refund(bought.order.id, { seats: [seat("stalls-a2")] }, key)).status).toBe(200);
    expect((await refund(bought.order.id, { seats: [seat("stalls-a2")] })).status).toBe(200);
    expect((await paymentOf(bought.order.id)).refunded).toBe(price("stalls-a2"));
  });

  it("the summary counts the kept part as revenue, split to the minor unit", async () => {
    const r = await manage(mc, "aws", odeon, "GET", `/v1/manage/events/${eventId}/summary`);
    const kept = bought.order.total.amount - price("stalls-a2");
    expect(r.body.revenue.amount).toBe(kept);
    expect(r.body.refunded.amount).toBe(price("stalls-a2"));
    const parties = r.body.proceeds as { party: string; amount: { amount: number } }[];
    expect(parties.reduce((n, p) => n + p.amount.amount, 0)).toBe(kept);
    // What the refund took back from each party sums exactly to the refunded amount.
    const currency = "EUR";
    const original = splitProceeds({ amount: bought.order.total.amount, currency });
    const back = original.map(
      (p) => p.amount.amount - (parties.find((q) => q.party === p.party)?.amount.amount ?? 0),
    );
    expect(back.every((x) => Number.isInteger(x) && x >= 0)).toBe(true);
    expect(back.reduce((n, x) => n + x, 0)).toBe(price("stalls-a2"));
  });

  it("refunding the rest refunds exactly the total and turns the order refunded", async () => {
    const r = await refund(bought.order.id, { seats: [seat("stalls-a1"), seat("stalls-a3")] });
    expect(r.status).toBe(200);
    expect(r.body.status).toBe("refunded");
    expect(await paymentOf(bought.order.id)).toMatchObject({
      status: "refunded",
      refunded: bought.order.total.amount,
    });
    const feed = await call(mc, "vercel", "GET", `/v1/events/${eventId}/revocations`, {});
    expect((await checkFeeds([feed.body], mc.tc.cluster)).revoked.size).toBe(3);
  });

  it("a full refund after a partial one refunds only what is left", async () => {
    const b = await buy(bob, ["stalls-a4", "stalls-a5"]);
    expect((await refund(b.order.id, { seats: [seat("stalls-a4")] })).status).toBe(200);
    const full = await refund(b.order.id);
    expect(full.status).toBe(200);
    expect(full.body.status).toBe("refunded");
    expect(await paymentOf(b.order.id)).toMatchObject({
      status: "refunded",
      refunded: b.order.total.amount,
    });
  });

  it("refuses a seat the order does not sell (422), and a refunded order's seats change nothing", async () => {
    const b = await buy(bob, ["stalls-a6"]);
    const r = await refund(b.order.id, { seats: [seat("stalls-a7")] });
    expect(r.status).toBe(422);
    expect(r.headers.get("content-type")).toContain("application/problem+json");
    expect((await paymentOf(b.order.id)).refunded).toBe(0);
    const bad = await refund(b.order.id, { seats: [] });
    expect(bad.status).toBe(400);
  });

  it("a retry after the money moved but the commit did not refunds nothing twice", async () => {
    const b = await buy(alice, ["stalls-b1", "stalls-b2"]);
    const store = directStore(mc.acceptors, () => mc.clock.ms);
    // Steps 1 and 2 of an attempt that died before its commit: pending recorded, money back.
    await store.change<Record<string, unknown>>([orderKey(b.order.id)], ([o]) => [
      { ...o, pendingRefund: { seats: [seat("stalls-b1")] } },
    ]);
    const s = createServices(
      withDefaults({
        provider: "aws",
        cluster: mc.tc.cluster,
        signingKey: mc.tc.keys.aws,
        settings: mc.tc.settingsFor("aws"),
        acceptor: mc.acceptors.aws,
        blobs: new MemoryBlobs(),
        storeName: "memory",
        now: () => mc.clock.ms,
        fetch: mc.fetchVia("aws"),
      }),
    );
    const order = await store.get<{ paymentId: string }>(orderKey(b.order.id));
    const first = b.order.seats.find((x) => x.seatId === "stalls-b1")!.price;
    await paymentsFor(s).refund(order!.paymentId, { amount: first.amount, currency: "EUR" });
    // Another seat's refund meanwhile waits for it.
    const other = await refund(b.order.id, { seats: [seat("stalls-b2")] });
    expect(other.status).toBe(409);
    // The retry commits it and moves no more money.
    const r = await refund(b.order.id, { seats: [seat("stalls-b1")] });
    expect(r.status).toBe(200);
    expect(r.body.refundedSeats).toEqual([seat("stalls-b1")]);
    expect(r.body).not.toHaveProperty("pendingRefund");
    expect((await paymentOf(b.order.id)).refunded).toBe(first.amount);
    expect((await refund(b.order.id, { seats: [seat("stalls-b2")] })).status).toBe(200);
    expect(await paymentOf(b.order.id)).toMatchObject({
      status: "refunded",
      refunded: b.order.total.amount,
    });
  });
});
