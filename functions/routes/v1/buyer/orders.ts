import { createRoute, z } from "@hono/zod-openapi";
import { Id } from "../../../../shared/domain/ids.ts";
import { orderKey, scanPrefix, ticketKey } from "../../../../shared/domain/keys.ts";
import { MAX_SEATS_PER_HOLD } from "../../../../shared/seats/changes.ts";
import { orderSeatKey, ticketIdFor } from "../../../../shared/tickets/derive.ts";
import { ProblemError } from "../../../problem.ts";
import type { Services } from "../../../services/index.ts";
import { type OrderIndexEntry, StoredOrder } from "../../../services/order-record.ts";
import { orderFromSale } from "../../../services/order-sweep.ts";
import { listPage } from "../../../services/paging.ts";
import { issueTickets, type TicketRecord, ticketsPending } from "../../../services/tickets.ts";
import { json, PageQuery, pageOf, problems } from "../../api.ts";
import { BUYER_TAG, type BuyerApp, buyerGuard, me, REQUIRED_BUYER_SECURITY } from "./common.ts";
import { TicketView, ticketView } from "./views.ts";

const OrderParams = z.object({ orderId: Id.openapi({ param: { name: "orderId", in: "path" } }) });

const OrderWithTickets = z
  .object({
    order: StoredOrder,
    tickets: z.array(TicketView).max(MAX_SEATS_PER_HOLD),
    ticketsPending: z.boolean(),
  })
  .openapi("OrderWithTickets");

const notFound = (orderId: string) =>
  new ProblemError(
    404,
    "not-found",
    "Not Found",
    `order ${orderId} does not exist or is not yours`,
  );

/**
 * The order if it is this buyer's (checked on the buyer's own index entry, not a guessable id). A
 * sale answered a moment ago may not be recorded yet: its sold hold record then decides, and
 * whose it is.
 */
async function ownOrder(s: Services, seg: string, orderId: string): Promise<StoredOrder> {
  const [order, mine] = await s.store.getMany<StoredOrder | OrderIndexEntry>([
    orderKey(orderId),
    scanPrefix.buyerOrders(seg) + orderId,
  ]);
  if (order != null && mine != null) return order as StoredOrder;
  if (order == null) {
    const sale = await orderFromSale(s, orderId);
    if (sale?.seg === seg) return sale.order;
  }
  throw notFound(orderId);
}

/** The stored tickets of an order, in seat order (missing ones left out). */
async function orderTickets(s: Services, order: StoredOrder) {
  const ids = await Promise.all(
    order.seats.map((x) => ticketIdFor(order.id, orderSeatKey(order.eventId, x))),
  );
  const recs = await s.store.getMany<TicketRecord>(ids.map(ticketKey));
  return ids.flatMap((id, j) => (recs[j] ? [ticketView(id, recs[j])] : []));
}

export function orderRoutes(app: BuyerApp, s: Services) {
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/me/orders",
      operationId: "listMyOrders",
      tags: [BUYER_TAG],
      summary: "Your orders, newest id last",
      security: REQUIRED_BUYER_SECURITY,
      middleware: [buyerGuard(s)],
      request: { query: PageQuery },
      responses: {
        200: json(pageOf(StoredOrder, "OrderPage"), "One page of orders"),
        ...problems(400, 401, 503),
      },
    }),
    async (c) => {
      const { seg } = await me(c, s);
      // The index from two stores (an order bought on another provider shows at once, even if
      // this store missed it); the orders themselves are money, read by quorum.
      const page = await listPage<OrderIndexEntry, string>(
        s,
        scanPrefix.buyerOrders(seg),
        c.req.valid("query"),
        (_k, v) => v.orderId,
        "majority",
      );
      const orders =
        page.items.length === 0 ? [] : await s.store.getMany<StoredOrder>(page.items.map(orderKey));
      const items = orders.filter((o): o is StoredOrder => o !== null);
      return c.json(
        page.nextCursor === undefined ? { items } : { items, nextCursor: page.nextCursor },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/me/orders/{orderId}",
      operationId: "getMyOrder",
      tags: [BUYER_TAG],
      summary: "One of your orders with its tickets",
      security: REQUIRED_BUYER_SECURITY,
      middleware: [buyerGuard(s)],
      request: { params: OrderParams },
      responses: { 200: json(OrderWithTickets, "The order"), ...problems(401, 404, 503) },
    }),
    async (c) => {
      const { seg } = await me(c, s);
      const order = await ownOrder(s, seg, c.req.valid("param").orderId);
      const tickets = await orderTickets(s, order);
      return c.json({ order, tickets, ticketsPending: tickets.length < order.seats.length }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/me/orders/{orderId}/tickets",
      operationId: "issueMyOrderTickets",
      tags: [BUYER_TAG],
      summary: "(Re-)issue the tickets of an order",
      description:
        "Asks every provider again to vouch for the order's tickets. Idempotent: tickets already " +
        "issued come back unchanged (or with more signatures). 503 while fewer than two providers vouch.",
      security: REQUIRED_BUYER_SECURITY,
      middleware: [buyerGuard(s)],
      request: { params: OrderParams },
      responses: { 200: json(OrderWithTickets, "Issued"), ...problems(401, 404, 409, 503) },
    }),
    async (c) => {
      const { sub, seg } = await me(c, s);
      const order = await ownOrder(s, seg, c.req.valid("param").orderId);
      if (order.status !== "confirmed") {
        throw new ProblemError(
          409,
          "order-not-confirmed",
          "Order not confirmed",
          `the order is ${order.status}`,
        );
      }
      const issued = await issueTickets(s, order, sub, seg);
      if (issued.tickets.length === 0) {
        throw ticketsPending(issued);
      }
      const tickets = issued.tickets.map((t) => ticketView(t.id, t.record));
      return c.json({ order, tickets, ticketsPending: false }, 200);
    },
  );
}
