import { beforeAll, describe, expect, it } from "vitest";
import { PROVIDERS } from "../../../shared/config.ts";
import { paymentKey, seatKey } from "../../../shared/domain/keys.ts";
import { GC_RETENTION_MS } from "../../../shared/quorum/gc.ts";
import { HOLD_TTL_MS, RECORD_RETENTION_MS, SKEW_MARGIN_MS } from "../../../shared/seats/changes.ts";
import { type MemoryCluster, startMemoryCluster } from "../../support/memory-cluster.ts";
import { directStore, type Seeded, seedEvent } from "../../support/seed.ts";
import { CARD_OK, call, newKey } from "./buyer/helpers.ts";

const SECRET = "sweep-test-cron-secret-0123456789";

let mc: MemoryCluster;
let ev: Seeded;
let alice: string;

beforeAll(async () => {
  mc = await startMemoryCluster({ clusterId: "seat-sweep", env: { CRON_SECRET: SECRET } });
  ev = await seedEvent(
    directStore(mc.acceptors, () => mc.clock.ms),
    { nowMs: mc.clock.ms },
  );
  alice = await mc.tokenFor("alice");
});

interface SweepBody {
  sweep: Record<"hold/" | "idem/", { expired: number; swept: number; failed: number }>;
  gc: { deleted: number };
}
const scheduled = async (p: "cloudflare" | "vercel" | "aws" = "aws"): Promise<SweepBody> => {
  const r = await mc.request(p, "/internal/anti-entropy", {
    method: "POST",
    headers: { authorization: `Bearer ${SECRET}` },
  });
  expect(r.status).toBe(200);
  return (await r.json()) as SweepBody;
};
/** The value each store holds for `key` (undefined: no record at all). */
const stored = (key: string) =>
  PROVIDERS.map((p) => {
    const rec = mc.acceptors[p].records.get(key);
    return rec === undefined ? undefined : rec.value === null ? null : JSON.parse(rec.value);
  });
const seat = (i: number) => ev.seats[i]!;
const seatKeyOf = (i: number) => seatKey(ev.eventId, seat(i).sectionId, seat(i).seatId);

describe("the scheduled seat sweep", () => {
  const key = newKey();
  let holdId: string;

  it("frees the seats of a hold nobody came back for, once it is past expiry", async () => {
    const r = await call(mc, "cloudflare", "POST", `/v1/events/${ev.eventId}/holds`, {
      token: alice,
      key,
      body: { seats: [seat(0), seat(1)] },
    });
    expect(r.status).toBe(201);
    holdId = r.body.holdId;
    expect((await scheduled()).sweep["hold/"]).toMatchObject({ expired: 0, swept: 0 });
    mc.clock.ms += HOLD_TTL_MS + SKEW_MARGIN_MS + 1;
    expect((await scheduled()).sweep["hold/"]).toMatchObject({ expired: 1, failed: 0 });
    for (const i of [0, 1]) {
      expect(stored(seatKeyOf(i)).filter((v) => v?.state === "free")).toHaveLength(3);
    }
    expect(stored(`hold/${holdId}`).filter((v) => v?.state === "expired").length).toBeGreaterThan(
      1,
    );
  });

  it("writes the hold and its claim null past the retention, and the collector deletes them", async () => {
    mc.clock.ms += RECORD_RETENTION_MS;
    const body = await scheduled("vercel");
    expect(body.sweep["hold/"].swept).toBe(1);
    expect(body.sweep["idem/"].swept).toBeGreaterThanOrEqual(1);
    expect(stored(`hold/${holdId}`).filter((v) => v === null).length).toBeGreaterThan(1);
    // Ballots are floored by the clock but pushed past each other, so a few ms past it.
    mc.clock.ms += GC_RETENTION_MS + 1_000;
    // The first pass copies the tombstone to the third store if it missed it; one more deletes.
    await scheduled();
    await scheduled();
    expect(stored(`hold/${holdId}`)).toEqual([undefined, undefined, undefined]);
  });

  it("a retry after the claim was swept is a new request", async () => {
    // A week has passed: a fresh sign-in.
    alice = await mc.tokenFor("alice");
    const r = await call(mc, "aws", "POST", `/v1/events/${ev.eventId}/holds`, {
      token: alice,
      key,
      body: { seats: [seat(0), seat(1)] },
    });
    expect(r.status).toBe(201);
    expect(r.body.holdId).not.toBe(holdId);
  });

  it("never sweeps a sale: the hold stays sold and a late confirm retry still replays", async () => {
    const h = await call(mc, "cloudflare", "POST", `/v1/events/${ev.eventId}/holds`, {
      token: alice,
      key: newKey(),
      body: { seats: [seat(5)] },
    });
    expect(h.status).toBe(201);
    const confirmKey = newKey();
    const confirm = () =>
      call(mc, "vercel", "POST", `/v1/holds/${h.body.holdId}/confirm`, {
        token: alice,
        key: confirmKey,
        body: { card: CARD_OK },
      });
    const first = await confirm();
    expect(first.status).toBe(201);
    mc.clock.ms += RECORD_RETENTION_MS + HOLD_TTL_MS + 2 * SKEW_MARGIN_MS;
    const body = await scheduled();
    expect(body.sweep["idem/"].swept).toBeGreaterThanOrEqual(2);
    expect(stored(`hold/${h.body.holdId}`).filter((v) => v?.state === "sold").length).toBe(3);
    expect(stored(seatKeyOf(5)).every((v) => v?.state === "sold")).toBe(true);
    alice = await mc.tokenFor("alice");
    const again = await confirm();
    expect(again.status).toBeLessThan(300);
    expect(again.body.order.id).toBe(first.body.order.id);
  });
});

