import { createRoute, z } from "@hono/zod-openapi";
import { int32 } from "../../../../shared/domain/bounds.ts";
import { Id } from "../../../../shared/domain/ids.ts";
import { MAX_SEATS } from "../../../../shared/plans/limits.ts";
import { cancelEventFlow } from "../../../services/cancellation.ts";
import type { Services } from "../../../services/index.ts";
import { paymentsFor } from "../../../services/payments.ts";
import { json, problems } from "../../api.ts";
import { MANAGE_TAG, type ManageApp, THEATER_SECURITY, theaterGuard, theaterOf } from "./common.ts";

/** Failures listed in one answer; the rest are counted in `remaining`. */
const FAILED_LISTED_MAX = 100;

const CancelProgress = z
  .object({
    eventId: Id,
    status: z.enum(["cancelling", "cancelled"]).meta({
      description: "`cancelled` once every order is refunded and its tickets revoked.",
    }),
    orders: z.object({
      refunded: int32(0, MAX_SEATS),
      remaining: int32(0, MAX_SEATS).meta({
        description: "Orders still to refund (failed ones included): call again to go on.",
      }),
      failed: z
        .array(z.object({ orderId: Id, problem: z.string().max(4000) }))
        .max(FAILED_LISTED_MAX),
    }),
  })
  .openapi("CancelProgress");

export function cancelEventRoute(app: ManageApp, s: Services) {
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/manage/events/{eventId}/cancel",
      operationId: "cancelEvent",
      tags: [MANAGE_TAG],
      summary: "Cancel the event: stop sales for good, refund every order, revoke every ticket",
      description:
        "The event turns `cancelled` at once (final). Then each order is refunded like " +
        "`POST /v1/manage/orders/{id}/refund` and its tickets revoked in the event's feed with the " +
        "reason `cancelled`, for up to 20 s a call. 202 while orders remain (call again: it goes " +
        "on where it stopped, and tries failed refunds again), 200 once all are done. Safe to repeat.",
      security: THEATER_SECURITY,
      middleware: theaterGuard(s, "orders"),
      request: {
        params: z.object({ eventId: Id.openapi({ param: { name: "eventId", in: "path" } }) }),
      },
      responses: {
        200: json(CancelProgress, "Cancelled: every order refunded"),
        202: json(CancelProgress, "Cancelling: orders remain; call again"),
        ...problems(401, 403, 404, 409, 422, 503),
      },
    }),
    async (c) => {
      const t = theaterOf(c);
      const p = await cancelEventFlow(s, paymentsFor(s), t.id, c.req.valid("param").eventId);
      const body = {
        ...p,
        orders: { ...p.orders, failed: p.orders.failed.slice(0, FAILED_LISTED_MAX) },
      };
      return p.status === "cancelled" ? c.json(body, 200) : c.json(body, 202);
    },
  );
}
