import { z } from "@hono/zod-openapi";
import { BuyerId, Id, Instant } from "./ids.ts";

/** One admission: a seat of an event, held by a buyer, issued for a confirmed order. */
export const Ticket = z
  .object({
    id: Id,
    orderId: Id,
    eventId: Id,
    seatId: Id,
    holderId: BuyerId,
    issuedAt: Instant,
  })
  .strict()
  .openapi("Ticket");
export type Ticket = z.infer<typeof Ticket>;
