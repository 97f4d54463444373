import { createRoute, z } from "@hono/zod-openapi";
import { Id } from "../../../../shared/domain/ids.ts";
import { scanPrefix } from "../../../../shared/domain/keys.ts";
import { CreateVenueInput, UpdateVenueInput, Venue } from "../../../../shared/domain/venue.ts";
import type { Services } from "../../../services/index.ts";
import { listPage } from "../../../services/paging.ts";
import { createVenue, getVenue, updateVenue } from "../../../services/venues.ts";
import {
  IdempotencyHeaders,
  json,
  jsonBody,
  LocationHeader,
  PageQuery,
  pageOf,
  problems,
  REPLAYED_HEADER,
} from "../../api.ts";
import { MANAGE_TAG, type ManageApp, THEATER_SECURITY, theaterGuard, theaterOf } from "./common.ts";

const VenueParams = z.object({
  venueId: Id.openapi({ param: { name: "venueId", in: "path" } }),
});

export function venueRoutes(app: ManageApp, s: Services) {
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/manage/venues",
      operationId: "createVenue",
      tags: [MANAGE_TAG],
      summary: "Create a venue (its planId must be one of your plans)",
      security: THEATER_SECURITY,
      middleware: theaterGuard(s, "venues"),
      request: { headers: IdempotencyHeaders, body: jsonBody(CreateVenueInput) },
      responses: {
        201: {
          ...json(Venue, "Created"),
          headers: z.object({ location: LocationHeader }),
        },
        ...problems(400, 401, 403, 422, 503),
      },
    }),
    async (c) => {
      const t = theaterOf(c);
      const key = c.req.valid("header")["idempotency-key"];
      const { venue, replayed } = await createVenue(s, t.id, key, c.req.valid("json"));
      c.header("location", `/v1/manage/venues/${venue.id}`);
      if (replayed) c.header(REPLAYED_HEADER, "true");
      return c.json(venue, 201);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/manage/venues",
      operationId: "listVenues",
      tags: [MANAGE_TAG],
      summary: "List your venues",
      security: THEATER_SECURITY,
      middleware: theaterGuard(s, "venues"),
      request: { query: PageQuery },
      responses: {
        200: json(pageOf(Venue, "VenuePage"), "One page of venues"),
        ...problems(400, 401, 403, 503),
      },
    }),
    async (c) => {
      const t = theaterOf(c);
      const page = await listPage<Venue, Venue>(
        s,
        scanPrefix.theaterVenues(t.id),
        c.req.valid("query"),
        (_k, v) => v,
      );
      return c.json(page, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/manage/venues/{venueId}",
      operationId: "getVenue",
      tags: [MANAGE_TAG],
      summary: "Get one of your venues",
      security: THEATER_SECURITY,
      middleware: theaterGuard(s, "venues"),
      request: { params: VenueParams },
      responses: { 200: json(Venue, "The venue"), ...problems(401, 403, 404, 503) },
    }),
    async (c) => {
      const t = theaterOf(c);
      return c.json(await getVenue(s, t.id, c.req.valid("param").venueId), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "patch",
      path: "/v1/manage/venues/{venueId}",
      operationId: "updateVenue",
      tags: [MANAGE_TAG],
      summary: "Change fields of one of your venues",
      security: THEATER_SECURITY,
      middleware: theaterGuard(s, "venues"),
      request: { params: VenueParams, body: jsonBody(UpdateVenueInput) },
      responses: {
        200: json(Venue, "The changed venue"),
        ...problems(400, 401, 403, 404, 422, 503),
      },
    }),
    async (c) => {
      const t = theaterOf(c);
      const v = await updateVenue(s, t.id, c.req.valid("param").venueId, c.req.valid("json"));
      return c.json(v, 200);
    },
  );
}
