import { z } from "@hono/zod-openapi";
import { MAX_SEATS_PER_HOLD } from "../seats/changes.ts";
import { int32 } from "./bounds.ts";
import { BuyerId, Id, IdempotencyKey, Instant } from "./ids.ts";
import { Money } from "./money.ts";
import type { DomainIssue } from "./result.ts";

export const ORDER_STATUSES = ["pending", "confirmed", "cancelled", "refunded"] as const;
export const OrderStatus = z.enum(ORDER_STATUSES);
export type OrderStatus = z.infer<typeof OrderStatus>;

/** Ticket claims allow 64 characters of display text without control characters. */
const DisplayText = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[^\p{Cc}]*$/u, "no control characters");

export const SeatDisplay = z
  .object({
    section: DisplayText.optional(),
    row: DisplayText.optional(),
    label: DisplayText,
    category: DisplayText,
  })
  .strict()
  .openapi("SeatDisplay");
export type SeatDisplay = z.infer<typeof SeatDisplay>;

/** What the seats are for, as a ticket names it: fixed when the sale commits, like `display`. */
export const EventDisplay = z
  .object({
    title: DisplayText,
    startsAt: Instant,
    /** Absent when the venue could not be read when the sale committed. */
    venue: DisplayText.optional(),
  })
  .strict()
  .openapi("EventDisplay");
export type EventDisplay = z.infer<typeof EventDisplay>;

export const OrderSeat = z
  .object({
    seatId: Id,
    /** Section or general-admission area: with seatId it names the seat's key. */
    sectionId: Id,
    categoryId: Id,
    price: Money,
    /** How the seat is named on its ticket, fixed when the sale commits so that every provider
     * derives the same ticket claims from the order, whatever the plan says later. */
    display: SeatDisplay.optional(),
  })
  .strict()
  .openapi("OrderSeat");
export type OrderSeat = z.infer<typeof OrderSeat>;

/** One seat of an order, by the ids that name its key. */
export const OrderSeatRef = z
  .object({ sectionId: Id, seatId: Id })
  .strict()
  .openapi("OrderSeatRef");
export type OrderSeatRef = z.infer<typeof OrderSeatRef>;

export const Order = z
  .object({
    id: Id,
    theaterId: Id,
    eventId: Id,
    buyerId: BuyerId,
    seats: z.array(OrderSeat).min(1).max(MAX_SEATS_PER_HOLD),
    /** The event as its tickets name it (title, start, venue), fixed when the sale commits so
     * that a ticket read offline says what it is for. Absent on orders sold before. */
    eventDisplay: EventDisplay.optional(),
    total: Money,
    status: OrderStatus,
    /** Set once a payment was authorised for the order; stays null for a free order (total 0),
     * which never reaches the card processor. */
    paymentId: Id.nullable(),
    createdAt: Instant,
    idempotencyKey: IdempotencyKey,
    /** Seats refunded one by one while the order stays confirmed (shared/domain/partial-refund.ts);
     * absent when none was. Their tickets are revoked; the rest stay valid. */
    refundedSeats: z.array(OrderSeatRef).max(MAX_SEATS_PER_HOLD).optional(),
    /** A partial refund whose money may be moving: the seats refunded once it commits. */
    pendingRefund: z
      .object({ seats: z.array(OrderSeatRef).min(1).max(MAX_SEATS_PER_HOLD) })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((o, ctx) => {
    let sum = 0;
    o.seats.forEach((s, i) => {
      sum += s.price.amount;
      if (s.price.currency !== o.total.currency) {
        ctx.addIssue({
          code: "custom",
          path: ["seats", i, "price", "currency"],
          message: "seat prices must be in the order's currency",
        });
      }
    });
    if (sum !== o.total.amount) {
      ctx.addIssue({
        code: "custom",
        path: ["total"],
        message: "total must equal the seat prices",
      });
    }
  })
  .openapi("Order");
export type Order = z.infer<typeof Order>;

/** Card details as a buyer types them (only ever passed on to the payment port, never stored). */
export const CardInput = z
  .object({
    number: z
      .string()
      .max(19)
      .regex(/^\d{12,19}$/, "must be 12-19 digits"),
    expMonth: int32(1, 12),
    expYear: int32(2000, 2100),
    cvc: z
      .string()
      .max(4)
      .regex(/^\d{3,4}$/, "must be 3 or 4 digits"),
  })
  .strict()
  .openapi("CardInput");
export type CardInput = z.infer<typeof CardInput>;

/** Buying held seats. The idempotency key usually comes from the Idempotency-Key header; `card`
 * is needed only when the seats cost something. */
export const CreateOrderInput = z
  .object({ holdId: Id, card: CardInput.optional() })
  .strict()
  .openapi("CreateOrderInput");
export type CreateOrderInput = z.infer<typeof CreateOrderInput>;

/** A new order awaiting payment; `seats` and `total` come from `priceSeats`. */
export function newOrder(args: {
  id: string;
  theaterId: string;
  eventId: string;
  buyerId: string;
  seats: readonly OrderSeat[];
  eventDisplay?: EventDisplay;
  total: Money;
  now: number;
  idempotencyKey: string;
}): Order {
  return Order.parse({
    id: args.id,
    theaterId: args.theaterId,
    eventId: args.eventId,
    buyerId: args.buyerId,
    seats: [...args.seats],
    ...(args.eventDisplay ? { eventDisplay: args.eventDisplay } : {}),
    total: args.total,
    status: "pending",
    paymentId: null,
    createdAt: new Date(args.now).toISOString(),
    idempotencyKey: args.idempotencyKey,
  });
}

export type OrderResult =
  | { readonly ok: true; readonly order: Order }
  | { readonly ok: false; readonly errors: readonly DomainIssue[] };

const invalid = (order: Order, action: string): OrderResult => ({
  ok: false,
  errors: [
    {
      path: "/status",
      code: "invalid_status",
      message: `cannot ${action} an order that is ${order.status}`,
    },
  ],
});

/** pending → confirmed, recording the captured payment (null: a free order, nothing was paid). */
export function confirmOrder(order: Order, paymentId: string | null): OrderResult {
  if (order.status !== "pending") return invalid(order, "confirm");
  if ((paymentId === null) !== (order.total.amount === 0)) {
    return {
      ok: false,
      errors: [
        {
          path: "/paymentId",
          code: "payment_mismatch",
          message: "an order is paid exactly when its total is above zero",
        },
      ],
    };
  }
  return { ok: true, order: { ...order, status: "confirmed", paymentId } };
}

/** pending → cancelled (payment declined, hold expired, buyer gave up). */
export function cancelOrder(order: Order): OrderResult {
  if (order.status !== "pending") return invalid(order, "cancel");
  return { ok: true, order: { ...order, status: "cancelled" } };
}

/** confirmed → refunded (event cancelled or refund granted); the caller refunds the payment. */
export function refundOrder(order: Order): OrderResult {
  if (order.status !== "confirmed") return invalid(order, "refund");
  return { ok: true, order: { ...order, status: "refunded" } };
}
