import { beforeAll, describe, expect, it } from "vitest";
import { withDefaults } from "../../../../functions/deps.ts";
import { cancelEventFlow } from "../../../../functions/services/cancellation.ts";
import { markEventCancelled } from "../../../../functions/services/events.ts";
import { createServices } from "../../../../functions/services/index.ts";
import { paymentsFor } from "../../../../functions/services/payments.ts";
import { cancellingKey } from "../../../../shared/domain/keys.ts";
import { MemoryBlobs } from "../../../../shared/storage/memory.ts";
import { checkFeeds } from "../../../../shared/tickets/revocation-feed.ts";
import { type MemoryCluster, startMemoryCluster } from "../../../support/memory-cluster.ts";
import { directStore } from "../../../support/seed.ts";
import { buySeats, call } from "../buyer/helpers.ts";
import {
  eventBody,
  licensedTheater,
  manage,
  newKey,
  type TheaterCreds,
  theaterWithEvent,
} from "./helpers.ts";

let mc: MemoryCluster;
let odeon: TheaterCreds;
let eventId: string;
let venueId: string;
let planId: string;
let alice: string;
let bob: string;
const seat = (seatId: string) => ({ sectionId: "stalls", seatId });

async function buy(token: string, seats: string[]) {
  const opts = { confirm: "vercel" as const };
  return (await buySeats(mc, token, eventId, seats.map(seat), opts)).body as {
    order: { id: string };
    tickets: { id: string }[];
  };
}

const CRON_SECRET = "cancel-cron-secret";

const cancel = () => manage(mc, "aws", odeon, "POST", `/v1/manage/events/${eventId}/cancel`);

beforeAll(async () => {
  mc = await startMemoryCluster({ env: { CRON_SECRET } });
  odeon = await licensedTheater(mc, "odeon");
  alice = await mc.tokenFor("alice");
  bob = await mc.tokenFor("bob");
  ({ eventId, venueId, planId } = await theaterWithEvent(mc, odeon));
});

describe("cancelling an event", () => {
  let tickets: string[] = [];
  let earlier: { order: { id: string }; tickets: { id: string }[] };

  it("refunds every order, revokes every ticket (reason cancelled), and stops sales for good", async () => {
    const a = await buy(alice, ["stalls-a1", "stalls-a2"]);
    const b = await buy(bob, ["stalls-a3"]);
    earlier = await buy(bob, ["stalls-a4"]);
    // One order the theatre had refunded before: it stays refunded, its revocation stays "refunded".
    const r = await manage(
      mc,
      "vercel",
      odeon,
      "POST",
      `/v1/manage/orders/${earlier.order.id}/refund`,
      {
        key: newKey(),
      },
    );
    expect(r.status).toBe(200);
    tickets = [...a.tickets, ...b.tickets, ...earlier.tickets].map((t) => t.id);

    const c = await cancel();
    expect(c.status).toBe(200);
    expect(c.body).toMatchObject({
      eventId,
      status: "cancelled",
      orders: { refunded: 3, remaining: 0, failed: [] },
    });
    const event = await manage(mc, "cloudflare", odeon, "GET", `/v1/manage/events/${eventId}`);
    expect(event.body.status).toBe("cancelled");

    const feed = await call(mc, "cloudflare", "GET", `/v1/events/${eventId}/revocations`, {});
    const check = await checkFeeds([feed.body], mc.tc.cluster);
    expect([...check.revoked.keys()].sort()).toEqual([...tickets].sort());
    const reasons = [...check.revoked.values()].map((v) => v.rsn);
    expect(reasons.filter((x) => x === "cancelled")).toHaveLength(3);
    expect(check.revoked.get(earlier.tickets[0]!.id)?.rsn).toBe("refunded");

    // Buyers see their orders refunded and their tickets revoked.
    const mine = await call(mc, "aws", "GET", "/v1/me/tickets", { token: alice });
    expect(mine.body.items.map((t: { status: string }) => t.status)).toEqual([
      "revoked",
      "revoked",
    ]);
    const orders = await call(mc, "aws", "GET", "/v1/me/orders", { token: alice });
    expect(orders.body.items.map((o: { status: string }) => o.status)).toEqual(["refunded"]);

    // No more holds.
    const h = await call(mc, "cloudflare", "POST", `/v1/events/${eventId}/holds`, {
      token: alice,
      key: newKey(),
      body: { seats: [seat("stalls-a5")] },
    });
    expect(h.status).toBeGreaterThanOrEqual(400);
    expect(h.status).toBeLessThan(500);
  });

  it("is safe to repeat: the same answer, nothing refunded or revoked twice", async () => {
    const c = await cancel();
    expect(c.status).toBe(200);
    expect(c.body.orders).toEqual({ refunded: 3, remaining: 0, failed: [] });
    const feed = await call(mc, "vercel", "GET", `/v1/events/${eventId}/revocations`, {});
    expect(feed.body.revocations).toHaveLength(tickets.length);
    const summary = await manage(mc, "aws", odeon, "GET", `/v1/manage/events/${eventId}/summary`);
    expect(summary.body.orders).toEqual({ confirmed: 0, refunded: 3, other: 0 });
    expect(summary.body.revenue.amount).toBe(0);
  });

  it("answers 404 for another theatre's event and needs the orders scope", async () => {
    const other = await licensedTheater(mc, "rival");
    const r = await manage(mc, "aws", other, "POST", `/v1/manage/events/${eventId}/cancel`);
    expect(r.status).toBe(404);
  });
});

