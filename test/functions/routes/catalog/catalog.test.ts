import { beforeAll, describe, expect, it } from "vitest";
import { SEAT_MAP_SEATS_MAX } from "../../../../functions/routes/v1/catalog.ts";
import { HOLD_TTL_MS, SKEW_MARGIN_MS } from "../../../../shared/seats/changes.ts";
import { type MemoryCluster, startMemoryCluster } from "../../../support/memory-cluster.ts";
import { directStore, type Seeded, seedEvent } from "../../../support/seed.ts";
import { CARD_OK, call, newKey } from "../buyer/helpers.ts";

let mc: MemoryCluster;
let alice: string;
let bob: string;
let pub: Seeded;
let signedIn: Seeded;
let invited: Seeded;
let draft: Seeded;

beforeAll(async () => {
  mc = await startMemoryCluster();
  const store = directStore(mc.acceptors, () => mc.clock.ms);
  const at = { nowMs: mc.clock.ms };
  pub = await seedEvent(store, { ...at, eventId: "ev-a-public" });
  signedIn = await seedEvent(store, { ...at, eventId: "ev-b-signed", visibility: "signed-in" });
  invited = await seedEvent(store, {
    ...at,
    eventId: "ev-c-invited",
    visibility: "authorised",
    allowedBuyers: ["alice"],
  });
  draft = await seedEvent(store, { ...at, eventId: "ev-d-draft", status: "draft" });
  for (let i = 0; i < 5; i++) await seedEvent(store, { ...at, eventId: `ev-e-more-${i}` });
  alice = await mc.tokenFor("alice");
  bob = await mc.tokenFor("bob");
});

const ids = (body: { items: { id: string }[] }) => body.items.map((e) => e.id);

async function listAll(token?: string, q = "", p: "aws" | "vercel" = "aws") {
  const out: string[] = [];
  let cursor: string | undefined;
  do {
    const qs = new URLSearchParams({
      limit: "3",
      ...(q ? { q } : {}),
      ...(cursor ? { cursor } : {}),
    });
    const r = await call(mc, p, "GET", `/v1/events?${qs}`, token ? { token } : {});
    expect(r.status).toBe(200);
    out.push(...ids(r.body));
    cursor = r.body.nextCursor;
  } while (cursor);
  return out;
}

describe("GET /v1/events", () => {
  it("anonymous callers see public events only, never drafts, across pages", async () => {
    const seen = await listAll();
    expect(seen).toContain(pub.eventId);
    expect(seen).not.toContain(signedIn.eventId);
    expect(seen).not.toContain(invited.eventId);
    expect(seen).not.toContain(draft.eventId);
    expect(seen.length).toBe(6);
  });

  it("signed-in buyers also see signed-in events; invited ones see their authorised events", async () => {
    const b = await listAll(bob);
    expect(b).toContain(signedIn.eventId);
    expect(b).not.toContain(invited.eventId);
    const a = await listAll(alice, "", "vercel");
    expect(a).toContain(invited.eventId);
    expect(a).not.toContain(draft.eventId);
  });

  it("searches titles, case and accents ignored; limit is capped at 100", async () => {
    expect((await listAll(undefined, "SEEDED PERFORMANCE")).length).toBe(6);
    expect(await listAll(undefined, "no such show")).toEqual([]);
    expect((await call(mc, "aws", "GET", "/v1/events?limit=101")).status).toBe(400);
    expect((await call(mc, "aws", "GET", "/v1/events?cursor=%%%")).status).toBe(400);
  });

  it("a bad token is 401, not silently anonymous", async () => {
    const r = await call(mc, "aws", "GET", "/v1/events", { token: "nope" });
    expect(r.status).toBe(401);
  });
});

describe("GET /v1/events/{eventId}", () => {
  it("shows a visible event without its guest list", async () => {
    const r = await call(mc, "cloudflare", "GET", `/v1/events/${invited.eventId}`, {
      token: alice,
    });
    expect(r.status).toBe(200);
    expect(r.body.id).toBe(invited.eventId);
    expect(r.body.allowedBuyers).toBeUndefined();
  });

  it("answers 404 for events the caller may not see, drafts and unknown ids", async () => {
    const cases: [string, string | undefined][] = [
      [invited.eventId, bob],
      [invited.eventId, undefined],
      [signedIn.eventId, undefined],
      [draft.eventId, alice],
      ["ev-none", undefined],
    ];
    for (const [id, token] of cases) {
      const r = await call(mc, "cloudflare", "GET", `/v1/events/${id}`, token ? { token } : {});
      expect([id, r.status]).toEqual([id, 404]);
    }
  });
});

