import { beforeEach, describe, expect, it } from "vitest";
import type { Event } from "../../../../shared/domain/event.ts";
import { eventKey } from "../../../../shared/domain/keys.ts";
import { downStore } from "../../../support/broken-stores.ts";
import { type MemoryCluster, startMemoryCluster } from "../../../support/memory-cluster.ts";
import { directStore, type Seeded, seedEvent } from "../../../support/seed.ts";
import { call, newKey } from "./helpers.ts";

/**
 * A hold decides on the provider's own committed copy of the event and proves it current with a
 * linearizable read run beside the hold's change (functions/services/holds.ts, placeHold). These
 * make the copy stale: the event changes through the other two providers' stores only, so
 * cloudflare's store still has the old version.
 */
let mc: MemoryCluster;
let ev: Seeded;
let alice: string;

beforeEach(async () => {
  mc = await startMemoryCluster();
  ev = await seedEvent(
    directStore(mc.acceptors, () => mc.clock.ms),
    { nowMs: mc.clock.ms },
  );
  alice = await mc.tokenFor("alice");
});

/**
 * Changes the event behind cloudflare's back: its own store keeps the copy it has read before (a
 * copy whose ballot an instance has not seen chosen is read through a majority, so it reads it
 * first, as every instance of an onsale has).
 */
async function changeBehindCloudflare(edit: (e: Event) => Event) {
  const seen = await call(mc, "cloudflare", "GET", `/v1/events/${ev.eventId}`, { token: alice });
  expect(seen.status).toBe(200);
  const before = (await mc.acceptors.cloudflare.read([eventKey(ev.eventId)]))[0]!.value!;
  const others = directStore(
    { cloudflare: downStore, vercel: mc.acceptors.vercel, aws: mc.acceptors.aws },
    () => mc.clock.ms,
  );
  const w = await others.change<Event>([eventKey(ev.eventId)], ([cur]) => [edit(cur!)]);
  expect(w.ok).toBe(true);
  const copy = (await mc.acceptors.cloudflare.read([eventKey(ev.eventId)]))[0]!.value!;
  expect(copy).toBe(before);
}

const hold = (seats: unknown[], key = newKey()) =>
  call(mc, "cloudflare", "POST", `/v1/events/${ev.eventId}/holds`, {
    token: alice,
    key,
    body: { seats },
  });

/** Whether a fresh hold of `seat` by another buyer succeeds (the seat is free). */
async function seatIsFree(seat: unknown) {
  const bob = await mc.tokenFor("bob");
  const r = await call(mc, "vercel", "POST", `/v1/events/${ev.eventId}/holds`, {
    token: bob,
    key: newKey(),
    body: { seats: [seat] },
  });
  return r.status === 201;
}

describe("a hold decided on the provider's copy of the event", () => {
  it("holds at once when the copy is current", async () => {
    const r = await hold([ev.seats[0]]);
    expect(r.status).toBe(201);
    expect(r.body.total).toMatchObject({ currency: "EUR" });
    // Each step's time, as Server-Timing: the copy, its check, and the lock beside the event read.
    const steps = (r.headers.get("server-timing") ?? "").split(", ").map((x) => x.split(";")[0]);
    expect(steps.sort()).toEqual(["check", "copy", "event", "lock"]);
  });

  it("answers what the current event says, and gives the seats back, when the copy is stale", async () => {
    await changeBehindCloudflare((e) => ({ ...e, status: "sales-closed" }));
    const r = await hold([ev.seats[1]]);
    expect(r.status).toBe(409);
    expect(r.headers.get("content-type")).toContain("application/problem+json");
    expect(r.body.type).toContain("not-on-sale");
    expect(await changeBack()).toBe(true);
    expect(await seatIsFree(ev.seats[1])).toBe(true);
  });

  it("never releases a hold an earlier try of the same request was answered", async () => {
    const key = newKey();
    const first = await hold([ev.seats[6]], key);
    expect(first.status).toBe(201);
    await changeBehindCloudflare((e) => ({ ...e, status: "sales-closed" }));
    const again = await hold([ev.seats[6]], key);
    expect(again.status).toBe(409);
    const mine = await call(mc, "vercel", "GET", `/v1/holds/${first.body.holdId}`, {
      token: alice,
    });
    expect(mine.body.state).toBe("held");
  });

  it("refuses a hold placed under a cap the event no longer has (409 event-changed)", async () => {
    await changeBehindCloudflare((e) => ({ ...e, maxSeatsPerBuyer: 1 }));
    const r = await hold([ev.seats[2], ev.seats[3]]);
    expect(r.status).toBe(409);
    expect(r.body.type).toContain("event-changed");
    expect(await seatIsFree(ev.seats[2])).toBe(true);
  });

  it("answers a retry of a refused hold with 410, not with the hold it gave back", async () => {
    await changeBehindCloudflare((e) => ({ ...e, maxSeatsPerBuyer: 1 }));
    const key = newKey();
    const refused = await hold([ev.seats[7], ev.seats[8]], key);
    expect(refused.status).toBe(409);
    // The answer was lost: the client sends the same request again.
    const again = await hold([ev.seats[7], ev.seats[8]], key);
    expect(again.status).toBe(410);
    expect(again.body.type).toContain("hold-gone");
    expect(await seatIsFree(ev.seats[7])).toBe(true);
  });

  it("answers a retry of a hold its buyer released with 410", async () => {
    const key = newKey();
    const first = await hold([ev.seats[9]], key);
    expect(first.status).toBe(201);
    const back = await call(mc, "vercel", "DELETE", `/v1/holds/${first.body.holdId}`, {
      token: alice,
    });
    expect(back.status).toBeLessThan(300);
    expect((await hold([ev.seats[9]], key)).status).toBe(410);
  });

  it("prices a hold at the current event's prices", async () => {
    const price = ev.event.priceCategories[0]!.price;
    await changeBehindCloudflare((e) => ({
      ...e,
      priceCategories: e.priceCategories.map((p) => ({
        ...p,
        price: { ...p.price, amount: p.price.amount + 100 },
      })),
    }));
    const r = await hold([ev.seats[4]]);
    expect(r.status).toBe(201);
    expect(r.body.total.amount).toBe(price.amount + 100);
  });

  it("does not trust a stale copy to refuse: a sale opened since is held", async () => {
    // Close the sale everywhere, then reopen it behind cloudflare's back.
    await directStore(mc.acceptors, () => mc.clock.ms).change<Event>(
      [eventKey(ev.eventId)],
      ([cur]) => [{ ...cur!, status: "sales-closed" }],
    );
    await changeBehindCloudflare((e) => ({ ...e, status: "on-sale" }));
    const r = await hold([ev.seats[5]]);
    expect(r.status).toBe(201);
  });
});

/** Puts the seeded event back on sale everywhere (so another buyer can try the seat). */
async function changeBack() {
  const w = await directStore(mc.acceptors, () => mc.clock.ms).change<Event>(
    [eventKey(ev.eventId)],
    () => [ev.event],
  );
  return w.ok;
}
