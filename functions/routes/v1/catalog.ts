import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { toBase64Url } from "../../../shared/crypto/base64.ts";
import { int32 } from "../../../shared/domain/bounds.ts";
import {
  canSee,
  Event,
  EventStatus,
  EventVisibility,
  priceOf,
} from "../../../shared/domain/event.ts";
import { Id, Instant } from "../../../shared/domain/ids.ts";
import { scanPrefix } from "../../../shared/domain/keys.ts";
import { Money } from "../../../shared/domain/money.ts";
import { gaPlaceId, PlanSize, SeatCategory } from "../../../shared/domain/seating-plan.ts";
import { Label, Name } from "../../../shared/domain/text.ts";
import {
  MAX_PLAN_CATEGORIES,
  MAX_PLAN_SECTIONS,
  MAX_ROW_SEATS,
  MAX_SEATS,
  MAX_SECTION_ROWS,
} from "../../../shared/plans/limits.ts";
import { MAX_SEATS_PER_HOLD } from "../../../shared/seats/changes.ts";
import { optionalBuyer } from "../../auth/buyer.ts";
import type { AuthVariables } from "../../auth/variables.ts";
import { ProblemError } from "../../problem.ts";
import { type Availability, takenSeats } from "../../services/availability.ts";
import { type EventListEntry, getEvent, getPlanMeta, getPlanOf } from "../../services/catalog.ts";
import type { Services } from "../../services/index.ts";
import { listPage } from "../../services/paging.ts";
import {
  CacheControlHeader,
  EtagHeader,
  json,
  PageQuery,
  pageOf,
  problems,
  validationHook,
} from "../api.ts";

/**
 * Event browsing for buyers: the programme, one event, and its seat map with live availability.
 * All reads are LOCAL (this provider's store): browsing is the hot path and may trail the quorum
 * by the replication delay; holds and purchases re-check everything through the quorum.
 *
 * Visibility: drafts are never shown; "public" events to everyone, "signed-in" ones to any buyer
 * with a valid token, "authorised" ones only to buyers on the event's list. An event a caller may
 * not see answers 404, the same as one that does not exist.
 */

export const CATALOG_TAG = "Catalog";

/**
 * Most numbered seats one seat-map response carries without `?section=`: ~100 bytes a seat keeps
 * it near 2 MB; larger houses are browsed a section at a time.
 */
export const SEAT_MAP_SEATS_MAX = 20_000;
/** Seat maps change as seats are held and sold: a short shared-cache lifetime absorbs bursts. */
export const SEAT_MAP_MAX_AGE_S = 2;
/** Longest search text: titles are at most 200 characters. */
const QUERY_MAX_LENGTH = 200;

/** A buyer token is optional: anonymous callers are answered, and a signed-in buyer also sees the
 * events open to them. */
const OPTIONAL_BUYER_SECURITY: Record<string, string[]>[] = [{}, { buyerBearer: [] }];

export const PublicEvent = Event.omit({ allowedBuyers: true }).openapi("PublicEvent");

const EventListItem = z
  .object({
    id: Id,
    theaterId: Id,
    title: Name,
    startsAt: Instant,
    status: EventStatus,
    visibility: EventVisibility,
  })
  .openapi("EventListItem");

const SeatStatus = z.enum(["available", "held", "sold"]).openapi("SeatStatus");

const SeatMapSeat = z
  .object({
    id: Id,
    label: Label,
    x: z.number(),
    y: z.number(),
    category: Id,
    status: SeatStatus,
  })
  .openapi("SeatMapSeat");

const Counts = {
  available: int32(0, MAX_SEATS),
  held: int32(0, MAX_SEATS),
  sold: int32(0, MAX_SEATS),
};

const SeatMap = z
  .object({
    eventId: Id,
    planId: Id,
    name: Name,
    size: PlanSize,
    categories: z
      .array(SeatCategory.extend({ price: Money.nullable(), ...Counts }).openapi("SeatMapCategory"))
      .max(MAX_PLAN_CATEGORIES),
    sections: z
      .array(
        z
          .object({
            id: Id,
            name: Name,
            rows: z
              .array(
                z
                  .object({ id: Id, label: Label, seats: z.array(SeatMapSeat).max(MAX_ROW_SEATS) })
                  .openapi("SeatMapRow"),
              )
              .max(MAX_SECTION_ROWS),
          })
          .openapi("SeatMapSection"),
      )
      .max(MAX_PLAN_SECTIONS),
    generalAdmission: z
      .array(
        z
          .object({
            id: Id,
            name: Name,
            category: Id,
            capacity: int32(1, MAX_SEATS),
            ...Counts,
            availablePlaces: z
              .array(Id)
              .max(MAX_SEATS_PER_HOLD)
              .meta({
                description: `Up to ${MAX_SEATS_PER_HOLD} free place ids to hold (section = the area id).`,
              }),
          })
          .openapi("SeatMapArea"),
      )
      .max(MAX_PLAN_SECTIONS),
    totals: z.object(Counts),
  })
  .openapi("SeatMap");