describe("GET /v1/events/{eventId}/seats", () => {
  const seatsOf = (body: { sections: { rows: { seats: { id: string; status: string }[] }[] }[] }) =>
    new Map(
      body.sections.flatMap((s) => s.rows.flatMap((r) => r.seats.map((x) => [x.id, x.status]))),
    );

  it("shows live availability, counts per category, and GA places", async () => {
    const h = await call(mc, "aws", "POST", `/v1/events/${pub.eventId}/holds`, {
      token: alice,
      key: newKey(),
      body: { seats: [pub.seats[0], pub.seats[1], { sectionId: pub.gaAreaId, seatId: "floor-1" }] },
    });
    expect(h.status).toBe(201);
    const h2 = await call(mc, "aws", "POST", `/v1/events/${pub.eventId}/holds`, {
      token: bob,
      key: newKey(),
      body: { seats: [pub.seats[2]] },
    });
    const c = await call(mc, "aws", "POST", `/v1/holds/${h2.body.holdId}/confirm`, {
      token: bob,
      key: newKey(),
      body: { card: CARD_OK },
    });
    expect(c.status).toBe(201);

    const r = await call(mc, "aws", "GET", `/v1/events/${pub.eventId}/seats`);
    expect(r.status).toBe(200);
    expect(r.headers.get("cache-control")).toBe("public, max-age=2");
    expect(r.headers.get("etag")).toMatch(/^"[A-Za-z0-9_-]+"$/);
    const st = seatsOf(r.body);
    expect(st.get(pub.seats[0]!.seatId)).toBe("held");
    expect(st.get(pub.seats[1]!.seatId)).toBe("held");
    expect(st.get(pub.seats[2]!.seatId)).toBe("sold");
    expect(st.get(pub.seats[3]!.seatId)).toBe("available");
    const std = r.body.categories.find((x: { id: string }) => x.id === "std");
    expect(std).toMatchObject({ held: 2, sold: 1, available: 27, price: { amount: 2500 } });
    const floor = r.body.generalAdmission[0];
    expect(floor).toMatchObject({ capacity: 20, held: 1, sold: 0, available: 19 });
    expect(floor.availablePlaces[0]).toBe("floor-2");
    expect(r.body.totals).toEqual({ held: 3, sold: 1, available: 46 });
  });

  it("answers 304 to a matching If-None-Match, and a new ETag once availability changes", async () => {
    const first = await call(mc, "vercel", "GET", `/v1/events/${pub.eventId}/seats`);
    const etag = first.headers.get("etag")!;
    const again = await mc.request("vercel", `/v1/events/${pub.eventId}/seats`, {
      headers: { "if-none-match": etag },
    });
    expect(again.status).toBe(304);
    expect(again.headers.get("etag")).toBe(etag);
    // Past expiry plus the skew margin, held seats show as available again.
    mc.clock.ms += HOLD_TTL_MS + SKEW_MARGIN_MS + 1;
    const later = await mc.request("vercel", `/v1/events/${pub.eventId}/seats`, {
      headers: { "if-none-match": etag },
    });
    expect(later.status).toBe(200);
    const body = (await later.json()) as { totals: Record<string, number> };
    expect(body.totals).toEqual({ held: 0, sold: 1, available: 49 });
  });

  it("filters by section; unknown sections 404; restricted events are privately cacheable", async () => {
    const one = await call(mc, "aws", "GET", `/v1/events/${pub.eventId}/seats?section=floor`);
    expect(one.status).toBe(200);
    expect(one.body.sections).toEqual([]);
    expect(one.body.generalAdmission).toHaveLength(1);
    expect(
      (await call(mc, "aws", "GET", `/v1/events/${pub.eventId}/seats?section=nope`)).status,
    ).toBe(404);
    const inv = await call(mc, "aws", "GET", `/v1/events/${invited.eventId}/seats`, {
      token: alice,
    });
    expect(inv.headers.get("cache-control")).toBe("private, max-age=2");
    expect((await call(mc, "aws", "GET", `/v1/events/${invited.eventId}/seats`)).status).toBe(404);
  });

  it(`asks for one section at a time above ${SEAT_MAP_SEATS_MAX} seats`, async () => {
    const big = await seedEvent(
      directStore(mc.acceptors, () => mc.clock.ms),
      {
        nowMs: mc.clock.ms,
        sections: [
          { id: "north", name: "North", rows: 110, seatsPerRow: 100 },
          { id: "south", name: "South", rows: 110, seatsPerRow: 100 },
        ],
      },
    );
    const r = await call(mc, "cloudflare", "GET", `/v1/events/${big.eventId}/seats`);
    expect(r.status).toBe(400);
    expect(r.body.sections).toEqual(["north", "south", "floor"]);
    const north = await call(
      mc,
      "cloudflare",
      "GET",
      `/v1/events/${big.eventId}/seats?section=north`,
    );
    expect(north.status).toBe(200);
    expect(north.body.totals.available).toBe(11_000);
  });
});
