import { createRoute, z } from "@hono/zod-openapi";
import { Id, Instant } from "../../../../shared/domain/ids.ts";
import { parseSeatKey } from "../../../../shared/domain/keys.ts";
import { Money } from "../../../../shared/domain/money.ts";
import { CardInput } from "../../../../shared/domain/order.ts";
import { MAX_SEATS_PER_HOLD } from "../../../../shared/seats/changes.ts";
import type { HoldRecord } from "../../../../shared/seats/types.ts";
import { holdTotal, placeHold, readOwnHold } from "../../../services/holds.ts";
import type { Services } from "../../../services/index.ts";
import { StoredOrder } from "../../../services/order-record.ts";
import { confirmPurchase } from "../../../services/orders.ts";
import { seatProblem, seatRefOf } from "../../../services/seat-problem.ts";
import {
  afterAnswer,
  IdempotencyHeaders,
  json,
  jsonBody,
  LocationHeader,
  problems,
  ServerTimingHeader,
  serverTimingSteps,
} from "../../api.ts";
import {
  BUYER_TAG,
  type BuyerApp,
  buyerGuard,
  me,
  REQUIRED_BUYER_SECURITY,
  SeatRefSchema,
} from "./common.ts";
import { TicketView, ticketView } from "./views.ts";

const HoldBody = z
  .object({ seats: z.array(SeatRefSchema).min(1).max(MAX_SEATS_PER_HOLD) })
  .strict()
  .openapi("CreateHold");

/** A hold as buyers see it (OpenAPI `Hold`): its seats, state, expiry and, once paid, its order. */
export const HoldView = z
  .object({
    holdId: Id,
    eventId: Id,
    seats: z.array(SeatRefSchema).max(MAX_SEATS_PER_HOLD),
    state: z.enum(["held", "sold", "released", "expired"]),
    expiresAt: Instant.optional(),
    total: Money.optional(),
    orderId: Id.optional(),
  })
  .openapi("Hold");
type HoldView = z.infer<typeof HoldView>;

const PurchaseView = z
  .object({
    order: StoredOrder,
    tickets: z.array(TicketView).max(MAX_SEATS_PER_HOLD),
    /** True when fewer than two providers vouched yet: re-issue with POST .../tickets. */
    ticketsPending: z.boolean(),
  })
  .openapi("Purchase");

const EventParams = z.object({ eventId: Id.openapi({ param: { name: "eventId", in: "path" } }) });
const HoldParams = z.object({ holdId: Id.openapi({ param: { name: "holdId", in: "path" } }) });

/** What a hold record shows its owner (a held record past its expiry reads as expired). */
function holdView(s: Services, holdId: string, rec: HoldRecord, total?: Money): HoldView {
  const seats = (rec.seats ?? []).map(seatRefOf);
  const eventId = rec.seats?.[0] ? parseSeatKey(rec.seats[0]).eventId : "";
  const state = rec.state === "held" && s.now() > rec.expiresAtMs ? "expired" : rec.state;
  return {
    holdId,
    eventId,
    seats,
    state,
    ...(rec.expiresAtMs !== undefined
      ? { expiresAt: new Date(rec.expiresAtMs).toISOString() }
      : {}),
    ...(total ? { total } : {}),
    ...(rec.state === "sold" ? { orderId: rec.orderId } : {}),
  };
}

export function holdRoutes(app: BuyerApp, s: Services) {
  createHoldRoute(app, s);
  getHoldRoute(app, s);
  releaseHoldRoute(app, s);
  confirmHoldRoute(app, s);
}

function createHoldRoute(app: BuyerApp, s: Services) {
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/events/{eventId}/holds",
      operationId: "createHold",
      tags: [BUYER_TAG],
      summary: "Hold seats for checkout (all of them or none)",
      security: REQUIRED_BUYER_SECURITY,
      middleware: [buyerGuard(s)],
      request: { params: EventParams, headers: IdempotencyHeaders, body: jsonBody(HoldBody) },
      responses: {
        201: {
          ...json(HoldView, "Held"),
          headers: z.object({ location: LocationHeader, "server-timing": ServerTimingHeader }),
        },
        ...problems(400, 401, 404, 409, 410, 422, 503),
      },
    }),
    async (c) => {
      const { sub, seg } = await me(c, s);
      const { eventId } = c.req.valid("param");
      const key = c.req.valid("header")["idempotency-key"];
      const { seats } = c.req.valid("json");
      // Where the wait went (W3C Server-Timing), step by step: benches and operators read it.
      const { timing, header } = serverTimingSteps();
      const { hold, total } = await placeHold(s, { sub, seg, key, eventId, seats, timing });
      c.header("server-timing", header());
      const view: HoldView = {
        holdId: hold.holdId,
        eventId,
        seats: hold.seats.map(seatRefOf),
        state: "held",
        expiresAt: new Date(hold.expiresAtMs).toISOString(),
        total,
      };
      c.header("location", `/v1/holds/${hold.holdId}`);
      return c.json(view, 201);
    },
  );
}