type SeatMap = z.infer<typeof SeatMap>;

const EventParams = z.object({
  eventId: Id.openapi({ param: { name: "eventId", in: "path" } }),
});

/** Case- and accent-insensitive form for title search. */
const fold = (s: string) => s.normalize("NFKD").replace(/\p{M}/gu, "").toLocaleLowerCase("en");

async function sha256Etag(text: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return `"${toBase64Url(new Uint8Array(d)).slice(0, 32)}"`;
}

/** RFC 9110 §13.1.2: If-None-Match matches when it lists the tag (weakly) or is "*". */
function noneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header
    .split(",")
    .map((t) => t.trim().replace(/^W\//, ""))
    .some((t) => t === "*" || t === etag);
}

const notVisible = (eventId: string) =>
  new ProblemError(
    404,
    "not-found",
    "Not Found",
    `event ${eventId} does not exist or is not visible to you`,
  );

type CatalogApp = OpenAPIHono<{ Variables: AuthVariables }>;
type BuyerMiddleware = ReturnType<typeof optionalBuyer>;

export function catalogRoutes(s: Services) {
  const app = new OpenAPIHono<{ Variables: AuthVariables }>({ defaultHook: validationHook });
  const buyerMw = optionalBuyer(s.buyerVerifier);
  browseEventsRoute(app, s, buyerMw);
  getEventRoute(app, s, buyerMw);
  getSeatMapRoute(app, s, buyerMw);
  return app;
}

/** The event if this caller may see it (drafts never), else 404. */
async function visibleEvent(s: Services, eventId: string, sub: string | undefined): Promise<Event> {
  const e = await getEvent(s, eventId, "local");
  if (e === null || e.status === "draft" || !canSee(e, sub)) throw notVisible(eventId);
  return e;
}

function browseEventsRoute(app: CatalogApp, s: Services, buyerMw: BuyerMiddleware) {
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/events",
      operationId: "browseEvents",
      tags: [CATALOG_TAG],
      summary: "Browse events (search by title)",
      description:
        "Events you may see, in id order. Anonymous callers see public events; signed-in buyers " +
        "also see events for signed-in buyers and those they are invited to.",
      security: OPTIONAL_BUYER_SECURITY,
      middleware: [buyerMw] as const,
      request: {
        query: PageQuery.extend({
          q: z
            .string()
            .max(QUERY_MAX_LENGTH)
            .optional()
            .openapi({ description: "Text the title contains (case and accents ignored)." }),
        }),
      },
      responses: {
        200: json(pageOf(EventListItem, "EventListPage"), "One page of events"),
        ...problems(400, 401, 503),
      },
    }),
    async (c) => {
      const sub = c.get("buyer")?.sub;
      const { q, ...page } = c.req.valid("query");
      const needle = q ? fold(q.trim()) : "";
      const out = await listPage<EventListEntry, EventListEntry>(
        s,
        scanPrefix.events(),
        page,
        async (_key, e) => {
          if (e.status === "draft") return undefined;
          if (needle && !fold(e.title).includes(needle)) return undefined;
          if (e.visibility === "public") return e;
          if (sub === undefined) return undefined;
          if (e.visibility === "signed-in") return e;
          // Only the event record holds its guest list.
          const full = await getEvent(s, e.id, "local");
          return full !== null && canSee(full, sub) ? e : undefined;
        },
      );
      c.header("vary", "authorization");
      return c.json(out, 200);
    },
  );
}

function getEventRoute(app: CatalogApp, s: Services, buyerMw: BuyerMiddleware) {
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/events/{eventId}",
      operationId: "getEvent",
      tags: [CATALOG_TAG],
      summary: "One event",
      security: OPTIONAL_BUYER_SECURITY,
      middleware: [buyerMw] as const,
      request: { params: EventParams },
      responses: { 200: json(PublicEvent, "The event"), ...problems(401, 404, 503) },
    }),
    async (c) => {
      const e = await visibleEvent(s, c.req.valid("param").eventId, c.get("buyer")?.sub);
      const { allowedBuyers: _hidden, ...shown } = e;
      c.header("vary", "authorization");
      return c.json(shown, 200);
    },
  );
}

