import { createRoute, z } from "@hono/zod-openapi";
import { Id } from "../../../../shared/domain/ids.ts";
import { scanPrefix } from "../../../../shared/domain/keys.ts";
import { SeatingPlan } from "../../../../shared/domain/seating-plan.ts";
import { limitBody } from "../../../middleware/body-limit.ts";
import { ProblemError } from "../../../problem.ts";
import { getPlanOf } from "../../../services/catalog.ts";
import type { Services } from "../../../services/index.ts";
import { listPage } from "../../../services/paging.ts";
import { StoredPlanMeta } from "../../../services/plan-chunks.ts";
import { ownPlanMeta, storePlan } from "../../../services/venues.ts";
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

/**
 * Largest plan upload: MAX_SEATS (200,000) seats at ~80 bytes each is ~16 MB of JSON; pretix files
 * carry more per seat (uuids, positions), hence the margin.
 */
export const PLAN_BODY_BYTES_MAX = 40 * 1024 * 1024;

const UploadPlanInput = z
  .object({
    format: z.enum(["tessera", "pretix"]).meta({
      description:
        "`tessera`: a SeatingPlanInput (docs/formats/seating-plan.md); `pretix`: a plan exported " +
        "from pretix's seating plan editor, converted on upload.",
    }),
    plan: z.record(z.string(), z.unknown()).meta({
      description:
        "The plan document. Checked after upload so that a 422 lists every problem at once; the " +
        "server assigns the plan id (any `id` in a Tessera plan is ignored).",
    }),
  })
  .strict()
  .openapi("UploadPlanInput");

const PlanParams = z.object({
  planId: Id.openapi({ param: { name: "planId", in: "path" } }),
});

export function planRoutes(app: ManageApp, s: Services) {
  // Read only once the theater is admitted: an anonymous caller never gets 40 MB read.
  const tooLarge = limitBody(PLAN_BODY_BYTES_MAX);

  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/manage/plans",
      operationId: "createPlan",
      tags: [MANAGE_TAG],
      summary: "Upload a seating plan (Tessera or pretix format)",
      security: THEATER_SECURITY,
      middleware: [...theaterGuard(s, "venues"), tooLarge] as const,
      request: { headers: IdempotencyHeaders, body: jsonBody(UploadPlanInput) },
      responses: {
        201: {
          ...json(StoredPlanMeta, "Stored; the body is the plan's metadata"),
          headers: z.object({ location: LocationHeader }),
        },
        ...problems(400, 401, 403, 409, 413, 422, 503),
      },
    }),
    async (c) => {
      const t = theaterOf(c);
      const key = c.req.valid("header")["idempotency-key"];
      const { meta, replayed } = await storePlan(s, t.id, key, c.req.valid("json"));
      c.header("location", `/v1/manage/plans/${meta.id}`);
      if (replayed) c.header(REPLAYED_HEADER, "true");
      return c.json(meta, 201);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/manage/plans",
      operationId: "listPlans",
      tags: [MANAGE_TAG],
      summary: "List your seating plans (metadata)",
      security: THEATER_SECURITY,
      middleware: theaterGuard(s, "venues"),
      request: { query: PageQuery },
      responses: {
        200: json(pageOf(StoredPlanMeta, "PlanMetaPage"), "One page of plans"),
        ...problems(400, 401, 403, 503),
      },
    }),
    async (c) => {
      const t = theaterOf(c);
      const q = c.req.valid("query");
      const page = await listPage<StoredPlanMeta, StoredPlanMeta>(
        s,
        scanPrefix.theaterPlans(t.id),
        q,
        (_k, v) => v,
      );
      return c.json(page, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/manage/plans/{planId}",
      operationId: "getPlan",
      tags: [MANAGE_TAG],
      summary: "Get a seating plan with every seat",
      security: THEATER_SECURITY,
      middleware: theaterGuard(s, "venues"),
      request: { params: PlanParams },
      responses: {
        200: json(SeatingPlan, "The full plan"),
        ...problems(401, 403, 404, 503),
      },
    }),
    async (c) => {
      const t = theaterOf(c);
      const meta = await ownPlanMeta(s, t.id, c.req.valid("param").planId);
      const plan = await getPlanOf(s, meta, "local");
      if (plan === null) {
        throw new ProblemError(
          503,
          "plan-unavailable",
          "The plan could not be read",
          "retry",
          {},
          {
            "retry-after": "2",
          },
        );
      }
      return c.json(plan, 200);
    },
  );
}
