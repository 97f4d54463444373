import { createRoute, z } from "@hono/zod-openapi";
import { int32 } from "../../../../shared/domain/bounds.ts";
import {
  CreateEventInput,
  Event,
  EventStatus,
  UpdateEventInput,
} from "../../../../shared/domain/event.ts";
import { Id } from "../../../../shared/domain/ids.ts";
import { eventKey, scanPrefix } from "../../../../shared/domain/keys.ts";
import { Money } from "../../../../shared/domain/money.ts";
import { PartyId, PROCEEDS_PARTIES_MAX } from "../../../../shared/payments/split.ts";
import { MAX_SEATS } from "../../../../shared/plans/limits.ts";
import { type EventListEntry, readMany } from "../../../services/catalog.ts";
import {
  closeEventSales,
  createEvent,
  eventEtag,
  eventSummary,
  openEventSales,
  ownEvent,
  updateEvent,
} from "../../../services/events.ts";
import type { Services } from "../../../services/index.ts";
import { listPage } from "../../../services/paging.ts";
import {
  EtagHeader,
  IdempotencyHeaders,
  json,
  jsonBody,
  LocationHeader,
  PageQuery,
  pageOf,
  problems,
  REPLAYED_HEADER,
} from "../../api.ts";
import { cancelEventRoute } from "./cancel.ts";
import { MANAGE_TAG, type ManageApp, THEATER_SECURITY, theaterGuard, theaterOf } from "./common.ts";

export const EventParams = z.object({
  eventId: Id.openapi({ param: { name: "eventId", in: "path" } }),
});

const IfMatch = z.object({
  "if-match": z
    .string()
    .max(200)
    .optional()
    .openapi({
      param: { name: "if-match", in: "header" },
      description: "ETag of the event as you read it: the change applies only if it is unchanged.",
    }),
});

const EventSummarySchema = z
  .object({
    eventId: Id,
    status: EventStatus,
    seats: z.object({
      total: int32(0, MAX_SEATS),
      sold: int32(0, MAX_SEATS),
      held: int32(0, MAX_SEATS),
      available: int32(0, MAX_SEATS),
    }),
    orders: z.object({
      // Every order sells at least one seat, and a refunded seat can be sold again: a bound per
      // seat sale, not per seat, so counts stay below 2^31 for any real history.
      confirmed: int32(0, 2_147_483_647),
      refunded: int32(0, 2_147_483_647),
      other: int32(0, 2_147_483_647),
    }),
    revenue: Money,
    refunded: Money,
    proceeds: z
      .array(z.object({ party: PartyId, amount: Money }).openapi("ProceedsShare"))
      .max(PROCEEDS_PARTIES_MAX),
  })
  .openapi("EventSummary");

const withEtag = { headers: z.object({ etag: EtagHeader }) };

export function eventRoutes(app: ManageApp, s: Services) {
  createEventRoute(app, s);
  listManagedEventsRoute(app, s);
  getManagedEventRoute(app, s);
  updateEventRoute(app, s);
  salesActionRoutes(app, s);
  getEventSummaryRoute(app, s);
  cancelEventRoute(app, s);
}

function createEventRoute(app: ManageApp, s: Services) {
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/manage/events",
      operationId: "createEvent",
      tags: [MANAGE_TAG],
      summary: "Create an event (always a draft)",
      security: THEATER_SECURITY,
      middleware: theaterGuard(s, "events"),
      request: { headers: IdempotencyHeaders, body: jsonBody(CreateEventInput) },
      responses: {
        201: {
          ...json(Event, "Created"),
          headers: z.object({ location: LocationHeader, etag: EtagHeader }),
        },
        ...problems(400, 401, 403, 422, 503),
      },
    }),
    async (c) => {
      const t = theaterOf(c);
      const key = c.req.valid("header")["idempotency-key"];
      const { event, replayed } = await createEvent(s, t.id, key, c.req.valid("json"));
      c.header("location", `/v1/manage/events/${event.id}`);
      c.header("etag", eventEtag(event));
      if (replayed) c.header(REPLAYED_HEADER, "true");
      return c.json(event, 201);
    },
  );
}

