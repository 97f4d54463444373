import { holdKey, orderKey, quotaKey, seatKey, theaterIdemKey } from "../../shared/domain/keys.ts";
import type { Money } from "../../shared/domain/money.ts";
import { refundOrder } from "../../shared/domain/order.ts";
import type { Payment } from "../../shared/domain/payment.ts";
import type { PaymentPort, RefundResult } from "../../shared/payments/port.ts";
import { forgetHolds } from "../../shared/seats/changes.ts";
import type { HoldRecord, SeatValue } from "../../shared/seats/types.ts";
import type { RevocationReason } from "../../shared/tickets/revocation.ts";
import { errorText, ProblemError } from "../problem.ts";
import { bodyHash, idemConflict, judgeClaim, type TheaterIdemRecord } from "./idempotency.ts";
import type { Services } from "./index.ts";
import type { StoredOrder } from "./order-record.ts";
import { revokeOrderTickets } from "./revocations.ts";
import { retryingChange } from "./store.ts";
import { notFound } from "./venues.ts";

/**
 * Refunds: money back first, then ONE quorum change over the order, the theatre's idempotency
 * claim, the order's seat registers and the hold record that sold them, which returns the seats
 * to sale. (The order index entries carry no status, so they need no change.)
 *
 * Why this order: the payment refund is the step that cannot be undone, and it is idempotent in
 * effect (a second full refund is refused as exceeding the captured amount, and the payment then
 * reads "refunded"). If the change after it fails, the order is still "confirmed" and a retry
 * refunds nothing more and commits the change. The opposite order could leave an order marked
 * refunded whose money was never returned, with nothing left to trigger the retry.
 *
 * Once the order reads refunded, its hold leaves the buyer's per-event quota register
 * (`quota/<buyer>/<event>`, shared/seats), so the seats no longer count against the event's cap.
 * That is a follow-up step, repeated by every retry, like the seats following a hold record, and
 * so is the revocation of the order's tickets.
 */

/** The payment calls a refund needs: the durable port (functions/services/payments.ts). */
export interface RefundPayments {
  refund: PaymentPort["refund"];
  get(paymentId: string): Promise<Payment | null>;
}

export interface RefundInput {
  readonly orderId: string;
  readonly claim: TheaterIdemRecord;
  /** Number of seat keys after the two fixed keys; hold keys follow them. */
  readonly seatCount: number;
  readonly holdIds: readonly string[];
}

export type RefundAbort =
  | { readonly code: "not-found" }
  | { readonly code: "conflict" }
  | { readonly code: "already-refunded"; readonly order: StoredOrder }
  | { readonly code: "invalid-status"; readonly status: string };

/** Keys of a refund change, in the order refundChange expects them. */
export function refundKeys(
  order: Pick<StoredOrder, "id" | "eventId" | "seats">,
  idemKey: string,
  holdIds: readonly string[],
): string[] {
  return [
    orderKey(order.id),
    idemKey,
    ...order.seats.map((x) => seatKey(order.eventId, x.sectionId, x.seatId)),
    ...holdIds.map(holdKey),
  ];
}

/**
 * The refund as a deterministic change function. A seat goes back to `{state:"free"}` only while it
 * is still sold to THIS order: sold with this orderId, or still held by the hold whose record sold
 * it to this order (its seats were not settled yet). Anything else (already free, or taken by a
 * later buyer) is left alone, so re-running it is safe. A free seat is free for any new hold
 * (seatIsFreeFor in shared/seats/changes.ts), and a later settle of the old hold leaves it alone
 * (settleSeats only moves seats that still point at that hold). The hold record stays "sold": it
 * records that the sale happened; the order records that it was refunded.
 *
 * A change may land on some of its keys and not others (a warm proposer's accept refused on the
 * seats, docs/quorum.md), and its retry re-runs this function on what did land. So an order that
 * already reads "refunded" is not the end: seats still sold to it are freed now, and only when
 * none is left does the refund abort as already done (writing nothing).
 */
