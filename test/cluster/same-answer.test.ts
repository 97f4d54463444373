import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  examplePlan,
  licenseTheater,
  type OpeningCalls,
  openEventOnSale,
} from "../../scripts/local/seed.ts";
import {
  type Credentials,
  createTesseraClient,
  type Event,
  type PlanMeta,
  type Purchase,
  type SeatMap,
  type SeatRef,
  theaterCredentials,
  type Venue,
} from "../../shared/client/index.ts";
import { PROVIDERS, type ProviderId } from "../../shared/config.ts";
import { TEST_CARDS } from "../../shared/payments/simulated-processor.ts";
import { verifyTicket } from "../../shared/tickets/verify.ts";
import { settled } from "../support/eventually.ts";
import { startTestCluster } from "../support/local-cluster.ts";

/**
 * One handler set on three adapters must be one service: the same calls through Cloudflare
 * (workerd + Durable Objects), Vercel (built function + Upstash over redis) and AWS (Lambda +
 * dynalite/s3rver) give the same answers — status, content type, problem type and body — up to the
 * ids and times a run mints (`normalise` at the bottom says exactly what is set aside, and why).
 * The theatre and buyer flows run once per provider as the entry point, and each run's result must
 * then read the same on the other two. Refusals are sent to all three at once and must match
 * byte for byte (as parsed JSON).
 */

const CARD = { number: TEST_CARDS.success, expMonth: 12, expYear: 2040, cvc: "123" };
const DECLINED = { ...CARD, number: TEST_CARDS.declined };
const PROBLEMS = "https://tessera.dev/problems/";
/** The dev IdP's users (scripts/local/env.ts): one buyer per entry provider, one for refusals. */
const BUYER: Record<ProviderId, string> = { cloudflare: "alice", vercel: "bob", aws: "carol" };
const REFUSED_BUYER = "dave";

let cluster: Awaited<ReturnType<typeof startTestCluster>>;
let urls: Record<ProviderId, string>;
let theater: Credentials;
/** One clock reading for every event the file opens, so that their dates are the same. */
let now: number;

beforeAll(async () => {
  cluster = await startTestCluster("test-same-answer");
  urls = Object.fromEntries(PROVIDERS.map((p) => [p, cluster.providers[p].url])) as Record<
    ProviderId,
    string
  >;
  now = Date.now();
  theater = theaterCredentials(
    await licenseTheater(cluster, { theaterId: "odeon", name: "Odeon", ttlS: 3600, now }),
  );
}, 120_000);
afterAll(async () => {
  await cluster?.dispose();
});

describe("one handler set on three local adapters", () => {
  it("each provider serves /health naming its own store as healthy and its peers reachable", async () => {
    const stores = { cloudflare: "durable-objects", vercel: "upstash-redis", aws: "dynamodb" };
    for (const p of PROVIDERS) {
      const r = await fetch(`${cluster.providers[p].url}/health`);
      expect(r.status).toBe(200);
      const h = (await r.json()) as {
        provider: string;
        store: { name: string; ok: boolean };
        quorum: { reachable: number; available: boolean };
      };
      expect(h.provider).toBe(p);
      expect(h.store).toMatchObject({ name: stores[p], ok: true });
      expect(h.quorum).toEqual({ reachable: 3, available: true });
    }
  });

  it("the same route gives the same answer on all three", async () => {
    const bodies = await Promise.all(
      PROVIDERS.map(async (p) => {
        const r = await fetch(`${cluster.providers[p].url}/v1/nowhere?x=1`);
        return { status: r.status, type: r.headers.get("content-type"), body: await r.text() };
      }),
    );
    expect(bodies[0]?.status).toBe(404);
    expect(bodies[0]?.type).toBe("application/problem+json");
    expect(bodies[1]).toEqual(bodies[0]);
    expect(bodies[2]).toEqual(bodies[0]);
  });
});