describe("a cancellation cut short", () => {
  it("answers 202 with what remains; the scheduled run finishes it", async () => {
    const ev = await manage(mc, "aws", odeon, "POST", "/v1/manage/events", {
      key: newKey(),
      body: eventBody(mc.clock.ms, venueId, planId, { premium: 4900, standard: 2900 }),
    });
    eventId = ev.body.id;
    await manage(mc, "cloudflare", odeon, "POST", `/v1/manage/events/${eventId}/open-sales`);
    await buy(alice, ["stalls-a1"]);
    await buy(bob, ["stalls-a2"]);
    // A call whose time budget is spent before its first refund, as on a platform's time limit.
    const s = createServices(
      withDefaults({
        provider: "vercel",
        cluster: mc.tc.cluster,
        signingKey: mc.tc.keys.vercel,
        settings: mc.tc.settingsFor("vercel"),
        acceptor: mc.acceptors.vercel,
        blobs: new MemoryBlobs(),
        storeName: "memory",
        now: () => mc.clock.ms,
        fetch: mc.fetchVia("vercel"),
      }),
    );
    // The first call's own steps, its time spent before any refund: the event cancelled and
    // marked, no order refunded.
    await markEventCancelled(s, odeon.theaterId, eventId);
    await directStore(mc.acceptors, () => mc.clock.ms).createOnce(cancellingKey(eventId), {
      eventId,
      theaterId: odeon.theaterId,
    });
    const cut = await cancelEventFlow(s, paymentsFor(s), odeon.theaterId, eventId, -1, false);
    expect(cut).toMatchObject({ status: "cancelling", orders: { refunded: 0, remaining: 2 } });
    // Sales stopped with the first call already.
    const h = await call(mc, "cloudflare", "POST", `/v1/events/${eventId}/holds`, {
      token: alice,
      key: newKey(),
      body: { seats: [seat("stalls-a5")] },
    });
    expect(h.status).toBeLessThan(500);
    expect(h.status).toBeGreaterThanOrEqual(400);
    // Nobody calls again: the scheduled run (a minute later) finishes it, and the marker goes.
    mc.clock.ms += 60_000;
    expect(
      await directStore(mc.acceptors, () => mc.clock.ms).get(cancellingKey(eventId)),
    ).not.toBeNull();
    const cron = await mc.request("cloudflare", "/internal/anti-entropy", {
      method: "POST",
      headers: { authorization: `Bearer ${CRON_SECRET}` },
    });
    expect(cron.status).toBe(200);
    const ran = (await cron.json()) as { cancellations?: { eventId: string; status: string }[] };
    expect(ran.cancellations).toEqual([expect.objectContaining({ eventId, status: "cancelled" })]);
    expect(
      await directStore(mc.acceptors, () => mc.clock.ms).get(cancellingKey(eventId)),
    ).toBeNull();
    const done = await cancel();
    expect(done.status).toBe(200);
    expect(done.body.orders).toEqual({ refunded: 2, remaining: 0, failed: [] });
  });

  it("a forged marker moves no money: the scheduled run refunds only a cancelled event's orders", async () => {
    const ev = await manage(mc, "aws", odeon, "POST", "/v1/manage/events", {
      key: newKey(),
      body: eventBody(mc.clock.ms, venueId, planId, { premium: 4900, standard: 2900 }),
    });
    const live = ev.body.id as string;
    await manage(mc, "cloudflare", odeon, "POST", `/v1/manage/events/${live}/open-sales`);
    eventId = live;
    const b = await buy(alice, ["stalls-b1"]);
    // A compromised provider writes a marker for an event on sale.
    await directStore(mc.acceptors, () => mc.clock.ms).createOnce(cancellingKey(live), {
      eventId: live,
      theaterId: odeon.theaterId,
    });
    const cron = await mc.request("vercel", "/internal/anti-entropy", {
      method: "POST",
      headers: { authorization: `Bearer ${CRON_SECRET}` },
    });
    expect(cron.status).toBe(200);
    const order = await call(mc, "aws", "GET", `/v1/me/orders/${b.order.id}`, { token: alice });
    expect(order.body.order?.status ?? order.body.status).toBe("confirmed");
  });
});
