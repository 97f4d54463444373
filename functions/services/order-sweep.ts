import { holdKey, orderKey } from "../../shared/domain/keys.ts";
import { holdOfOrder } from "../../shared/seats/service.ts";
import type { HoldRecord } from "../../shared/seats/types.ts";
import { BATCH_KEYS_MAX } from "../../shared/storage/ports.ts";
import type { Services } from "./index.ts";
import { StoredOrder } from "./order-record.ts";
import { writeOrder } from "./orders.ts";
import { paymentsFor } from "./payments.ts";

/**
 * What a purchase's coordinator leaves undone when it is lost right after the sale's commit: the
 * order travels inside the sold hold record (services/orders.ts), and its record and index entries
 * are written after. The seat sweep hands over each sold record it scanned; an order this
 * provider's store lacks is written from the record as a quorum read returns it (the scanned copy
 * only says where to look), and its payment captured. Answers how many orders it wrote or found
 * written.
 */
export async function recordSoldOrders(
  s: Services,
  holds: readonly { readonly holdId: string; readonly record: HoldRecord }[],
): Promise<number> {
  const candidates = holds.flatMap((h) =>
    h.record.state === "sold" && h.record.order !== undefined
      ? [{ holdId: h.holdId, orderId: h.record.orderId }]
      : [],
  );
  const missing: typeof candidates = [];
  for (let i = 0; i < candidates.length; i += BATCH_KEYS_MAX) {
    const batch = candidates.slice(i, i + BATCH_KEYS_MAX);
    const got = await s.deps.acceptor.read(batch.map((c) => orderKey(c.orderId)));
    batch.forEach((c, j) => {
      if (got[j]?.value == null) missing.push(c);
    });
  }
  let recorded = 0;
  for (const c of missing) {
    const rec = await s.store.read<HoldRecord>(holdKey(c.holdId)).catch(() => null);
    const order = rec ? await recordFromSale(s, c.holdId, rec) : null;
    if (!order) continue;
    recorded++;
    // The capture was the other follow-up it never reached (repeating one answers the same).
    if (order.paymentId === null || order.status !== "confirmed") continue;
    const cap = await paymentsFor(s)
      .capture(order.paymentId, order.total)
      .catch((e: unknown) => ({ status: "error", message: String(e) }));
    if (cap.status !== "captured") {
      console.error(`[${s.deps.provider}] order ${order.id}: capture still pending`);
    }
  }
  return recorded;
}

/**
 * An order whose record is not written yet, read through its id: a sale's coordinator answers
 * once the sale commits and records the order after (services/orders.ts), so a buyer who asks at
 * once may come first. The order id names its hold (`holdOfOrder`); the hold's sold record, read
 * by quorum, decides, and the order is recorded from it as the sweep would. Null when the id
 * names no hold, or its hold did not sell to this order. Answers the order and whose it is.
 */
export async function orderFromSale(
  s: Services,
  orderId: string,
): Promise<{ order: StoredOrder; seg: string } | null> {
  const holdId = holdOfOrder(orderId);
  if (holdId === null) return null;
  const rec = await s.store.read<HoldRecord>(holdKey(holdId));
  if (rec?.state !== "sold" || rec.orderId !== orderId) return null;
  const order = await recordFromSale(s, holdId, rec);
  return order ? { order, seg: rec.caller } : null;
}

/** Records the order a sold hold record carries (order, index entries): the stored order if one
 * was written or found, else null. */
async function recordFromSale(
  s: Services,
  holdId: string,
  rec: HoldRecord,
): Promise<StoredOrder | null> {
  if (rec.state !== "sold") return null;
  const order = StoredOrder.safeParse(rec.order).data;
  if (order === undefined || order.id !== rec.orderId || order.holdId !== holdId) {
    console.error(`[${s.deps.provider}] hold ${holdId}: its sold record carries no valid order`);
    return null;
  }
  return writeOrder(s, rec.caller, order).catch(() => null);
}