describe("the theatre flow, once from each provider", () => {
  it.each(PROVIDERS)(
    "opened from %s, each write on another provider; all three read it back alike",
    async (p) => {
      const opened = await openedFrom(p);
      const { event } = opened;
      expect(calls(normalised(opened.transcript, theatreIds(opened)))).toEqual([
        ["POST /v1/manage/plans", 201, "application/json"],
        ["POST /v1/manage/venues", 201, "application/json"],
        ["POST /v1/manage/events", 201, "application/json"],
        ["POST /v1/manage/events/<event>/open-sales", 200, "application/json"],
      ]);
      expect(event.status).toBe("on-sale");
      // Catalog reads are local (management reads go through the quorum): a provider that missed
      // a write answers once it has caught up, and then exactly what the opening answered.
      for (const q of PROVIDERS) {
        const managed = await settled(
          () => client(q).manage(theater).getEvent(event.id).catch(String),
          (e) => (e as Event).status === "on-sale",
        );
        expect([q, managed]).toEqual([q, event]);
        const seen = await settled(
          () => client(q).getEvent(event.id).catch(String),
          (e) => (e as Event).status === "on-sale",
        );
        expect([q, seen]).toEqual([q, publicEvent(event)]);
      }
    },
  );

  it("the three openings answered alike, up to the ids they minted", async () => {
    const [first, ...others] = await Promise.all(
      PROVIDERS.map(async (p) => {
        const o = await openedFrom(p);
        return normalised(o.transcript, theatreIds(o));
      }),
    );
    for (const t of others) expect(t).toEqual(first);
  });
});

describe("the buyer flow, once through each provider", () => {
  it.each(PROVIDERS)(
    "a buyer entering through %s browses, holds, pays, reads orders and tickets; the others see the sale",
    async (p) => {
      const bought = await boughtThrough(p);
      const { transcript, purchase, seats, eventId } = bought;
      expect(calls(normalised(transcript, await boughtIds(p)))).toEqual(BUYER_CALLS);
      expect(purchase.order.status).toBe("confirmed");
      expect(purchase.tickets).toHaveLength(seats.length);

      // Every exported ticket is vouched for by at least two providers of this cluster.
      const exported = transcript.at(-1)?.body as { tickets: unknown[] };
      expect(exported.tickets).toHaveLength(seats.length);
      for (const t of exported.tickets) {
        const v = await verifyTicket(t, cluster.cluster);
        expect(v.valid && v.providers.length >= 2).toBe(true);
      }

      // The other two see the sale: the order and its tickets read the same on all three...
      const token = await buyerToken(BUYER[p]);
      const tickets = byId(purchase.tickets);
      for (const q of PROVIDERS) {
        const read = await settled(
          () => client(q, token).myOrder(purchase.order.id).catch(String),
          (o) => (o as Purchase).order?.status === "confirmed",
        );
        expect([q, (read as Purchase).order]).toEqual([q, purchase.order]);
        expect([q, byId((read as Purchase).tickets)]).toEqual([q, tickets]);
      }

      // ...and every provider's seat map shows the seats sold; after which the maps are one map.
      const sold = new Set(seats.map((s) => s.seatId));
      const maps = await Promise.all(
        PROVIDERS.map((q) =>
          settled(
            () => seatMap(q, eventId),
            (m) => statuses(m).every(([id, st]) => !sold.has(id) || st === "sold"),
          ),
        ),
      );
      for (const [i, m] of maps.entries()) {
        const q = PROVIDERS[i];
        const mine = statuses(m).filter(([id]) => sold.has(id));
        expect([q, mine]).toEqual([q, seats.map((s) => [s.seatId, "sold"])]);
        expect([q, m]).toEqual([q, maps[0]]);
      }
    },
  );

  it("the three purchases answered alike, up to the ids and times they minted", async () => {
    const [first, ...others] = await Promise.all(
      PROVIDERS.map(async (p) =>
        normalised((await boughtThrough(p)).transcript, await boughtIds(p)),
      ),
    );
    for (const t of others) expect(t).toEqual(first);
  });

  it("the programme is the same list on all three", async () => {
    for (const p of PROVIDERS) await openedFrom(p);
    const lists = await settled(
      () => Promise.all(PROVIDERS.map((q) => client(q).listEvents())),
      (ls) => ls.every((l) => JSON.stringify(l) === JSON.stringify(ls[0])),
    );
    expect(lists[0]?.items.length).toBeGreaterThanOrEqual(PROVIDERS.length);
    for (const l of lists) expect(l).toEqual(lists[0]);
  });
});