function getSeatMapRoute(app: CatalogApp, s: Services, buyerMw: BuyerMiddleware) {
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/events/{eventId}/seats",
      operationId: "getSeatMap",
      tags: [CATALOG_TAG],
      summary: "Seat map with live availability",
      description:
        "Every seat with its status (available, held, sold) and counts per category, from this " +
        "provider's store. Supports `If-None-Match` (304). Large plans are fetched one section at " +
        `a time (\`?section=\`; required above ${SEAT_MAP_SEATS_MAX} seats).`,
      security: OPTIONAL_BUYER_SECURITY,
      middleware: [buyerMw] as const,
      request: {
        params: EventParams,
        query: z.object({
          section: Id.optional().openapi({
            description: "Only this section or general-admission area.",
          }),
        }),
        headers: z.object({
          "if-none-match": z
            .string()
            .max(1000)
            .optional()
            .openapi({ param: { name: "if-none-match", in: "header" } }),
        }),
      },
      responses: {
        200: {
          ...json(SeatMap, "The seat map"),
          headers: z.object({ etag: EtagHeader, "cache-control": CacheControlHeader }),
        },
        304: { description: "Unchanged since the ETag you sent" },
        ...problems(400, 401, 404, 503),
      },
    }),
    async (c) => {
      const e = await visibleEvent(s, c.req.valid("param").eventId, c.get("buyer")?.sub);
      const section = c.req.valid("query").section;
      const meta = await getPlanMeta(s, e.planId, "local");
      if (meta === null) throw notVisible(e.id);
      const known = [...meta.sections.map((x) => x.id), ...meta.generalAdmission.map((g) => g.id)];
      if (section !== undefined && !known.includes(section)) {
        throw new ProblemError(404, "not-found", "Not Found", `the plan has no section ${section}`);
      }
      const numbered = meta.sections
        .filter((x) => section === undefined || x.id === section)
        .reduce((n, x) => n + x.seatCount, 0);
      if (section === undefined && numbered > SEAT_MAP_SEATS_MAX) {
        throw new ProblemError(
          400,
          "section-required",
          "Seat map too large for one response",
          `this plan has ${numbered} seats; ask for one section at a time with ?section=`,
          { sections: known },
        );
      }
      const only = section === undefined ? undefined : new Set([section]);
      const plan = await getPlanOf(s, meta, "local", only);
      if (plan === null) throw notVisible(e.id);
      const taken = await takenSeats(s, e.id, section, "local");
      const map = buildSeatMap(e, plan, taken, section);
      const body = JSON.stringify(map);
      const etag = await sha256Etag(body);
      // Restricted events must not sit in shared caches where others could read them.
      const cache = `${e.visibility === "public" ? "public" : "private"}, max-age=${SEAT_MAP_MAX_AGE_S}`;
      c.header("etag", etag);
      c.header("cache-control", cache);
      c.header("vary", "authorization");
      if (noneMatch(c.req.valid("header")["if-none-match"], etag)) return c.body(null, 304);
      return c.body(body, 200, { "content-type": "application/json" }) as never;
    },
  );
}

/** The seat map of the (possibly section-filtered) plan from the taken seats (pure). */
export function buildSeatMap(
  e: Event,
  plan: NonNullable<Awaited<ReturnType<typeof getPlanOf>>>,
  taken: ReadonlyMap<string, Exclude<Availability, "available">>,
  section?: string,
): SeatMap {
  const counts = new Map(plan.categories.map((c) => [c.id, { available: 0, held: 0, sold: 0 }]));
  const totals = { available: 0, held: 0, sold: 0 };
  const count = (category: string, st: Availability, n = 1) => {
    const k = counts.get(category);
    if (k) k[st] += n;
    totals[st] += n;
  };
  const sections = plan.sections.map((sec) => ({
    id: sec.id,
    name: sec.name,
    rows: sec.rows.map((r) => ({
      id: r.id,
      label: r.label,
      seats: r.seats.map((seat) => {
        const status: Availability = taken.get(`${sec.id}/${seat.id}`) ?? "available";
        count(seat.category, status);
        return { ...seat, status };
      }),
    })),
  }));
  const generalAdmission = plan.generalAdmission
    .filter((g) => section === undefined || g.id === section)
    .map((g) => {
      let held = 0;
      let sold = 0;
      const free: string[] = [];
      for (let n = 1; n <= g.capacity; n++) {
        const st = taken.get(`${g.id}/${gaPlaceId(g.id, n)}`);
        if (st === "held") held++;
        else if (st === "sold") sold++;
        else if (free.length < MAX_SEATS_PER_HOLD) free.push(gaPlaceId(g.id, n));
      }
      const available = g.capacity - held - sold;
      count(g.category, "held", held);
      count(g.category, "sold", sold);
      count(g.category, "available", available);
      return { ...g, available, held, sold, availablePlaces: free };
    });
  return {
    eventId: e.id,
    planId: plan.id,
    name: plan.name,
    size: plan.size,
    categories: plan.categories.map((c) => ({
      ...c,
      price: priceOf(e, c.id) ?? null,
      ...(counts.get(c.id) ?? { available: 0, held: 0, sold: 0 }),
    })),
    sections,
    generalAdmission,
    totals,
  };
}
