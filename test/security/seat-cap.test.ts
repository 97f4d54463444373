import { beforeAll, describe, expect, it } from "vitest";
import { HOLD_TTL_MS, SKEW_MARGIN_MS } from "../../shared/seats/changes.ts";
import { CARD_OK, call, newKey } from "../functions/routes/buyer/helpers.ts";
import {
  licensedTheater,
  manage,
  type TheaterCreds,
  theaterWithEvent,
} from "../functions/routes/manage/helpers.ts";
import { type MemoryCluster, startMemoryCluster } from "../support/memory-cluster.ts";

/**
 * Threat (OWASP API6, ticket bots): one buyer sweeps an event by holding many seats at once,
 * racing holds through the three providers, or cycling holds. The theatre's per-buyer cap
 * (`maxSeatsPerBuyer`) bounds what one buyer holds plus owns, whatever provider answers.
 */
const CAP = 3;
const PROVIDERS = ["cloudflare", "vercel", "aws"] as const;

let mc: MemoryCluster;
let odeon: TheaterCreds;
let eventId: string;
let alice: string;
let bob: string;

const seat = (id: string) => ({ sectionId: id.split("-")[0]!, seatId: id });
const hold = (token: string, ids: string[], p: (typeof PROVIDERS)[number], key = newKey()) =>
  call(mc, p, "POST", `/v1/events/${eventId}/holds`, {
    token,
    key,
    body: { seats: ids.map(seat) },
  });

beforeAll(async () => {
  mc = await startMemoryCluster();
  odeon = await licensedTheater(mc, "odeon");
  ({ eventId } = await theaterWithEvent(mc, odeon));
  alice = await mc.tokenFor("alice");
  bob = await mc.tokenFor("bob");
});

describe("the theatre sets a per-buyer seat cap", () => {
  it("PATCH sets it (1..50); the public event shows it", async () => {
    for (const bad of [0, 51, 2.5]) {
      const r = await manage(mc, "vercel", odeon, "PATCH", `/v1/manage/events/${eventId}`, {
        body: { maxSeatsPerBuyer: bad },
      });
      expect(r.status, `cap ${bad}`).toBe(400);
    }
    const r = await manage(mc, "aws", odeon, "PATCH", `/v1/manage/events/${eventId}`, {
      body: { maxSeatsPerBuyer: CAP },
    });
    expect(r.status).toBe(200);
    expect(r.body.maxSeatsPerBuyer).toBe(CAP);
    const pub = await call(mc, "cloudflare", "GET", `/v1/events/${eventId}`);
    expect(pub.body.maxSeatsPerBuyer).toBe(CAP);
  });
});

describe("a buyer cannot hold or own more than the cap", () => {
  const held: string[] = [];

  it("concurrent holds through three providers never exceed the cap", async () => {
    const rs = await Promise.all(
      PROVIDERS.map((p, i) => hold(alice, [`stalls-a${2 * i + 1}`, `stalls-a${2 * i + 2}`], p)),
    );
    const ok = rs.filter((r) => r.status === 201);
    const refused = rs.filter((r) => r.status === 409);
    expect(ok.length).toBe(1);
    expect(refused.length).toBe(2);
    for (const r of refused) {
      expect(r.body.type).toBe("https://tessera.dev/problems/seat-cap-reached");
      expect(r.body).toMatchObject({ cap: CAP, requested: 2 });
      expect(r.body.count).toBe(2);
    }
    held.push(ok[0]!.body.holdId);
  });

  it("a retry of the same request (same key, another provider) does not count twice", async () => {
    const key = newKey();
    const first = await hold(alice, ["stalls-b1"], "vercel", key);
    expect(first.status).toBe(201);
    const again = await hold(alice, ["stalls-b1"], "aws", key);
    expect(again.status).toBe(201);
    expect(again.body.holdId).toBe(first.body.holdId);
    held.push(first.body.holdId);
    // Two + one held: at the cap, so one more seat is refused on every provider.
    for (const p of PROVIDERS) {
      const r = await hold(alice, ["stalls-b2"], p);
      expect(r.status, p).toBe(409);
      expect(r.body).toMatchObject({ cap: CAP, count: 3, requested: 1 });
    }
  });

  it("another buyer is not affected", async () => {
    const r = await hold(bob, ["stalls-c1", "stalls-c2", "stalls-c3"], "cloudflare");
    expect(r.status).toBe(201);
  });

  it("a release frees the quota", async () => {
    const r = await call(mc, "cloudflare", "DELETE", `/v1/holds/${held[1]}`, { token: alice });
    expect(r.status).toBe(204);
    const h = await hold(alice, ["stalls-b3"], "aws");
    expect(h.status).toBe(201);
    held[1] = h.body.holdId;
  });

  let orderId: string;
  it("sold seats count too", async () => {
    const c = await call(mc, "vercel", "POST", `/v1/holds/${held[0]}/confirm`, {
      token: alice,
      key: newKey(),
      body: { card: CARD_OK },
    });
    expect(c.status).toBe(201);
    orderId = c.body.order.id;
    // Two sold, one held: releasing the held one leaves room for one seat, not two.
    expect((await call(mc, "aws", "DELETE", `/v1/holds/${held[1]}`, { token: alice })).status).toBe(
      204,
    );
    const two = await hold(alice, ["balcony-a1", "balcony-a2"], "cloudflare");
    expect(two.status).toBe(409);
    expect(two.body).toMatchObject({ cap: CAP, count: 2, requested: 2 });
    const one = await hold(alice, ["balcony-a1"], "vercel");
    expect(one.status).toBe(201);
    held[1] = one.body.holdId;
  });

  it("a refund frees the refunded seats' quota", async () => {
    const r = await manage(mc, "aws", odeon, "POST", `/v1/manage/orders/${orderId}/refund`, {
      key: newKey(),
    });
    expect(r.status).toBe(200);
    const two = await hold(alice, ["balcony-b1", "balcony-b2"], "cloudflare");
    expect(two.status).toBe(201);
    const more = await hold(alice, ["balcony-b3"], "aws");
    expect(more.status).toBe(409);
    expect(more.body).toMatchObject({ cap: CAP, count: 3 });
  });

  it("expired holds stop counting", async () => {
    mc.clock.ms += HOLD_TTL_MS + SKEW_MARGIN_MS + 1;
    const r = await hold(alice, ["balcony-b4", "balcony-b5", "balcony-b6"], "vercel");
    expect(r.status).toBe(201);
  });

  it("removing the cap (null) lets the buyer hold more", async () => {
    const r = await manage(mc, "vercel", odeon, "PATCH", `/v1/manage/events/${eventId}`, {
      body: { maxSeatsPerBuyer: null },
    });
    expect(r.status).toBe(200);
    expect(r.body.maxSeatsPerBuyer).toBeUndefined();
    const h = await hold(alice, ["balcony-b7", "balcony-b8"], "cloudflare");
    expect(h.status).toBe(201);
  });
});
