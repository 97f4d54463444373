import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueLicense } from "../../shared/auth/license.ts";
import {
  createTesseraClient,
  type ManageClient,
  type SeatRef,
  TesseraProblemError,
  theaterCredentials,
} from "../../shared/client/index.ts";
import { PROVIDERS, type ProviderId } from "../../shared/config.ts";
import { generateEd25519Jwk, publicOf } from "../../shared/crypto/keys.ts";
import { TEST_CARDS } from "../../shared/payments/simulated-processor.ts";
import { checkFeeds } from "../../shared/tickets/revocation-feed.ts";
import { eventually } from "../support/eventually.ts";
import { startTestCluster } from "../support/local-cluster.ts";

/**
 * The issue's must-show, end to end on the REAL local cluster (three providers on their stand-in
 * stores), through the typed client: a licensed theatre imports a pretix plan, creates an event
 * and opens sales; buyers on different providers race for the same seats; the winner pays and gets
 * tickets; a declined card leaves seats held; a refund returns seats to sale and revokes the
 * tickets in every provider's co-signed revocation feed; the proceeds split
 * sums to what was paid.
 *
 * Not here: hold EXPIRY. The real providers hold seats for HOLD_TTL_MS (10 minutes) and their
 * SeatService takes no TTL from the environment, so waiting it out is not practical; expiry is
 * covered on the memory cluster, whose clock the test moves (test/functions/routes/manage/
 * orders.test.ts "a declined card left the seat held until expiry", and the catalog seat-map test).
 */

const DAY_MS = 86_400_000;
const CARD = { number: TEST_CARDS.success, expMonth: 12, expYear: 2040, cvc: "123" };
const DECLINED = { ...CARD, number: TEST_CARDS.declined };
/** Rounds of the two-buyer race; every round both want the same two seats. */
const RACE_ROUNDS = 4;

let cluster: Awaited<ReturnType<typeof startTestCluster>>;
let urls: Record<ProviderId, string>;
let theater: ManageClient;
let eventId: string;

beforeAll(async () => {
  cluster = await startTestCluster("test-theater");
  urls = Object.fromEntries(PROVIDERS.map((p) => [p, cluster.providers[p].url])) as Record<
    ProviderId,
    string
  >;
}, 120_000);
afterAll(async () => {
  await cluster?.dispose();
});