export function refundChange(i: RefundInput) {
  return (cur: readonly unknown[]): unknown[] | { abort: RefundAbort } => {
    const order = cur[0] as StoredOrder | null;
    const idem = (cur[1] ?? null) as TheaterIdemRecord | null;
    if (order === null) return { abort: { code: "not-found" } };
    if (judgeClaim(idem, i.claim.op, i.claim.hash).kind === "conflict") {
      return { abort: { code: "conflict" } };
    }
    const next = order.status === "refunded" ? null : refundOrder(order);
    if (next !== null && !next.ok)
      return { abort: { code: "invalid-status", status: order.status } };
    const seats = cur.slice(2, 2 + i.seatCount) as (SeatValue | null)[];
    const holds = new Map<string, HoldRecord | null>();
    i.holdIds.forEach((h, j) => {
      holds.set(h, (cur[2 + i.seatCount + j] ?? null) as HoldRecord | null);
    });
    const freed = freedSeats(i.orderId, seats, holds);
    if (next === null) {
      if (freed.every((v, j) => v === seats[j]))
        return { abort: { code: "already-refunded", order } };
      // The claim is left as found: refunding a refunded order needs none (nor did it before).
      return [order, idem, ...freed, ...i.holdIds.map((h) => holds.get(h) ?? null)];
    }
    return [
      { ...order, status: next.order.status },
      idem ?? i.claim,
      ...freed,
      ...i.holdIds.map((h) => holds.get(h) ?? null),
    ];
  };
}

/**
 * Each seat freed if it is still sold to order `orderId`: sold with that orderId, or still held by
 * the hold whose record sold it to that order (not settled yet). Anything else is left alone.
 */
export function freedSeats(
  orderId: string,
  seats: readonly (SeatValue | null)[],
  holds: ReadonlyMap<string, HoldRecord | null>,
): (SeatValue | null)[] {
  return seats.map((s): SeatValue | null => {
    if (s === null || s.state === "free") return s;
    if (s.state === "sold") return s.orderId === orderId ? { state: "free" } : s;
    const rec = holds.get(s.holdId);
    return rec?.state === "sold" && rec.orderId === orderId ? { state: "free" } : s;
  });
}

/** Reads a payment refund's answer as done, or throws the problem it is. */
async function checkPaymentRefund(
  r: RefundResult,
  payments: RefundPayments,
  paymentId: string,
  target: number,
): Promise<void> {
  if (r.status === "refunded") return;
  // Refunded up to the target already: another attempt of this refund (or a racing one) returned
  // the money meanwhile. Carry on and commit it.
  if (r.code === "amount_exceeds_captured" || r.code === "invalid_state") {
    const p = await payments.get(paymentId);
    if (p !== null && p.refunded >= target) return;
  }
  throw new ProblemError(
    409,
    "payment-refund-refused",
    "The payment could not be refunded",
    `${r.code}: ${r.message}`,
    { code: r.code },
  );
}

/**
 * Refunds the payment up to `target` in all (minor units): only what the processor has not
 * refunded yet, so a retry after the money moved, or a second request, refunds nothing twice.
 * A target of 0, or an order without a payment (free), moves no money.
 */
export async function refundUpTo(
  payments: RefundPayments,
  paymentId: string | null,
  target: Money,
): Promise<void> {
  if (paymentId === null || target.amount <= 0) return;
  let r: RefundResult;
  try {
    const p = await payments.get(paymentId);
    const due = target.amount - (p?.refunded ?? 0);
    if (p !== null && due <= 0) return;
    r = await payments.refund(paymentId, { amount: due, currency: target.currency });
  } catch (e) {
    throw new ProblemError(
      503,
      "payment-unavailable",
      "The payment processor did not answer",
      "retry with the same Idempotency-Key",
      {},
      { "retry-after": "2" },
    ).logging(errorText(e));
  }
  await checkPaymentRefund(r, payments, paymentId, target.amount);
}

/**
 * What every refund request starts with: the theatre's own order (404 otherwise), its
 * idempotency claim judged against this request (`hashBody` is what the key stands for), and a
 * status a refund applies to. A refunded order still goes on: its change frees any seat an
 * interrupted refund left sold. The order and the claim are read at once.
 */
