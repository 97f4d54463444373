import { beforeAll, describe, expect, it } from "vitest";
import {
  createTesseraClient,
  TesseraNetworkError,
  TesseraProblemError,
  theaterCredentials,
} from "../../shared/client/index.ts";
import { PROVIDERS, type ProviderId } from "../../shared/config.ts";
import { CARD_OK } from "../functions/routes/buyer/helpers.ts";
import { eventBody, licensedTheater, readJson } from "../functions/routes/manage/helpers.ts";
import { type MemoryCluster, startMemoryCluster } from "../support/memory-cluster.ts";

let mc: MemoryCluster;
let url: Record<ProviderId, string>;
let eventId: string;
let alice: string;
let bob: string;

/** Every request the client made: provider, method, path and Idempotency-Key. */
const seen: { p: ProviderId; method: string; path: string; key: string | null }[] = [];

type Fault = "network" | "503" | "lose-reply";
/** A client fetch into the memory cluster, with per-provider faults. */
function clientFetch(faults: Partial<Record<ProviderId, Fault>>): typeof fetch {
  return async (input, init) => {
    const req = new Request(input, init);
    const u = new URL(req.url);
    const p = PROVIDERS.find((x) => new URL(url[x]).origin === u.origin)!;
    seen.push({ p, method: req.method, path: u.pathname, key: req.headers.get("idempotency-key") });
    const fault = faults[p];
    if (fault === "network") throw new TypeError("fetch failed: connection refused");
    if (fault === "503") {
      return new Response(
        JSON.stringify({
          type: "https://tessera.dev/problems/quorum-unavailable",
          title: "x",
          status: 503,
        }),
        {
          status: 503,
          headers: { "content-type": "application/problem+json", "retry-after": "2" },
        },
      );
    }
    const res = await mc.apps[p].request(req);
    if (fault === "lose-reply") throw new TypeError("fetch failed: connection reset");
    return res;
  };
}

const client = (faults: Partial<Record<ProviderId, Fault>> = {}, token?: string) =>
  createTesseraClient({
    endpoints: PROVIDERS.map((p) => url[p]),
    fetch: clientFetch(faults),
    ...(token ? { token: () => token } : {}),
  });

beforeAll(async () => {
  mc = await startMemoryCluster();
  url = Object.fromEntries(PROVIDERS.map((p) => [p, mc.tc.cluster.providers[p].url])) as Record<
    ProviderId,
    string
  >;
  alice = await mc.tokenFor("alice");
  bob = await mc.tokenFor("bob");
  // The theatre sets up through the client, with Cloudflare unreachable.
  const creds = await licensedTheater(mc, "odeon");
  const m = client({ cloudflare: "network" }).manage(
    theaterCredentials({ license: creds.license, theaterKey: creds.key, now: () => mc.clock.ms }),
  );
  const plan = await m.uploadPlan("pretix", await readJson("docs/examples/plan-pretix.json"));
  const venue = await m.createVenue({
    name: "Kleiner Saal",
    address: "Wien",
    timezone: "Europe/Vienna",
    planId: plan.id,
  });
  const ev = await m.createEvent(
    eventBody(mc.clock.ms, venue.id, plan.id, { parkett: 3000, loge: 5000 }) as never,
  );
  eventId = (await m.openSales(ev.id)).id;
});

describe("createTesseraClient", () => {
  it("fails over to the next endpoint on a network error", async () => {
    seen.length = 0;
    const page = await client({ cloudflare: "network" }).listEvents({ q: "zauberflöte" });
    expect(page.items.map((e) => e.id)).toEqual([eventId]);
    expect(seen.map((s) => s.p)).toEqual(["cloudflare", "vercel"]);
  });

  it("fails over on 503 and remembers the endpoint that answered", async () => {
    seen.length = 0;
    const c = client({ cloudflare: "503" });
    expect((await c.getEvent(eventId)).id).toBe(eventId);
    expect((await c.getEvent(eventId)).id).toBe(eventId);
    expect(seen.map((s) => s.p)).toEqual(["cloudflare", "vercel", "vercel"]);
  });

  it("retries a write whose reply was lost with the SAME Idempotency-Key: one hold, replayed", async () => {
    seen.length = 0;
    const c = client({ cloudflare: "lose-reply" }, alice);
    const { seatMap } = (await c.getSeatMap(eventId)) as {
      seatMap: { sections: { id: string; rows: { seats: { id: string }[] }[] }[] };
    };
    const sec = seatMap.sections[0]!;
    const seat = { sectionId: sec.id, seatId: sec.rows[0]!.seats[0]!.id };
    seen.length = 0;
    // A fresh client starts at the first endpoint again (the one losing replies).
    const hold = await client({ cloudflare: "lose-reply" }, alice).hold(eventId, [seat]);
    expect(hold.state).toBe("held");
    const posts = seen.filter((s) => s.method === "POST");
    expect(posts.map((s) => s.p)).toEqual(["cloudflare", "vercel"]);
    expect(posts[0]!.key).toBeTruthy();
    expect(posts[1]!.key).toBe(posts[0]!.key);
    // Bob cannot take the seat: the lost first attempt and the retry are one hold.
    const err = await client({}, bob)
      .hold(eventId, [seat])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TesseraProblemError);
    expect((err as TesseraProblemError).status).toBe(409);
    // Alice pays through the client too.
    const bought = await c.confirm(hold.holdId, CARD_OK);
    expect(bought.order.status).toBe("confirmed");
    const mine = await c.myOrders();
    expect(mine.items.map((o) => o.id)).toContain(bought.order.id);
  });

  it("surfaces problem+json as TesseraProblemError with every error listed", async () => {
    const err = await client({}, alice)
      .hold(eventId, [])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TesseraProblemError);
    const p = err as TesseraProblemError;
    expect(p.status).toBe(400);
    expect(p.slug).toBe("validation");
    expect(p.errors.length).toBeGreaterThan(0);
    expect(p.errors[0]).toHaveProperty("path");
    const nf = (await client()
      .getEvent("nope")
      .catch((e: unknown) => e)) as TesseraProblemError;
    expect([nf.status, nf.title]).toEqual([404, "Not Found"]);
  });

  it("answers { notModified } to a matching ETag", async () => {
    const c = client({ vercel: "network" });
    const first = await c.getSeatMap(eventId);
    const again = await c.getSeatMap(eventId, { etag: first.etag });
    expect(again.notModified).toBe(true);
  });

  it("gives up with TesseraNetworkError when no endpoint answers, and with the last 503 problem", async () => {
    const all = { cloudflare: "network", vercel: "network", aws: "network" } as const;
    await expect(client(all).listEvents()).rejects.toBeInstanceOf(TesseraNetworkError);
    const busy = { cloudflare: "503", vercel: "503", aws: "503" } as const;
    const e = (await client(busy)
      .listEvents()
      .catch((x: unknown) => x)) as TesseraProblemError;
    expect(e).toBeInstanceOf(TesseraProblemError);
    expect([e.status, e.retryAfterS]).toEqual([503, 2]);
  });
});
