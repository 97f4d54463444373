import type { Event } from "../../shared/domain/event.ts";
import {
  cancellingKey,
  eventKey,
  orderKey,
  scanPrefix,
  ticketKey,
} from "../../shared/domain/keys.ts";
import { ticketIdsFor } from "../../shared/tickets/derive.ts";
import { errorText, ProblemError } from "../problem.ts";
import { markEventCancelled } from "./events.ts";
import type { Services } from "./index.ts";
import type { OrderIndexEntry, StoredOrder } from "./order-record.ts";
import { scanPages } from "./paging.ts";
import { pool } from "./pool.ts";
import { type RefundPayments, refundOrderFlow } from "./refunds.ts";
import { retryingChange } from "./store.ts";
import type { TicketRecord } from "./tickets.ts";

/**
 * Cancelling an event: the event turns `cancelled` (no more holds or sales; final), then every
 * order of it is refunded, each like a theatre's refund (money back first, then the order's one
 * change, then its tickets revoked with the reason "cancelled"). A cancellation is resumable by
 * repeating the call: each call goes through the event's orders from the first, skips what is
 * done, and works on until its time budget is spent, so no call outlives a platform's request
 * limit. A marker (`cancelling/<eventId>`) stays until every order is refunded, and the scheduled
 * anti-entropy run goes on with the cancellations it finds (`continueCancellations`), so a
 * cancellation finishes even if the theatre never calls again. An order whose refund fails (the
 * processor refused it) is reported and tried again by the next call; the others go on.
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

/** What the scheduled run needs to go on with a cancellation. */
export interface CancellingRecord {
  readonly eventId: string;
  readonly theaterId: string;
}

export async function cancelEventFlow(
  s: Services,
  payments: RefundPayments,
  theaterId: string,
  eventId: string,
  budgetMs = CANCEL_BUDGET_MS,
  /** false: the scheduled run, which found the event cancelled and marked already. */
  start = true,
): Promise<CancelProgress> {
  if (start) {
    // Only the event's own theatre gets this far (404 otherwise). From the marker on, the
    // scheduled run finishes the refunds if nobody calls again.
    await markEventCancelled(s, theaterId, eventId);
    const record: CancellingRecord = { eventId, theaterId };
    await s.store.createOnce(cancellingKey(eventId), record);
  } else {
    // A marker is a reminder, not an order to refund: only an event that the quorum shows
    // cancelled, of that theatre, has its orders refunded (a forged marker moves no money).
    const ev = await s.store.read<Event>(eventKey(eventId));
    if (ev?.status !== "cancelled" || ev.theaterId !== theaterId) {
      throw new ProblemError(409, "event-not-cancelled", "The event is not cancelled");
    }
  }
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
  if (done) {
    await retryingChange<CancellingRecord>(s, [cancellingKey(eventId)], ([cur]) =>
      cur === null ? { abort: "gone" } : [null],
    );
  }
  return {
    eventId,
    status: done ? "cancelled" : "cancelling",
    orders: { refunded, remaining: remaining + failed.length, failed },
  };
}

/** A refunded order is done when every ticket record it has carries its revocation. */
async function ticketsRevoked(s: Services, o: StoredOrder): Promise<boolean> {
  const tids = await ticketIdsFor(o.id, o.eventId, o.seats);
  const recs = await s.store.getMany<TicketRecord>(tids.map(ticketKey));
  return recs.every((r) => r === null || r.revocation !== undefined);
}

/** Cancellations one scheduled run goes on with, and the time it gives each; markers read per run
 * (finished ones are null until the garbage collector removes them). */
const CRON_CANCELLATIONS_MAX = 2;
const CRON_MARKERS_READ = 100;
const CRON_CANCEL_BUDGET_MS = 5_000;

/** The scheduled run's share: each unfinished cancellation, a slice of time each. */
export async function continueCancellations(
  s: Services,
  payments: RefundPayments,
): Promise<CancelProgress[]> {
  const page = await s.store.scan<CancellingRecord>(
    scanPrefix.cancelling(),
    { limit: CRON_MARKERS_READ },
    "majority",
  );
  const out: CancelProgress[] = [];
  for (const { value } of page.items) {
    if (value === null || out.length >= CRON_CANCELLATIONS_MAX) continue;
    try {
      out.push(
        await cancelEventFlow(
          s,
          payments,
          value.theaterId,
          value.eventId,
          CRON_CANCEL_BUDGET_MS,
          false,
        ),
      );
    } catch (e) {
      // One cancellation that cannot go on (its store unreachable now) must not stop the run.
      console.error(`[${s.deps.provider}] cancellation of ${value.eventId}: ${errorText(e)}`);
    }
  }
  return out;
}
