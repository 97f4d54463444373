import { z } from "@hono/zod-openapi";
import { BuyerId, Id, Instant, instantMs } from "./ids.ts";

/**
 * Most seats one hold (and so one order) may take: one order is one quorum batch
 * (BATCH_KEYS_MAX = 100 keys), and a cap keeps a single buyer from sweeping a whole block.
 */
export const HOLD_SEATS_MAX = 20;

/** How long held seats stay reserved for checkout unless the caller picks another duration. */
export const HOLD_DURATION_MS = 10 * 60 * 1000;

const SeatIds = z
  .array(Id)
  .min(1)
  .max(HOLD_SEATS_MAX)
  .refine((ids) => new Set(ids).size === ids.length, { message: "a seat is listed twice" });

export const Hold = z
  .object({
    id: Id,
    eventId: Id,
    seatIds: SeatIds,
    buyerId: BuyerId,
    expiresAt: Instant,
  })
  .strict()
  .openapi("Hold");
export type Hold = z.infer<typeof Hold>;

export const CreateHoldInput = z.object({ seatIds: SeatIds }).strict().openapi("CreateHoldInput");
export type CreateHoldInput = z.infer<typeof CreateHoldInput>;

export function newHold(args: {
  id: string;
  eventId: string;
  buyerId: string;
  seatIds: readonly string[];
  now: number;
  durationMs?: number;
}): Hold {
  return Hold.parse({
    id: args.id,
    eventId: args.eventId,
    buyerId: args.buyerId,
    seatIds: [...args.seatIds],
    expiresAt: new Date(args.now + (args.durationMs ?? HOLD_DURATION_MS)).toISOString(),
  });
}

export function isHoldActive(hold: Hold, now: number): boolean {
  return now < instantMs(hold.expiresAt);
}