function listManagedEventsRoute(app: ManageApp, s: Services) {
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/manage/events",
      operationId: "listManagedEvents",
      tags: [MANAGE_TAG],
      summary: "List your events",
      security: THEATER_SECURITY,
      middleware: theaterGuard(s, "events"),
      request: { query: PageQuery },
      responses: {
        200: json(pageOf(Event, "EventPage"), "One page of events, in id order"),
        ...problems(400, 401, 403, 503),
      },
    }),
    async (c) => {
      const t = theaterOf(c);
      const page = await listPage<EventListEntry, string>(
        s,
        scanPrefix.theaterEvents(t.id),
        c.req.valid("query"),
        (_k, v) => v.id,
      );
      const events = await readMany<Event>(s, page.items.map(eventKey), "local");
      const items = events.filter((e): e is Event => e !== null && e.theaterId === t.id);
      return c.json({ ...page, items }, 200);
    },
  );
}

function getManagedEventRoute(app: ManageApp, s: Services) {
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/manage/events/{eventId}",
      operationId: "getManagedEvent",
      tags: [MANAGE_TAG],
      summary: "Get one of your events",
      security: THEATER_SECURITY,
      middleware: theaterGuard(s, "events"),
      request: { params: EventParams },
      responses: {
        200: { ...json(Event, "The event"), ...withEtag },
        ...problems(401, 403, 404, 503),
      },
    }),
    async (c) => {
      const t = theaterOf(c);
      const e = await ownEvent(s, t.id, c.req.valid("param").eventId);
      c.header("etag", eventEtag(e));
      return c.json(e, 200);
    },
  );
}

function updateEventRoute(app: ManageApp, s: Services) {
  app.openapi(
    createRoute({
      method: "patch",
      path: "/v1/manage/events/{eventId}",
      operationId: "updateEvent",
      tags: [MANAGE_TAG],
      summary: "Change an event (prices, plan and opening time freeze once sales open)",
      description:
        "Fields given replace the stored ones. After sales opened, changing prices, the plan or " +
        "the opening time is refused with 409 (`errors` lists each refused field).",
      security: THEATER_SECURITY,
      middleware: theaterGuard(s, "events"),
      request: { params: EventParams, headers: IfMatch, body: jsonBody(UpdateEventInput) },
      responses: {
        200: { ...json(Event, "The changed event"), ...withEtag },
        ...problems(400, 401, 403, 404, 409, 412, 422, 503),
      },
    }),
    async (c) => {
      const t = theaterOf(c);
      const ifMatch = c.req.valid("header")["if-match"];
      const e = await updateEvent(
        s,
        t.id,
        c.req.valid("param").eventId,
        c.req.valid("json"),
        ifMatch,
      );
      c.header("etag", eventEtag(e));
      return c.json(e, 200);
    },
  );
}

function salesActionRoutes(app: ManageApp, s: Services) {
  for (const [action, operationId, run, summary] of [
    [
      "open-sales",
      "openSales",
      openEventSales,
      "Put the event on sale (every category with seats needs a price)",
    ],
    ["close-sales", "closeSales", closeEventSales, "Stop sales"],
  ] as const) {
    app.openapi(
      createRoute({
        method: "post",
        path: `/v1/manage/events/{eventId}/${action}`,
        operationId,
        tags: [MANAGE_TAG],
        summary,
        description: "Safe to repeat: an event already in the target state is returned unchanged.",
        security: THEATER_SECURITY,
        middleware: theaterGuard(s, "sales"),
        request: { params: EventParams },
        responses: {
          200: { ...json(Event, "The event after the change"), ...withEtag },
          ...problems(401, 403, 404, 409, 422, 503),
        },
      }),
      async (c) => {
        const t = theaterOf(c);
        const e = await run(s, t.id, c.req.valid("param").eventId);
        c.header("etag", eventEtag(e));
        return c.json(e, 200);
      },
    );
  }
}

function getEventSummaryRoute(app: ManageApp, s: Services) {
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/manage/events/{eventId}/summary",
      operationId: "getEventSummary",
      tags: [MANAGE_TAG],
      summary: "Sales summary: seats sold/held/available, revenue, proceeds split",
      security: THEATER_SECURITY,
      middleware: theaterGuard(s, "sales"),
      request: { params: EventParams },
      responses: {
        200: json(EventSummarySchema, "Counts from this provider's store"),
        ...problems(401, 403, 404, 503),
      },
    }),
    async (c) => {
      const t = theaterOf(c);
      const e = await ownEvent(s, t.id, c.req.valid("param").eventId, "local");
      return c.json(await eventSummary(s, e), 200);
    },
  );
}
