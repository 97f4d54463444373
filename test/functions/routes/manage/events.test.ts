import { beforeAll, describe, expect, it } from "vitest";
import { eventListKey, theaterEventKey } from "../../../../shared/domain/keys.ts";
import { type MemoryCluster, startMemoryCluster } from "../../../support/memory-cluster.ts";
import {
  DAY_MS,
  eventBody,
  licensedTheater,
  manage,
  newKey,
  readJson,
  type TheaterCreds,
} from "./helpers.ts";

let mc: MemoryCluster;
let odeon: TheaterCreds;
let planId: string;
let venueId: string;

beforeAll(async () => {
  mc = await startMemoryCluster();
  odeon = await licensedTheater(mc, "odeon");
  const plan = await readJson("docs/examples/plan-small.json");
  const p = await manage(mc, "cloudflare", odeon, "POST", "/v1/manage/plans", {
    key: newKey(),
    body: { format: "tessera", plan },
  });
  planId = p.body.id;
});

const venueBody = () => ({
  name: "Odeon",
  address: "Taborstraße 10, 1020 Wien",
  timezone: "Europe/Vienna",
  planId,
});

describe("venues", () => {
  it("creates, reads, lists and changes a venue", async () => {
    const key = newKey();
    const c = await manage(mc, "cloudflare", odeon, "POST", "/v1/manage/venues", {
      key,
      body: venueBody(),
    });
    expect(c.status).toBe(201);
    venueId = c.body.id;
    expect(c.body).toEqual({ id: venueId, theaterId: "odeon", ...venueBody() });
    const replay = await manage(mc, "aws", odeon, "POST", "/v1/manage/venues", {
      key,
      body: venueBody(),
    });
    expect(replay.body.id).toBe(venueId);
    const g = await manage(mc, "aws", odeon, "GET", `/v1/manage/venues/${venueId}`);
    expect(g.body).toEqual(c.body);
    const p = await manage(mc, "vercel", odeon, "PATCH", `/v1/manage/venues/${venueId}`, {
      body: { name: "Odeon Theater" },
    });
    expect(p.status).toBe(200);
    expect(p.body.name).toBe("Odeon Theater");
    const l = await manage(mc, "cloudflare", odeon, "GET", "/v1/manage/venues");
    expect(l.body.items.map((v: { id: string }) => v.id)).toEqual([venueId]);
  });

  it("refuses a planId that is not one of the theatre's plans (422) and a bad time zone (400)", async () => {
    const r = await manage(mc, "cloudflare", odeon, "POST", "/v1/manage/venues", {
      key: newKey(),
      body: { ...venueBody(), planId: "p_nope" },
    });
    expect(r.status).toBe(422);
    expect(r.body.errors[0]).toMatchObject({ path: "/planId", code: "unknown_plan" });
    const tz = await manage(mc, "cloudflare", odeon, "POST", "/v1/manage/venues", {
      key: newKey(),
      body: { ...venueBody(), timezone: "Mars/Olympus" },
    });
    expect(tz.status).toBe(400);
    expect(tz.body.errors[0].path).toBe("/timezone");
  });
});

