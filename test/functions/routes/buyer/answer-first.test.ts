import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { PROVIDERS } from "../../../../shared/config.ts";
import { seatKey } from "../../../../shared/domain/keys.ts";
import { holdOfOrder } from "../../../../shared/seats/service.ts";
import { verifyTicket } from "../../../../shared/tickets/verify.ts";
import { type MemoryCluster, startMemoryCluster } from "../../../support/memory-cluster.ts";
import { directStore, type Seeded, seedEvent } from "../../../support/seed.ts";
import { CARD_OK, call, newKey } from "./helpers.ts";

/*
 * A confirm on a platform that keeps working after the answer (Workers' and Vercel's `waitUntil`)
 * answers once the sale commits: the order and its tickets signed by the stores that decided it.
 * The seats and the order's records follow the answer; a read of the order that comes first finds
 * it through the sold hold record its id names.
 */

let mc: MemoryCluster;
let ev: Seeded;
let alice: string;
let bob: string;
/** The work each answer left running (the in-process platform's `waitUntil`). */
const after: Promise<unknown>[] = [];
/** While set, every store refuses any write that touches an order's record. */
let refuseOrders = false;

beforeAll(async () => {
  mc = await startMemoryCluster({
    clusterId: "answer-first",
    env: { CRON_SECRET: "answer-first-cron-secret-0123456789" },
    afterAnswer: (w) => after.push(w),
  });
  ev = await seedEvent(
    directStore(mc.acceptors, () => mc.clock.ms),
    { nowMs: mc.clock.ms },
  );
  alice = await mc.tokenFor("alice");
  bob = await mc.tokenFor("bob");
  for (const p of PROVIDERS) {
    const a = mc.acceptors[p];
    const { prepare, accept } = a;
    a.prepare = async (req) => {
      if (refuseOrders && req.keys.some((k) => k.startsWith("order/"))) throw new Error("down");
      return prepare.call(a, req);
    };
    a.accept = async (entries) => {
      if (refuseOrders && entries.some((e) => e.key.startsWith("order/"))) throw new Error("down");
      return accept.call(a, entries);
    };
  }
});

afterEach(() => {
  refuseOrders = false;
});

const seat = (i: number) => ev.seats[i]!;
const seatKeyOf = (i: number) => seatKey(ev.eventId, seat(i).sectionId, seat(i).seatId);
/** The value each store holds for `key` (undefined: no record at all). */
const stored = (key: string) =>
  PROVIDERS.map((p) => {
    const rec = mc.acceptors[p].records.get(key);
    return rec === undefined ? undefined : rec.value === null ? null : JSON.parse(rec.value);
  });
const chosen = (key: string, pred: (v: { state?: string; status?: string }) => boolean) =>
  stored(key).filter((v) => v != null && pred(v)).length >= 2;

async function buy(token: string, seats: number[], via: "cloudflare" | "vercel" = "vercel") {
  const h = await call(mc, "cloudflare", "POST", `/v1/events/${ev.eventId}/holds`, {
    token,
    key: newKey(),
    body: { seats: seats.map(seat) },
  });
  expect(h.status).toBe(201);
  const c = await call(mc, via, "POST", `/v1/holds/${h.body.holdId}/confirm`, {
    token,
    key: newKey(),
    body: { card: CARD_OK },
  });
  return { holdId: h.body.holdId as string, c };
}

describe("a confirm that answers before its order is recorded", () => {
  it("answers the order with tickets the deciding stores signed; seats and records follow", async () => {
    after.length = 0;
    const { holdId, c } = await buy(alice, [0, 1]);
    expect(c.status).toBe(201);
    const orderId: string = c.body.order.id;
    expect(holdOfOrder(orderId)).toBe(holdId);
    expect(c.body.ticketsPending).toBe(false);
    expect(c.body.tickets).toHaveLength(2);
    for (const t of c.body.tickets) {
      const v = await verifyTicket(t.ticket, mc.tc.cluster);
      expect(v.valid).toBe(true);
      if (v.valid) expect(v.claims).toMatchObject({ hld: "alice", ord: orderId });
    }
    // The answer left the seats and the records to run on after it.
    expect(after).toHaveLength(1);
    await Promise.all(after);
    expect(chosen(`order/${orderId}`, (v) => v.status === "confirmed")).toBe(true);
    for (const i of [0, 1]) expect(chosen(seatKeyOf(i), (v) => v.state === "sold")).toBe(true);
    const got = await call(mc, "aws", "GET", `/v1/me/orders/${orderId}`, { token: alice });
    expect(got.status).toBe(200);
    expect(got.body.ticketsPending).toBe(false);
    expect(got.body.tickets.map((t: { id: string }) => t.id).sort()).toEqual(
      c.body.tickets.map((t: { id: string }) => t.id).sort(),
    );
  });

  it("a record lost after the answer: the order reads at once from its sale, and lists", async () => {
    after.length = 0;
    refuseOrders = true;
    const { c } = await buy(alice, [2, 3], "cloudflare");
    // The answer did not wait for the record: no store took it.
    expect(c.status).toBe(201);
    expect(c.body.tickets).toHaveLength(2);
    const orderId: string = c.body.order.id;
    await Promise.all(after);
    expect(stored(`order/${orderId}`).filter((v) => v != null)).toHaveLength(0);
    refuseOrders = false;

    const got = await call(mc, "aws", "GET", `/v1/me/orders/${orderId}`, { token: alice });
    expect(got.status).toBe(200);
    expect(got.body.order).toEqual(c.body.order);
    expect(chosen(`order/${orderId}`, (v) => v.status === "confirmed")).toBe(true);
    const list = await call(mc, "vercel", "GET", "/v1/me/orders", { token: alice });
    expect(list.body.items.map((o: { id: string }) => o.id)).toContain(orderId);
    // Its tickets were in the answer; the stored ones are issued on request.
    expect(got.body.ticketsPending).toBe(true);
    const issued = await call(mc, "aws", "POST", `/v1/me/orders/${orderId}/tickets`, {
      token: alice,
    });
    expect(issued.status).toBe(200);
    expect(issued.body.tickets).toHaveLength(2);
  });

  it("cannot: another buyer reads an order through its sale, or an id its hold did not sell to", async () => {
    after.length = 0;
    refuseOrders = true;
    const { holdId, c } = await buy(alice, [4]);
    expect(c.status).toBe(201);
    const orderId: string = c.body.order.id;
    await Promise.all(after);
    refuseOrders = false;
    const theirs = await call(mc, "aws", "GET", `/v1/me/orders/${orderId}`, { token: bob });
    expect(theirs.status).toBe(404);
    expect(theirs.headers.get("content-type")).toContain("application/problem+json");
    // Same hold, another order id: the sold record names the one order it sold to.
    const forged = `o${holdId.slice(1)}${"A".repeat(16)}`;
    expect(holdOfOrder(forged)).toBe(holdId);
    const wrong = await call(mc, "aws", "GET", `/v1/me/orders/${forged}`, { token: alice });
    expect(wrong.status).toBe(404);
    expect(stored(`order/${forged}`).filter((v) => v != null)).toHaveLength(0);
    // Alice's own read still finds hers.
    const mine = await call(mc, "aws", "GET", `/v1/me/orders/${orderId}`, { token: alice });
    expect(mine.status).toBe(200);
  });
});