describe("a purchase whose coordinator is lost right after the sale's commit", () => {
  it("the sweep records the order the sale committed and sells its seats; tickets then issue", async () => {
    const h = await call(mc, "cloudflare", "POST", `/v1/events/${ev.eventId}/holds`, {
      token: alice,
      key: newKey(),
      body: { seats: [seat(7), seat(8)] },
    });
    expect(h.status).toBe(201);
    const holdId: string = h.body.holdId;
    // From the moment a second store has accepted the sold record, no store takes anything more:
    // the coordinator's follow-ups (capture, seats, order, tickets) all fail, as if it had died.
    let soldAccepts = 0;
    let lost = false;
    const originals = PROVIDERS.map((p) => {
      const a = mc.acceptors[p];
      const { prepare, accept } = a;
      a.prepare = async (req) => {
        if (lost) throw new Error("coordinator lost");
        return prepare.call(a, req);
      };
      a.accept = async (entries) => {
        if (lost) throw new Error("coordinator lost");
        const out = await accept.call(a, entries);
        const sold = entries.some((e) => e.key === `hold/${holdId}` && e.value?.includes('"sold"'));
        if (sold && ++soldAccepts >= 2) lost = true;
        return out;
      };
      return { a, prepare, accept };
    });
    let r: Awaited<ReturnType<typeof call>>;
    try {
      r = await call(mc, "vercel", "POST", `/v1/holds/${holdId}/confirm`, {
        token: alice,
        key: newKey(),
        body: { card: CARD_OK },
      });
    } finally {
      for (const o of originals) Object.assign(o.a, { prepare: o.prepare, accept: o.accept });
    }
    expect(r.status).toBe(503);
    const orderId: string = stored(`hold/${holdId}`).find((v) => v?.state === "sold")?.orderId;
    expect(orderId).toMatch(/^o/);
    expect(stored(`order/${orderId}`).filter((v) => v != null)).toHaveLength(0);
    const paymentId: string = stored(`hold/${holdId}`).find((v) => v?.state === "sold")?.order
      .paymentId;
    const payment = () => stored(paymentKey(paymentId)).find((v) => v != null)?.payment.status;
    expect(payment()).toBe("authorized");
    expect(stored(seatKeyOf(7)).filter((v) => v?.state === "sold")).toHaveLength(0);

    const body = await scheduled("cloudflare");
    expect(body.sweep["hold/"]).toMatchObject({ followed: 1, settled: 1 });
    expect(
      stored(`order/${orderId}`).filter((v) => v?.status === "confirmed").length,
    ).toBeGreaterThan(1);
    for (const i of [7, 8]) {
      expect(stored(seatKeyOf(i)).filter((v) => v?.state === "sold").length).toBeGreaterThan(1);
    }
    expect(payment()).toBe("captured");
    const order = await call(mc, "aws", "GET", `/v1/me/orders/${orderId}`, { token: alice });
    expect(order.status).toBe(200);
    expect(order.body.order.holdId).toBe(holdId);
    expect(order.body.ticketsPending).toBe(true);
    const tickets = await call(mc, "aws", "POST", `/v1/me/orders/${orderId}/tickets`, {
      token: alice,
    });
    expect(tickets.status).toBe(200);
    expect(tickets.body.tickets).toHaveLength(2);
  });
});