describe("events", () => {
  let eventId: string;
  let etag: string;

  it("creates a draft with both list entries in the same change", async () => {
    const r = await manage(mc, "vercel", odeon, "POST", "/v1/manage/events", {
      key: newKey(),
      body: eventBody(mc.clock.ms, venueId, planId, { premium: 4900, standard: 2900 }),
    });
    expect(r.status).toBe(201);
    expect(r.body.status).toBe("draft");
    eventId = r.body.id;
    etag = r.headers.get("etag")!;
    for (const k of [eventListKey(eventId), theaterEventKey("odeon", eventId)]) {
      const stored = [mc.acceptors.cloudflare, mc.acceptors.vercel, mc.acceptors.aws]
        .map((a) => a.records.get(k)?.value)
        .filter((v) => v != null);
      expect(stored.length).toBeGreaterThanOrEqual(2);
      expect(JSON.parse(stored[0]!)).toMatchObject({ id: eventId, status: "draft" });
    }
  });

  it("refuses a venue of nobody (422) and an invalid sales window (400)", async () => {
    const r = await manage(mc, "vercel", odeon, "POST", "/v1/manage/events", {
      key: newKey(),
      body: eventBody(mc.clock.ms, "v_nope", planId, { premium: 1 }),
    });
    expect(r.status).toBe(422);
    expect(r.body.errors[0].code).toBe("unknown_venue");
    const w = eventBody(mc.clock.ms, venueId, planId, { premium: 1 });
    w.salesWindow = { opensAt: w.salesWindow.closesAt, closesAt: w.salesWindow.opensAt };
    const bad = await manage(mc, "vercel", odeon, "POST", "/v1/manage/events", {
      key: newKey(),
      body: w,
    });
    expect(bad.status).toBe(400);
  });

  it("PATCH honours If-Match (412 on a stale ETag) and changes prices before sales open", async () => {
    const stale = await manage(mc, "aws", odeon, "PATCH", `/v1/manage/events/${eventId}`, {
      body: { title: "x" },
      headers: { "if-match": '"stale"' },
    });
    expect(stale.status).toBe(412);
    const r = await manage(mc, "aws", odeon, "PATCH", `/v1/manage/events/${eventId}`, {
      body: {
        priceCategories: [
          { categoryId: "premium", price: { amount: 5900, currency: "EUR" } },
          { categoryId: "standard", price: { amount: 3900, currency: "EUR" } },
        ],
      },
      headers: { "if-match": etag },
    });
    expect(r.status).toBe(200);
    expect(r.body.priceCategories[0].price.amount).toBe(5900);
  });

  it("open-sales checks every category is priced, then opens (and is safe to repeat)", async () => {
    const unpriced = await manage(mc, "cloudflare", odeon, "POST", "/v1/manage/events", {
      key: newKey(),
      body: eventBody(mc.clock.ms, venueId, planId, { premium: 100 }),
    });
    const refused = await manage(
      mc,
      "cloudflare",
      odeon,
      "POST",
      `/v1/manage/events/${unpriced.body.id}/open-sales`,
    );
    expect(refused.status).toBe(422);
    expect(refused.body.errors.map((e: { code: string }) => e.code)).toContain("unpriced_category");

    const open = await manage(mc, "aws", odeon, "POST", `/v1/manage/events/${eventId}/open-sales`);
    expect(open.status).toBe(200);
    expect(open.body.status).toBe("on-sale");
    const again = await manage(
      mc,
      "vercel",
      odeon,
      "POST",
      `/v1/manage/events/${eventId}/open-sales`,
    );
    expect(again.status).toBe(200);
    expect(again.body.status).toBe("on-sale");
  });

  it("refuses price changes after sales opened with 409, allows other fields", async () => {
    const r = await manage(mc, "aws", odeon, "PATCH", `/v1/manage/events/${eventId}`, {
      body: { priceCategories: [{ categoryId: "premium", price: { amount: 1, currency: "EUR" } }] },
    });
    expect(r.status).toBe(409);
    expect(r.body.errors[0].code).toBe("price_change_after_sales_open");
    const t = await manage(mc, "aws", odeon, "PATCH", `/v1/manage/events/${eventId}`, {
      body: { title: "Die Zauberflöte (neu)" },
    });
    expect(t.status).toBe(200);
    const g = await manage(mc, "cloudflare", odeon, "GET", `/v1/manage/events/${eventId}`);
    expect(g.body.priceCategories[0].price.amount).toBe(5900);
    expect(g.body.title).toBe("Die Zauberflöte (neu)");
  });

  it("close-sales closes; closing again answers the same", async () => {
    const c = await manage(mc, "vercel", odeon, "POST", `/v1/manage/events/${eventId}/close-sales`);
    expect(c.body.status).toBe("sales-closed");
    const again = await manage(
      mc,
      "aws",
      odeon,
      "POST",
      `/v1/manage/events/${eventId}/close-sales`,
    );
    expect(again.status).toBe(200);
    expect(again.body.status).toBe("sales-closed");
  });

  it("lists events with cursor pagination", async () => {
    for (let i = 0; i < 3; i++) {
      await manage(mc, "cloudflare", odeon, "POST", "/v1/manage/events", {
        key: newKey(),
        body: eventBody(mc.clock.ms + i * DAY_MS, venueId, planId, { premium: 100 }),
      });
    }
    const ids: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const r = await manage(
        mc,
        "aws",
        odeon,
        "GET",
        `/v1/manage/events?limit=2${cursor ? `&cursor=${cursor}` : ""}`,
      );
      expect(r.status).toBe(200);
      ids.push(...r.body.items.map((e: { id: string }) => e.id));
      cursor = r.body.nextCursor;
      pages++;
    } while (cursor);
    expect(ids.length).toBe(5);
    expect(new Set(ids).size).toBe(5);
    expect(pages).toBe(3);
    const bad = await manage(mc, "aws", odeon, "GET", "/v1/manage/events?cursor=Zm9v");
    expect(bad.status).toBe(400);
    const big = await manage(mc, "aws", odeon, "GET", "/v1/manage/events?limit=101");
    expect(big.status).toBe(400);
  });
});