function getHoldRoute(app: BuyerApp, s: Services) {
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/holds/{holdId}",
      operationId: "getHold",
      tags: [BUYER_TAG],
      summary: "One of your holds",
      security: REQUIRED_BUYER_SECURITY,
      middleware: [buyerGuard(s)],
      request: { params: HoldParams },
      responses: { 200: json(HoldView, "The hold"), ...problems(401, 404, 503) },
    }),
    async (c) => {
      const { seg } = await me(c, s);
      const { holdId } = c.req.valid("param");
      const rec = await readOwnHold(s, seg, holdId);
      // An expired tombstone carries no owner: never show it to anyone.
      if (rec.state === "expired")
        throw seatProblem("not-found", `hold ${holdId} does not exist or is not yours`);
      const total = await holdTotal(s, rec);
      return c.json(holdView(s, holdId, rec, total), 200);
    },
  );
}

function releaseHoldRoute(app: BuyerApp, s: Services) {
  app.openapi(
    createRoute({
      method: "delete",
      path: "/v1/holds/{holdId}",
      operationId: "releaseHold",
      tags: [BUYER_TAG],
      summary: "Give held seats back",
      security: REQUIRED_BUYER_SECURITY,
      middleware: [buyerGuard(s)],
      request: { params: HoldParams },
      responses: {
        204: { description: "Released (or already gone)" },
        ...problems(401, 404, 409, 503),
      },
    }),
    async (c) => {
      const { seg } = await me(c, s);
      const { holdId } = c.req.valid("param");
      const r = await s.seats.release(seg, holdId);
      if (!r.ok) throw seatProblem(r.code, r.detail);
      return c.body(null, 204);
    },
  );
}

function confirmHoldRoute(app: BuyerApp, s: Services) {
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/holds/{holdId}/confirm",
      operationId: "confirmHold",
      tags: [BUYER_TAG],
      summary: "Pay for held seats: the order and its tickets",
      description:
        "Authorises the card, commits the sale, captures, records the order and issues tickets signed " +
        "by at least two providers. A declined card (402) leaves the seats held until the hold " +
        "expires. On 503 retry with the same Idempotency-Key (any provider): the retry finishes the sale. " +
        "Free seats (total 0) need no card: the card processor is not called, a card sent anyway is " +
        "ignored and the order's paymentId is null. Anything to pay without a card is 422 card-required.",
      security: REQUIRED_BUYER_SECURITY,
      middleware: [buyerGuard(s)],
      request: {
        params: HoldParams,
        headers: IdempotencyHeaders,
        body: jsonBody(
          z
            .object({
              card: CardInput.optional().meta({
                description: "Required unless the hold's total is 0 (free seats).",
              }),
            })
            .strict()
            .openapi("ConfirmHold"),
        ),
      },
      responses: {
        201: {
          ...json(PurchaseView, "Bought"),
          headers: z.object({ "server-timing": ServerTimingHeader }),
        },
        ...problems(400, 401, 402, 404, 409, 410, 422, 503),
      },
    }),
    async (c) => {
      const { sub, seg } = await me(c, s);
      const { holdId } = c.req.valid("param");
      const key = c.req.valid("header")["idempotency-key"];
      const { card } = c.req.valid("json");
      // Where the wait went (W3C Server-Timing), step by step, and what of it was the card
      // processor's: benches and operators tell the platform's time from the processor's.
      const { timing, header } = serverTimingSteps();
      const { order, issued, processorMs } = await confirmPurchase(s, {
        sub,
        seg,
        key,
        holdId,
        card,
        timing,
        defer: afterAnswer(c),
      });
      c.header("location", `/v1/me/orders/${order.id}`);
      timing("processor", processorMs);
      c.header("server-timing", header());
      return c.json(
        {
          order,
          tickets: issued.tickets.map((t) => ticketView(t.id, t.record)),
          ticketsPending: issued.tickets.length === 0,
        },
        201,
      );
    },
  );
}
