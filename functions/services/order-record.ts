import { z } from "@hono/zod-openapi";
import { Id } from "../../shared/domain/ids.ts";
import { Money } from "../../shared/domain/money.ts";
import { Order } from "../../shared/domain/order.ts";
import { PartyId, PROCEEDS_PARTIES_MAX } from "../../shared/payments/split.ts";

/* The stored order and its index entries: what the purchase writes and every later reader
 * (tickets, refunds, backups, the buyer's lists) reads. */

export const ProceedsEntry = z.object({ party: PartyId, amount: Money }).openapi("Proceeds");

/** `order/<oid>`: the Order plus how its total is shared and which hold it sold. */
export const StoredOrder = Order.safeExtend({
  proceeds: z.array(ProceedsEntry).max(PROCEEDS_PARTIES_MAX),
  holdId: Id,
}).openapi("BuyerOrder");
export type StoredOrder = z.infer<typeof StoredOrder>;

/** Index entry `buyer/<seg>/order/<oid>` and `event/<eid>/order/<oid>`. */
export interface OrderIndexEntry {
  readonly orderId: string;
  readonly eventId: string;
  readonly createdAt: string;
}