/** A buyer's client whose first endpoint is `first` (so two buyers meet on different providers). */
async function buyer(username: string, first: ProviderId) {
  const r = await fetch(`${urls[first]}/idp/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username }),
  });
  expect(r.status).toBe(200);
  const token = ((await r.json()) as { access_token: string }).access_token;
  const order = [first, ...PROVIDERS.filter((p) => p !== first)];
  return createTesseraClient({ endpoints: order.map((p) => urls[p]), token: () => token });
}

describe("a theatre sells seats on the real three-provider cluster", () => {
  let seats: SeatRef[];

  it("a licensed theatre imports a pretix plan, creates an event and opens sales", async () => {
    const key = await generateEd25519Jwk("odeon");
    const license = await issueLicense({
      governanceKey: cluster.governanceKey,
      theaterId: "odeon",
      name: "Odeon",
      theaterKey: publicOf(key),
      scopes: ["venues", "events", "orders", "sales"],
      clusterId: cluster.cluster.clusterId,
      now: Date.now(),
      ttlS: 3600,
    });
    theater = createTesseraClient({ endpoints: PROVIDERS.map((p) => urls[p]) }).manage(
      theaterCredentials({ license, theaterKey: key }),
    );
    const pretix = JSON.parse(
      await readFile(new URL("../../docs/examples/plan-pretix.json", import.meta.url), "utf8"),
    ) as unknown;
    const plan = await theater.uploadPlan("pretix", pretix);
    expect(plan.seatCount).toBeGreaterThan(RACE_ROUNDS * 2);
    const venue = await theater.createVenue({
      name: "Kleiner Saal",
      address: "Taborstraße 10, 1020 Wien",
      timezone: "Europe/Vienna",
      planId: plan.id,
    });
    const now = Date.now();
    const ev = await theater.createEvent({
      title: "Der Zerrissene",
      startsAt: new Date(now + 30 * DAY_MS).toISOString(),
      venueId: venue.id,
      planId: plan.id,
      priceCategories: plan.categories.map((c, i) => ({
        categoryId: c.id,
        price: { amount: 2900 + i * 2000, currency: "EUR" as const },
      })),
      salesWindow: {
        opensAt: new Date(now - DAY_MS).toISOString(),
        closesAt: new Date(now + 20 * DAY_MS).toISOString(),
      },
    });
    expect(ev.status).toBe("draft");
    const open = await theater.openSales(ev.id);
    expect(open.status).toBe("on-sale");
    eventId = ev.id;
    const full = await theater.getPlan(plan.id);
    seats = full.sections.flatMap((s) =>
      s.rows.flatMap((r) => r.seats.map((x) => ({ sectionId: s.id, seatId: x.id }))),
    );
  }, 60_000);

  let winnerOrder: { id: string; total: number; seats: SeatRef[] };
  let winnerClient: Awaited<ReturnType<typeof buyer>>;

  it("two buyers on different providers race for the same seats: exactly one wins each time", async () => {
    const alice = await buyer("alice", "cloudflare");
    const bob = await buyer("bob", "aws");
    for (let round = 0; round < RACE_ROUNDS; round++) {
      const want = seats.slice(round * 2, round * 2 + 2);
      const [a, b] = await Promise.allSettled([alice.hold(eventId, want), bob.hold(eventId, want)]);
      const won = [a, b].filter((x) => x.status === "fulfilled");
      expect(won).toHaveLength(1);
      const lost = [a, b].find((x) => x.status === "rejected") as PromiseRejectedResult;
      expect(lost.reason).toBeInstanceOf(TesseraProblemError);
      expect((lost.reason as TesseraProblemError).status).toBe(409);
      if (round === 0) {
        const hold = (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof alice.hold>>>)
          .value;
        winnerClient = a.status === "fulfilled" ? alice : bob;
        // The winner pays with a test card and gets signed tickets.
        const bought = await winnerClient.confirm(hold.holdId, CARD);
        expect(bought.order.status).toBe("confirmed");
        expect(bought.tickets).toHaveLength(2);
        const split = bought.order.proceeds.reduce((n, p) => n + p.amount.amount, 0);
        expect(split).toBe(bought.order.total.amount);
        winnerOrder = { id: bought.order.id, total: bought.order.total.amount, seats: want };
      }
    }
  }, 60_000);

  it("a declined card leaves the seats held", async () => {
    const carol = await buyer("carol", "vercel");
    const want = seats.slice(RACE_ROUNDS * 2, RACE_ROUNDS * 2 + 1);
    const hold = await carol.hold(eventId, want);
    const err = await carol.confirm(hold.holdId, DECLINED).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TesseraProblemError);
    expect((err as TesseraProblemError).status).toBe(402);
    expect((await carol.getHold(hold.holdId)).state).toBe("held");
    const dave = await buyer("dave", "aws");
    const taken = await dave.hold(eventId, want).catch((e: unknown) => e);
    expect((taken as TesseraProblemError).status).toBe(409);
  }, 60_000);

  it("the summary's proceeds split sums to the amount paid", async () => {
    const summary = await theater.eventSummary(eventId);
    expect(summary.revenue.amount).toBeGreaterThanOrEqual(winnerOrder.total);
    expect(summary.proceeds.reduce((n, p) => n + p.amount.amount, 0)).toBe(summary.revenue.amount);
  }, 60_000);

  it("a refund returns the seats to sale", async () => {
    const refunded = await theater.refundOrder(winnerOrder.id);
    expect(refunded.status).toBe("refunded");
    const again = await theater.refundOrder(winnerOrder.id);
    expect(again.status).toBe("refunded");
    // Its tickets are revoked in the event's co-signed feed, the same on every provider.
    for (const p of PROVIDERS) {
      const feed = await createTesseraClient({ endpoints: [urls[p]] }).getRevocations(eventId);
      expect(feed).toMatchObject({ complete: true, next: winnerOrder.seats.length });
      const check = await checkFeeds([feed], cluster.cluster);
      expect([p, check.revoked.size, check.rejected]).toEqual([p, winnerOrder.seats.length, []]);
    }
    // Through the quorum: another buyer can hold the refunded seats at once.
    const dave = await buyer("dave", "vercel");
    const hold = await dave.hold(eventId, winnerOrder.seats);
    expect(hold.state).toBe("held");
    await dave.release(hold.holdId);
    // And every provider's seat map (local reads) shows them available once replicated.
    const wanted = new Set(winnerOrder.seats.map((s) => s.seatId));
    for (const p of PROVIDERS) {
      const c = createTesseraClient({ endpoints: [urls[p]] });
      const ok = await eventually(async () => {
        const r = await c.getSeatMap(eventId);
        if (r.notModified) return false;
        const st = r.seatMap.sections.flatMap((s) => s.rows.flatMap((row) => row.seats));
        return st.filter((x) => wanted.has(x.id)).every((x) => x.status === "available");
      });
      expect([p, ok]).toEqual([p, true]);
    }
  }, 60_000);

  it("refunding one seat of an order keeps the other valid, through the SDK", async () => {
    const carol = await buyer("carol", "aws");
    const want = seats.slice(RACE_ROUNDS * 2 + 2, RACE_ROUNDS * 2 + 4);
    const bought = await carol.confirm((await carol.hold(eventId, want)).holdId, CARD);
    const one = await theater.refundOrder(bought.order.id, { seats: [want[0]!] });
    expect(one.status).toBe("confirmed");
    expect(one.refundedSeats).toEqual([want[0]]);
    const mine = await carol.myTickets();
    const byId = new Map(mine.items.map((t) => [t.id, t.status]));
    const status = bought.tickets.map((t) => byId.get(t.id));
    expect(status.sort()).toEqual(["revoked", "valid"]);
  }, 60_000);

  it("cancelling the event refunds every order and revokes every ticket, on every provider", async () => {
    let progress = await theater.cancelEvent(eventId);
    for (let i = 0; progress.status !== "cancelled" && i < 10; i++) {
      progress = await theater.cancelEvent(eventId);
    }
    expect(progress.status).toBe("cancelled");
    expect(progress.orders).toMatchObject({ remaining: 0, failed: [] });
    const summary = await theater.eventSummary(eventId);
    expect(summary.orders.confirmed).toBe(0);
    for (const p of PROVIDERS) {
      const feed = await createTesseraClient({ endpoints: [urls[p]] }).getRevocations(eventId);
      const check = await checkFeeds([feed], cluster.cluster);
      expect([p, check.rejected, feed.complete]).toEqual([p, [], true]);
      expect(check.revoked.size).toBeGreaterThanOrEqual(
        summary.seats.sold + progress.orders.refunded,
      );
    }
  }, 120_000);
});
