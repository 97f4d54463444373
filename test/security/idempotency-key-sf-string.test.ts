import { beforeAll, describe, expect, it } from "vitest";
import { parseIdempotencyKey } from "../../shared/domain/idempotency-key.ts";
import { CARD_OK, call } from "../functions/routes/buyer/helpers.ts";
import { licensedTheater, manage, type TheaterCreds } from "../functions/routes/manage/helpers.ts";
import { type MemoryCluster, startSeededMemoryCluster } from "../support/memory-cluster.ts";
import type { Seeded } from "../support/seed.ts";

/**
 * Issue #11 item 9: the IETF draft (draft-ietf-httpapi-idempotency-key-header) makes
 * Idempotency-Key a Structured Field whose value is a String, so its own example is
 * `Idempotency-Key: "8e03978e-40d5-43e8-bc93-6894a57f9324"`. That form was refused with 400. It is
 * now parsed as an RFC 8941 sf-string; the quoted and the bare form of one key are the same key.
 * A buyer's claims are swept after RECORD_RETENTION_MS, but a confirm retry years later still
 * replays (the sold hold names the confirm that bought it); a theater's claims are kept for good.
 */

let mc: MemoryCluster;
let ev: Seeded;
let alice: string;
let theater: TheaterCreds;
const YEAR_MS = 366 * 86_400_000;
const CRON_SECRET = "sf-test-cron-secret-0123456789";

beforeAll(async () => {
  ({ mc, ev } = await startSeededMemoryCluster({ env: { CRON_SECRET } }));
  alice = await mc.tokenFor("alice");
  theater = await licensedTheater(mc, "sf-theatre", { ttlS: 3 * 366 * 86_400 });
});

describe("Idempotency-Key as an RFC 8941 sf-string", () => {
  it("accepts the draft's own quoted form, and the bare form names the same key", async () => {
    const body = { seats: [ev.seats[0]] };
    const quoted = await call(mc, "cloudflare", "POST", `/v1/events/${ev.eventId}/holds`, {
      token: alice,
      key: '"8e03978e-40d5-43e8-bc93-6894a57f9324"',
      body,
    });
    expect(quoted.status).toBe(201);
    const bare = await call(mc, "vercel", "POST", `/v1/events/${ev.eventId}/holds`, {
      token: alice,
      key: "8e03978e-40d5-43e8-bc93-6894a57f9324",
      body,
    });
    expect(bare.status).toBe(201);
    expect(bare.body.holdId).toBe(quoted.body.holdId);
  });

  it("refuses malformed sf-strings with a 400 problem naming the header", async () => {
    for (const key of ['"abc', 'abc"', '"a\\bc"', '"ab"c', '"ab";p=1', '"a b"', '""', '"a/b"']) {
      const r = await call(mc, "aws", "POST", `/v1/events/${ev.eventId}/holds`, {
        token: alice,
        key,
        body: { seats: [ev.seats[1]] },
      });
      expect(r.status, key).toBe(400);
      expect(r.headers.get("content-type")).toContain("application/problem+json");
      expect(JSON.stringify(r.body.errors), key).toContain("idempotency-key");
    }
  });

  it("works on management writes too, replaying a quoted key's result for its bare form", async () => {
    const plan = await manage(mc, "cloudflare", theater, "POST", "/v1/manage/plans", {
      key: '"plan-1"',
      body: {
        format: "tessera",
        plan: {
          name: "P",
          size: { width: 100, height: 100 },
          categories: [{ id: "c", name: "C", color: "red" }],
          sections: [
            {
              id: "s",
              name: "S",
              rows: [
                {
                  id: "r",
                  label: "A",
                  seats: [{ id: "s1", label: "1", x: 1, y: 1, category: "c" }],
                },
              ],
            },
          ],
        },
      },
    });
    expect(plan.status).toBe(201);
    const venue = {
      name: "Hall",
      address: "Wien",
      timezone: "Europe/Vienna",
      planId: plan.body.id,
    };
    const a = await manage(mc, "cloudflare", theater, "POST", "/v1/manage/venues", {
      key: '"venue-1"',
      body: venue,
    });
    expect(a.status).toBe(201);
    const b = await manage(mc, "aws", theater, "POST", "/v1/manage/venues", {
      key: "venue-1",
      body: venue,
    });
    expect(b.body.id).toBe(a.body.id);
    expect(b.headers.get("idempotent-replayed")).toBe("true");
  });

  it("a year and a sweep later a confirm key still replays, and a theater's key is still 422 for another body", async () => {
    const key = '"keep-me"';
    const h = await call(mc, "cloudflare", "POST", `/v1/events/${ev.eventId}/holds`, {
      token: alice,
      key: "hold-keep-me",
      body: { seats: [ev.seats[2]] },
    });
    const c = await call(mc, "vercel", "POST", `/v1/holds/${h.body.holdId}/confirm`, {
      token: alice,
      key,
      body: { card: CARD_OK },
    });
    expect(c.status).toBe(201);
    mc.clock.ms += YEAR_MS;
    const swept = await mc.request("aws", "/internal/anti-entropy", {
      method: "POST",
      headers: { authorization: `Bearer ${CRON_SECRET}` },
    });
    const sweep = ((await swept.json()) as { sweep: Record<string, { swept: number }> }).sweep;
    // The hold's and the confirm's claims are gone; the theater's venue claim is not.
    expect(sweep["idem/"]?.swept).toBeGreaterThanOrEqual(2);
    const later = await mc.tokenFor("alice");
    const again = await call(mc, "aws", "POST", `/v1/holds/${h.body.holdId}/confirm`, {
      token: later,
      key: "keep-me",
      body: { card: CARD_OK },
    });
    expect(again.status).toBe(201);
    expect(again.body.order.id).toBe(c.body.order.id);
    const venue = { name: "Hall", address: "Wien", timezone: "Europe/Vienna", planId: "p" };
    const reused = await manage(mc, "vercel", theater, "POST", "/v1/manage/venues", {
      key: "venue-1",
      body: { ...venue, name: "Another hall" },
    });
    expect(reused.status).toBe(422);
  });
});

describe("parseIdempotencyKey", () => {
  it("unwraps sf-strings, keeps bare keys, and refuses everything else", () => {
    expect(parseIdempotencyKey('"abc"')).toEqual({ ok: true, key: "abc" });
    expect(parseIdempotencyKey("abc")).toEqual({ ok: true, key: "abc" });
    expect(parseIdempotencyKey(' "abc" ')).toEqual({ ok: true, key: "abc" });
    for (const bad of [
      '"abc',
      '"a\\"b"',
      '"a\\\\b"',
      '"a\u00e9"',
      '"a"b',
      "a b",
      "",
      '""',
      "a/b",
    ]) {
      expect(parseIdempotencyKey(bad).ok, bad).toBe(false);
    }
  });
});
