import { createRoute, z } from "@hono/zod-openapi";
import { Id } from "../../../../shared/domain/ids.ts";
import { idOfKey, orderKey, scanPrefix } from "../../../../shared/domain/keys.ts";
import { Money } from "../../../../shared/domain/money.ts";
import { Order, OrderSeatRef } from "../../../../shared/domain/order.ts";
import { PartyId, PROCEEDS_PARTIES_MAX } from "../../../../shared/payments/split.ts";
import { MAX_SEATS_PER_HOLD } from "../../../../shared/seats/changes.ts";
import { readMany } from "../../../services/catalog.ts";
import { ownEvent } from "../../../services/events.ts";
import type { Services } from "../../../services/index.ts";
import type { StoredOrder } from "../../../services/order-record.ts";
import { listPage } from "../../../services/paging.ts";
import { paymentsFor } from "../../../services/payments.ts";
import { refundOrderFlow } from "../../../services/refunds.ts";
import { refundSeatsFlow } from "../../../services/seat-refunds.ts";
import {
  IdempotencyHeaders,
  json,
  PageQuery,
  pageOf,
  problems,
  REPLAYED_HEADER,
} from "../../api.ts";
import { MANAGE_TAG, type ManageApp, THEATER_SECURITY, theaterGuard, theaterOf } from "./common.ts";
import { EventParams } from "./events.ts";

/** An order as the theatre sees it: the domain order plus its proceeds split, once paid. */
export const ManagedOrder = z
  .object({
    ...Order.shape,
    proceeds: z
      .array(z.object({ party: PartyId, amount: Money }))
      .max(PROCEEDS_PARTIES_MAX)
      .optional()
      .meta({ description: "How the paid total is split; sums exactly to `total`." }),
  })
  .openapi("ManagedOrder");

/** A partial refund names its seats; no body (or no `seats`) refunds the whole order. */
const RefundInput = z
  .object({ seats: z.array(OrderSeatRef).min(1).max(MAX_SEATS_PER_HOLD).optional() })
  .strict()
  .openapi("RefundInput");
type RefundInput = z.infer<typeof RefundInput>;

const OrderParams = z.object({
  orderId: Id.openapi({ param: { name: "orderId", in: "path" } }),
});

/** Only the documented fields leave the API (the stored record may carry internal ones). */
function view(o: StoredOrder): z.infer<typeof ManagedOrder> {
  const { proceeds, ...rest } = o;
  const base = Object.fromEntries(
    Object.keys(Order.shape).map((k) => [k, (rest as Record<string, unknown>)[k]]),
  ) as z.infer<typeof Order>;
  return proceeds ? { ...base, proceeds: [...proceeds] } : base;
}

export function orderRoutes(app: ManageApp, s: Services) {
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/manage/events/{eventId}/orders",
      operationId: "listEventOrders",
      tags: [MANAGE_TAG],
      summary: "List an event's orders",
      security: THEATER_SECURITY,
      middleware: theaterGuard(s, "orders"),
      request: { params: EventParams, query: PageQuery },
      responses: {
        200: json(pageOf(ManagedOrder, "ManagedOrderPage"), "One page of orders, in id order"),
        ...problems(400, 401, 403, 404, 503),
      },
    }),
    async (c) => {
      const t = theaterOf(c);
      const e = await ownEvent(s, t.id, c.req.valid("param").eventId, "local");
      const page = await listPage<unknown, string>(
        s,
        scanPrefix.eventOrders(e.id),
        c.req.valid("query"),
        (key) => idOfKey(key),
      );
      const orders = await readMany<StoredOrder>(s, page.items.map(orderKey), "local");
      const items = orders
        .filter((o): o is StoredOrder => o !== null && o.theaterId === t.id)
        .map(view);
      return c.json({ ...page, items }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/manage/orders/{orderId}/refund",
      operationId: "refundOrder",
      tags: [MANAGE_TAG],
      summary: "Refund an order (or some of its seats) and return the seats to sale",
      description:
        "Refunds the payment, then in one quorum change marks the order refunded and frees each " +
        "seat still sold to it, then revokes its tickets. Refunding a refunded order answers 200 " +
        "and changes nothing, except freeing any seat an interrupted refund left sold. With " +
        "`seats`, refunds only those: the order stays confirmed and lists them in " +
        "`refundedSeats` (it reads refunded once none is left), only their tickets are revoked, " +
        "and only their prices go back (docs/api.md, Refunds).",
      security: THEATER_SECURITY,
      middleware: theaterGuard(s, "orders"),
      request: {
        params: OrderParams,
        headers: IdempotencyHeaders,
        body: {
          required: false,
          content: { "application/json": { schema: RefundInput } },
        },
      },
      responses: {
        200: json(ManagedOrder, "The refunded order"),
        ...problems(400, 401, 403, 404, 409, 422, 503),
      },
    }),
    async (c) => {
      const t = theaterOf(c);
      const key = c.req.valid("header")["idempotency-key"];
      const orderId = c.req.valid("param").orderId;
      const seats = (c.req.valid("json") as RefundInput | undefined)?.seats;
      const { order, replayed } =
        seats === undefined
          ? await refundOrderFlow(s, paymentsFor(s), t.id, key, orderId)
          : await refundSeatsFlow(s, paymentsFor(s), t.id, key, orderId, seats);
      if (replayed) c.header(REPLAYED_HEADER, "true");
      return c.json(view(order), 200);
    },
  );
}