export async function openRefund(
  s: Services,
  theaterId: string,
  key: string,
  orderId: string,
  hashBody: unknown,
): Promise<{ order: StoredOrder; hash: string; idemKey: string }> {
  const hash = bodyHash("refund", hashBody);
  const idemKey = theaterIdemKey(theaterId, key);
  const [order, idem] = await Promise.all([
    s.store.get<StoredOrder>(orderKey(orderId)),
    s.store.get<TheaterIdemRecord>(idemKey),
  ]);
  if (order === null || order.theaterId !== theaterId) throw notFound("order", orderId);
  if (judgeClaim(idem, "refund", hash).kind === "conflict") throw idemConflict();
  if (order.status !== "confirmed" && order.status !== "refunded") {
    throw invalidStatus(order.status);
  }
  return { order, hash, idemKey };
}

export async function refundOrderFlow(
  s: Services,
  payments: RefundPayments,
  theaterId: string,
  key: string,
  orderId: string,
  /** What its tickets' revocations say: "cancelled" when the event's cancellation refunds it. */
  reason: RevocationReason = "refunded",
): Promise<{ order: StoredOrder; replayed: boolean }> {
  const { order, hash, idemKey } = await openRefund(s, theaterId, key, orderId, { orderId });

  // Up to the whole total: seats refunded one by one before are not refunded again.
  if (order.status === "confirmed") await refundUpTo(payments, order.paymentId, order.total);

  // The hold that sold the seats joins the change: seats it has not settled yet still point at it.
  const holdIds = order.holdId ? [order.holdId] : [];
  const claim: TheaterIdemRecord = { op: "refund", hash, id: orderId, startedAtMs: s.now() };
  const f = refundChange({ orderId, claim, seatCount: order.seats.length, holdIds });
  const out = await retryingChange<unknown>(s, refundKeys(order, idemKey, holdIds), (cur) =>
    f(cur),
  );
  if (out.ok) {
    await followRefund(s, order, reason);
    // A refunded order's change only freed seats an interrupted refund had left sold.
    return { order: out.values[0] as StoredOrder, replayed: order.status === "refunded" };
  }
  const why = out.reason as RefundAbort;
  switch (why.code) {
    case "already-refunded":
      await followRefund(s, order, reason);
      return { order: why.order, replayed: true };
    case "conflict":
      throw idemConflict();
    case "not-found":
      throw notFound("order", orderId);
    case "invalid-status":
      throw invalidStatus(why.status);
  }
}

/**
 * What follows a committed refund, repeated by every retry: the quota gives the seats back, and
 * every ticket of the order is revoked in its event's co-signed feed (functions/services/
 * revocations.ts), so the refund answers only once its tickets no longer verify as valid for a
 * door that has the feed. A failure here is a 503: the retry finds the order refunded and runs it.
 */
async function followRefund(
  s: Services,
  order: StoredOrder,
  reason: RevocationReason,
): Promise<void> {
  await freeQuota(s, order);
  await revokeOrderTickets(s, order, reason);
}

/**
 * Takes a refunded order's hold off its buyer's quota register. The sold hold record names the
 * buyer and never changes again; an event that never had a cap has no register, and then this
 * writes nothing.
 */
export async function freeQuota(s: Services, order: StoredOrder): Promise<void> {
  if (!order.holdId) return;
  const sold = await s.store.read<HoldRecord>(holdKey(order.holdId));
  if (sold?.state !== "sold") return;
  const f = forgetHolds([order.holdId]);
  await retryingChange<unknown>(s, [quotaKey(sold.caller, order.eventId)], (cur) => {
    const r = f(cur as Parameters<typeof f>[0]);
    return "values" in r ? [...r.values] : { abort: r.abort };
  });
}

export const invalidStatus = (status: string) =>
  new ProblemError(
    409,
    "order-state-conflict",
    "The order cannot be refunded",
    `only a confirmed order can be refunded; this one is ${status}`,
    { status },
  );
