import { orderKey, scanPrefix, ticketKey } from "../../shared/domain/keys.ts";
import { orderSeatKey, ticketIdFor } from "../../shared/tickets/derive.ts";
import { ProblemError } from "../problem.ts";
import { markEventCancelled } from "./events.ts";
import type { Services } from "./index.ts";
import type { OrderIndexEntry, StoredOrder } from "./order-record.ts";
import { scanPages } from "./paging.ts";
import { pool } from "./pool.ts";
import { type RefundPayments, refundOrderFlow } from "./refunds.ts";
import type { TicketRecord } from "./tickets.ts";

/**
 * Cancelling an event: the event turns `cancelled` (no more holds or sales; final), then every
 * order of it is refunded, each like a theatre's refund (money back first, then the order's one
 * change, then its tickets revoked with the reason "cancelled"). A cancellation is resumable by
 * repeating the call: each call goes through the event's orders from the first, skips what is
 * done, and works on until its time budget is spent, so no call outlives a platform's request
 * limit. An order whose refund fails (the processor refused it) is reported and tried again by
 * the next call; the others go on.
 */

/** Work one call does before it answers with its progress: well inside every platform's limit. */
export const CANCEL_BUDGET_MS = 20_000;
/** Orders refunded at once: each is a processor call and a few quorum changes. */
const REFUNDS_IN_FLIGHT = 4;

export interface CancelProgress {
  readonly eventId: string;
  readonly status: "cancelling" | "cancelled";
  readonly orders: {
    /** Refunded, by this cancellation or before it. */
    readonly refunded: number;
    /** Confirmed orders not refunded yet: the next call goes on with them. */
    readonly remaining: number;
    /** Refunds that failed in this call, and why. */
    readonly failed: readonly { readonly orderId: string; readonly problem: string }[];
  };
}

/** The idempotency key of the refund a cancellation makes of one order. */
export const cancelRefundKey = (eventId: string, orderId: string) => `cancel.${eventId}.${orderId}`;

export async function cancelEventFlow(
  s: Services,
  payments: RefundPayments,
  theaterId: string,
  eventId: string,
  budgetMs = CANCEL_BUDGET_MS,
): Promise<CancelProgress> {
  await markEventCancelled(s, theaterId, eventId);
  const deadline = performance.now() + budgetMs;
  let refunded = 0;
  let remaining = 0;
  const failed: { orderId: string; problem: string }[] = [];
  for await (const page of scanPages<OrderIndexEntry>(s, scanPrefix.eventOrders(eventId))) {
    const orders = await s.store.getMany<StoredOrder>(page.map((p) => orderKey(p.value.orderId)));
    const todo: StoredOrder[] = [];
    for (const o of orders) {
      if (o === null || o.theaterId !== theaterId) continue;
      if (o.status === "refunded" && (await ticketsRevoked(s, o))) refunded++;
      else if (o.status === "confirmed" || o.status === "refunded") todo.push(o);
    }
    await pool(todo, REFUNDS_IN_FLIGHT, async (o) => {
      if (performance.now() > deadline) {
        remaining++;
        return;
      }
      try {
        const key = cancelRefundKey(eventId, o.id);
        await refundOrderFlow(s, payments, theaterId, key, o.id, "cancelled");
        refunded++;
      } catch (e) {
        if (!(e instanceof ProblemError)) throw e;
        failed.push({ orderId: o.id, problem: `${e.problem.type}: ${e.problem.detail ?? ""}` });
      }
    });
  }
  const done = remaining === 0 && failed.length === 0;
  return {
    eventId,
    status: done ? "cancelled" : "cancelling",
    orders: { refunded, remaining: remaining + failed.length, failed },
  };
}

/** A refunded order is done when every ticket record it has carries its revocation. */
async function ticketsRevoked(s: Services, o: StoredOrder): Promise<boolean> {
  const tids = await Promise.all(
    o.seats.map((seat) => ticketIdFor(o.id, orderSeatKey(o.eventId, seat))),
  );
  const recs = await s.store.getMany<TicketRecord>(tids.map(ticketKey));
  return recs.every((r) => r === null || r.revocation !== undefined);
}
