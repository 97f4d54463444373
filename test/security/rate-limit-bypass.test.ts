import { describe, expect, it } from "vitest";
import { licensedTheater, manage } from "../functions/routes/manage/helpers.ts";
import { type MemoryCluster, startMemoryCluster } from "../support/memory-cluster.ts";

/**
 * Issue #11 item 5: the rate limit keyed on X-Forwarded-For (client-chosen), skipped any request
 * with an Authorization header, covered /v1 only (not /idp/token), never limited a theatre (each
 * of its tokens is new, so each was a new "client"), and a clock stepped back emptied buckets.
 * The default address budget is 600 requests per minute per instance.
 */

const ADDRESS_BUDGET = 600;
const CLIENT = "198.51.100.7";

async function burst(n: number, send: (i: number) => Promise<Response>): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = await send(i);
    await r.body?.cancel();
    statuses.push(r.status);
  }
  return statuses;
}

const fresh = (o: Parameters<typeof startMemoryCluster>[0] = {}) =>
  startMemoryCluster({ clusterId: "rate-limits", ...o });

describe("rate limits key on what the client cannot choose", () => {
  it("rotating X-Forwarded-For does not reset the limit", async () => {
    const mc = await fresh();
    const s = await burst(ADDRESS_BUDGET + 1, (i) =>
      mc.request(
        "cloudflare",
        "/v1/nothing-here",
        { headers: { "x-forwarded-for": `203.0.113.${i % 250}, 10.0.0.${i % 200}` } },
        CLIENT,
      ),
    );
    expect(s.at(-1)).toBe(429);
  });

  it("a garbage Authorization header does not skip the limit", async () => {
    const mc = await fresh();
    const s = await burst(ADDRESS_BUDGET + 1, (i) =>
      mc.request(
        "vercel",
        "/v1/nothing-here",
        { headers: { authorization: `Basic ${btoa(`mallory:${i}`)}` } },
        CLIENT,
      ),
    );
    expect(s.at(-1)).toBe(429);
  });

  it("/idp/token is limited", async () => {
    const mc = await fresh();
    const s = await burst(ADDRESS_BUDGET + 1, () =>
      mc.request(
        "cloudflare",
        "/idp/token",
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ username: "alice" }),
        },
        CLIENT,
      ),
    );
    expect(s[0]).toBe(200);
    expect(s.at(-1)).toBe(429);
  });

  it("each platform-reported address has its own budget", async () => {
    const mc = await fresh();
    await burst(ADDRESS_BUDGET + 1, () => mc.request("aws", "/v1/nothing-here", {}, CLIENT));
    const other = await mc.request("aws", "/v1/nothing-here", {}, "192.0.2.99");
    expect(other.status).toBe(404);
  });

  it("a theatre is limited per theatre, whatever fresh token each call carries", async () => {
    const mc = await fresh({ rateLimits: { theater: { limit: 5, windowS: 60 } } });
    const t = await licensedTheater(mc, "th-busy");
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      statuses.push((await manage(mc, "cloudflare", t, "GET", "/v1/manage/events")).status);
    }
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(statuses[5]).toBe(429);
    // Another theatre is not affected.
    const other = await licensedTheater(mc, "th-calm");
    expect((await manage(mc, "cloudflare", other, "GET", "/v1/manage/events")).status).toBe(200);
  });

  it("a verified buyer is limited per buyer, and buyers behind one address do not share a budget", async () => {
    const mc: MemoryCluster = await fresh({ rateLimits: { buyer: { limit: 3, windowS: 60 } } });
    const alice = await mc.tokenFor("alice");
    const bob = await mc.tokenFor("bob");
    const get = (token: string) =>
      mc.request(
        "vercel",
        "/v1/me/orders",
        { headers: { authorization: `Bearer ${token}` } },
        CLIENT,
      );
    const s = await burst(4, () => get(alice));
    expect(s).toEqual([200, 200, 200, 429]);
    expect((await get(bob)).status).toBe(200);
  });

  it("a clock stepped back does not block a client", async () => {
    const mc = await fresh();
    expect((await mc.request("aws", "/v1/nothing-here", {}, CLIENT)).status).toBe(404);
    mc.clock.ms -= 10 * 60_000;
    const r = await mc.request("aws", "/v1/nothing-here", {}, CLIENT);
    expect(r.status).toBe(404);
  });
});