describe("refusals agree on all three", () => {
  it("a hold of a sold seat is 409 taken, naming the same seats", async () => {
    const { eventId, seats } = await boughtThrough("cloudflare");
    const token = await buyerToken(REFUSED_BUYER);
    const answers = await onEach((p) =>
      raw(p, "POST", `/v1/events/${eventId}/holds`, { token, body: { seats } }),
    );
    expect(answers.cloudflare).toMatchObject({
      status: 409,
      contentType: "application/problem+json",
      body: { type: `${PROBLEMS}taken`, seats },
    });
    expect(answers.vercel).toEqual(answers.cloudflare);
    expect(answers.aws).toEqual(answers.cloudflare);
  });

  it("a malformed hold is 400 validation with the same error list", async () => {
    const { event } = await openedFrom("cloudflare");
    const holds = `/v1/events/${event.id}/holds`;
    const token = await buyerToken(REFUSED_BUYER);
    const bad = { seats: [{ sectionId: "stalls", seatId: 7 }, {}], extra: true };
    const answers = await onEach((p) => raw(p, "POST", holds, { token, body: bad }));
    expect(answers.cloudflare).toMatchObject({
      status: 400,
      contentType: "application/problem+json",
      body: { type: `${PROBLEMS}validation` },
    });
    // Every problem is listed, not just the first.
    const { errors } = answers.cloudflare.body as { errors: { path: string }[] };
    expect(errors.map((e) => e.path)).toEqual([
      "/seats/0/seatId",
      "/seats/1/sectionId",
      "/seats/1/seatId",
      "/",
    ]);
    expect(answers.vercel).toEqual(answers.cloudflare);
    expect(answers.aws).toEqual(answers.cloudflare);

    // Not JSON at all, and no Idempotency-Key: refused alike too.
    for (const [o, type] of [
      [{ text: "{seats:" }, "invalid-body"],
      [{ body: { seats: [] }, key: false }, "validation"],
    ] as const) {
      const refused = await onEach((p) => raw(p, "POST", holds, { token, ...o }));
      expect(refused.cloudflare).toMatchObject({
        status: 400,
        body: { type: `${PROBLEMS}${type}` },
      });
      expect(refused.vercel).toEqual(refused.cloudflare);
      expect(refused.aws).toEqual(refused.cloudflare);
    }
  });

  it("an unknown hold is 404, to read and to pay", async () => {
    const token = await buyerToken(REFUSED_BUYER);
    const unknown = "hNoSuchHoldAtAll0";
    for (const [method, path, body] of [
      ["GET", `/v1/holds/${unknown}`, undefined],
      ["POST", `/v1/holds/${unknown}/confirm`, { card: CARD }],
    ] as const) {
      const answers = await onEach((p) => raw(p, method, path, { token, body }));
      expect([path, answers.cloudflare.status, answers.cloudflare.contentType]).toEqual([
        path,
        404,
        "application/problem+json",
      ]);
      expect(answers.vercel).toEqual(answers.cloudflare);
      expect(answers.aws).toEqual(answers.cloudflare);
    }
  });

  it("a declined card is 402 with the same problem, and the seat stays held", async () => {
    const token = await buyerToken(REFUSED_BUYER);
    // Each provider refuses on the event opened from it: the same call up to the event's and
    // the hold's ids, which are normalised away.
    const answers = await onEach(async (p) => {
      const opened = await openedFrom(p);
      const buyer = client(p, token);
      const hold = await buyer.hold(opened.event.id, [
        { sectionId: "stalls", seatId: "stalls-b1" },
      ]);
      const declined = await raw(p, "POST", `/v1/holds/${hold.holdId}/confirm`, {
        token,
        body: { card: DECLINED },
      });
      const after = await buyer.getHold(hold.holdId);
      const ids = new Map([...theatreIds(opened), [hold.holdId, "<hold>"]]);
      return normalise({ declined, after }, ids);
    });
    expect(answers.cloudflare).toMatchObject({
      declined: { status: 402, contentType: "application/problem+json" },
      after: { state: "held" },
    });
    expect(answers.vercel).toEqual(answers.cloudflare);
    expect(answers.aws).toEqual(answers.cloudflare);
  });

  it("a missing or bad token is 401 with the same www-authenticate", async () => {
    const { event } = await openedFrom("cloudflare");
    const managed = `/v1/manage/events/${event.id}`;
    const cases: [string, string, Record<string, string>][] = [
      ["buyer, no token", "/v1/me/orders", {}],
      ["buyer, bad token", "/v1/me/orders", { authorization: "Bearer not-a-token" }],
      ["theatre, no token", managed, {}],
      ["theatre, bad token", managed, { authorization: "Tessera-Theater not-a-token" }],
    ];
    for (const [name, path, headers] of cases) {
      const answers = await onEach((p) => raw(p, "GET", path, { headers }));
      expect([name, answers.cloudflare]).toMatchObject([
        name,
        {
          status: 401,
          contentType: "application/problem+json",
          wwwAuthenticate: expect.stringMatching(/^(Bearer|Tessera-Theater) realm="tessera"/),
          body: { type: `${PROBLEMS}unauthorized` },
        },
      ]);
      expect([name, answers.vercel]).toEqual([name, answers.cloudflare]);
      expect([name, answers.aws]).toEqual([name, answers.cloudflare]);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The flows, memoised per entry provider: each runs once, and later tests reuse its result.

/** One answer as a client saw it: what was called, and what came back. */
interface Answer {
  call: string;
  status: number;
  contentType: string | null;
  body: unknown;
}

/** A client of one provider only (no failover), recording every answer into `transcript`. */
function client(p: ProviderId, token?: string, transcript?: Answer[]) {
  const recording: typeof fetch = async (input, init) => {
    const r = await fetch(input, init);
    if (transcript) {
      const u = new URL(String(input));
      const text = await r.clone().text();
      transcript.push({
        call: `${init?.method ?? "GET"} ${u.pathname}${u.search}`,
        status: r.status,
        contentType: r.headers.get("content-type"),
        body: text ? (JSON.parse(text) as unknown) : null,
      });
    }
    return r;
  };
  return createTesseraClient({
    endpoints: [urls[p]],
    fetch: recording,
    ...(token ? { token: () => token } : {}),
  });
}

interface Opened {
  plan: PlanMeta;
  venue: Venue;
  event: Event;
  transcript: Answer[];
}
const openings = new Map<ProviderId, Promise<Opened>>();

/**
 * The theatre opens a sale (scripts/local/seed.ts openEventOnSale) starting from `entry`, each
 * write on the next provider round: the plan on `entry`, the venue on the one after, the event on
 * the third, the opening of its sale back on `entry`. So each write finds the records it refers to
 * through the quorum, not on the provider that wrote them.
 */
function openedFrom(entry: ProviderId): Promise<Opened> {
  let o = openings.get(entry);
  if (!o) {
    o = (async () => {
      const transcript: Answer[] = [];
      const i = PROVIDERS.indexOf(entry);
      const on = (k: number) =>
        client(PROVIDERS[(i + k) % PROVIDERS.length]!, undefined, transcript).manage(theater);
      const calls: OpeningCalls = {
        uploadPlan: on(0).uploadPlan,
        createVenue: on(1).createVenue,
        createEvent: on(2).createEvent,
        openSales: on(0).openSales,
      };
      const r = await openEventOnSale(calls, {
        plan: await examplePlan(),
        venue: { name: "Kleiner Saal", address: "Taborstraße 10, Wien", timezone: "Europe/Vienna" },
        title: "Der Zerrissene",
        now,
      });
      return { ...r, transcript };
    })();
    openings.set(entry, o);
  }
  return o;
}

/** The calls of one buyer flow, in order, with what each must answer. */
const BUYER_CALLS = [
  ["GET /v1/events", 200, "application/json"],
  ["GET /v1/events/<event>", 200, "application/json"],
  ["GET /v1/events/<event>/seats", 200, "application/json"],
  ["POST /v1/events/<event>/holds", 201, "application/json"],
  ["POST /v1/holds/<hold>/confirm", 201, "application/json"],
  ["GET /v1/holds/<hold>", 200, "application/json"],
  ["GET /v1/me/orders", 200, "application/json"],
  ["GET /v1/me/orders/<order>", 200, "application/json"],
  ["GET /v1/me/tickets", 200, "application/json"],
  ["GET /v1/me/tickets/export", 200, "application/json"],
];

interface Bought {
  eventId: string;
  seats: SeatRef[];
  purchase: Purchase;
  transcript: Answer[];
}
const purchases = new Map<ProviderId, Promise<Bought>>();

/**
 * BUYER[entry] buys, all through `entry`, the first two seats of the event opened from `entry`:
 * browses the programme, the event and its seat map, holds, pays with the test card, then reads
 * the hold, the orders, the order, the tickets and the ticket export (BUYER_CALLS).
 */
function boughtThrough(entry: ProviderId): Promise<Bought> {
  let b = purchases.get(entry);
  if (!b) {
    b = (async () => {
      const { event } = await openedFrom(entry);
      const transcript: Answer[] = [];
      const buyer = client(entry, await buyerToken(BUYER[entry]), transcript);
      const programme = await buyer.listEvents();
      expect(programme.items.map((e) => e.id)).toContain(event.id);
      await buyer.getEvent(event.id);
      const map = await buyer.getSeatMap(event.id);
      if (map.notModified) throw new Error("a first seat-map read cannot be 304");
      const [section] = map.seatMap.sections;
      const seats = section!.rows[0]!.seats.slice(0, 2).map((s) => ({
        sectionId: section!.id,
        seatId: s.id,
      }));
      const hold = await buyer.hold(event.id, seats);
      const purchase = await buyer.confirm(hold.holdId, CARD);
      await buyer.getHold(hold.holdId);
      await buyer.myOrders();
      await buyer.myOrder(purchase.order.id);
      await buyer.myTickets();
      await buyer.exportTickets();
      // The programme lists every event opened so far, not only this run's, so two runs' lists
      // differ by design: it is compared across providers at one moment in its own test instead.
      transcript[0] = { ...transcript[0]!, body: "<programme>" };
      return { eventId: event.id, seats, purchase, transcript };
    })();
    purchases.set(entry, b);
  }
  return b;
}

async function buyerToken(username: string): Promise<string> {
  const r = await fetch(`${urls.cloudflare}/idp/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username }),
  });
  expect(r.status).toBe(200);
  return ((await r.json()) as { access_token: string }).access_token;
}

async function seatMap(p: ProviderId, eventId: string): Promise<SeatMap | undefined> {
  const r = await client(p).getSeatMap(eventId);
  return r.notModified ? undefined : r.seatMap;
}

function statuses(m: SeatMap | undefined): [string, string][] {
  return (m?.sections ?? []).flatMap((s) =>
    s.rows.flatMap((r) => r.seats.map((x) => [x.id, x.status] as [string, string])),
  );
}

const publicEvent = ({ allowedBuyers: _, ...rest }: Event) => rest;

const byId = <T extends { id: string }>(xs: readonly T[] = []) =>
  [...xs].sort((a, b) => a.id.localeCompare(b.id));

/** The same call on every provider at once. */
async function onEach<T>(f: (p: ProviderId) => Promise<T>): Promise<Record<ProviderId, T>> {
  const all = await Promise.all(PROVIDERS.map(f));
  return Object.fromEntries(PROVIDERS.map((p, i) => [p, all[i]])) as Record<ProviderId, T>;
}

/** A raw call, for refusals: every part of the answer a client can tell apart. */
async function raw(
  p: ProviderId,
  method: string,
  path: string,
  o: {
    token?: string;
    body?: unknown;
    /** A body sent as is, instead of `body` as JSON. */
    text?: string;
    headers?: Record<string, string>;
    /** Whether a POST carries a fresh Idempotency-Key (it does unless told not to). */
    key?: boolean;
  } = {},
) {
  const text = o.text ?? (o.body === undefined ? undefined : JSON.stringify(o.body));
  const r = await fetch(`${urls[p]}${path}`, {
    method,
    headers: {
      ...(o.token ? { authorization: `Bearer ${o.token}` } : {}),
      ...(method === "POST" && o.key !== false ? { "idempotency-key": crypto.randomUUID() } : {}),
      ...(text !== undefined ? { "content-type": "application/json" } : {}),
      ...o.headers,
    },
    ...(text !== undefined ? { body: text } : {}),
  });
  return {
    status: r.status,
    contentType: r.headers.get("content-type"),
    wwwAuthenticate: r.headers.get("www-authenticate"),
    body: (await r.json()) as unknown,
  };
}

// ---------------------------------------------------------------------------------------------
// Normalising: what may differ between two runs of the same flow, and nothing else.

/** Ids a run mints, each with the placeholder it is compared as. */
type Minted = Map<string, string>;

function theatreIds(o: Opened): Minted {
  return new Map([
    [o.plan.id, "<plan>"],
    [o.venue.id, "<venue>"],
    [o.event.id, "<event>"],
  ]);
}

async function boughtIds(entry: ProviderId): Promise<Minted> {
  const { purchase } = await boughtThrough(entry);
  const ids = theatreIds(await openedFrom(entry));
  ids.set(purchase.order.holdId, "<hold>");
  ids.set(purchase.order.id, "<order>");
  // Ticket ids are random: each ticket is named by its seat instead.
  for (const t of purchase.tickets)
    ids.set(t.id, `<ticket ${(t.claims.seat as { id: string }).id}>`);
  return ids;
}

/**
 * Times the server reads off its clock (an order's `createdAt`, a hold's `expiresAt`, an
 * export's `exportedAt`, a ticket's `iat`): two runs are seconds apart. Dates the theatre chose
 * (startsAt, the sales window) are NOT set aside: every event of the file is opened with one `now`.
 */
const SERVER_TIMES = new Set(["createdAt", "updatedAt", "expiresAt", "exportedAt", "iat"]);
/**
 * Values random per call: the SDK's Idempotency-Key (the order keeps it), the card processor's
 * payment id. Signatures differ in their bytes and also in their number, which depends on the
 * peers that answered first (each run checks, with verifyTicket, that at least two verify).
 * `compact` is the same ticket again, payload and signatures in one string.
 */
const RANDOM_VALUES = new Set(["idempotencyKey", "paymentId", "signatures", "compact"]);
/** Each run's buyer is another dev user (alice, bob, carol). */
const BUYER_FIELDS = new Set(["buyerId", "hld", "holder"]);

/**
 * `value` with minted ids replaced by their placeholders (anywhere in a string: paths and
 * details name them too), server times, random values and the buyer by markers, ticket payloads
 * decoded (so that their claims are compared, normalised like the rest) and ticket lists sorted
 * (they come in ticket-id order, and ticket ids are random). Everything else must be equal.
 */
function normalise(value: unknown, ids: Minted): unknown {
  const escaped = [...ids.keys()].map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  const idPattern = new RegExp(escaped.join("|"), "g");
  const walk = (v: unknown, key?: string): unknown => {
    if (key && SERVER_TIMES.has(key)) return "<time>";
    if (key && RANDOM_VALUES.has(key)) return "<random>";
    if (key && BUYER_FIELDS.has(key)) return "<buyer>";
    if (key === "payload" && typeof v === "string") {
      return walk(JSON.parse(Buffer.from(v, "base64url").toString("utf8")) as unknown);
    }
    if (typeof v === "string") return v.replace(idPattern, (m) => ids.get(m) ?? m);
    if (Array.isArray(v)) {
      const items = v.map((x) => walk(x));
      if (!items.every(isTicket)) return items;
      return items.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    }
    if (v && typeof v === "object") {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]));
    }
    return v;
  };
  return walk(value);
}

const normalised = (t: readonly Answer[], ids: Minted) => t.map((a) => normalise(a, ids) as Answer);

const calls = (t: readonly Answer[]) => t.map((a) => [a.call, a.status, a.contentType]);

/** A ticket as the API lists it (`claims`) or as the export carries it (`payload`). */
const isTicket = (x: unknown) =>
  typeof x === "object" && x !== null && ("claims" in x || "payload" in x);
