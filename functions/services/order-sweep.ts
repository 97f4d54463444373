import { holdKey, orderKey } from "../../shared/domain/keys.ts";
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
    if (rec?.state !== "sold") continue;
    const order = StoredOrder.safeParse(rec.order).data;
    if (order === undefined || order.id !== rec.orderId || order.holdId !== c.holdId) {
      console.error(
        `[${s.deps.provider}] hold ${c.holdId}: its sold record carries no valid order`,
      );
      continue;
    }
    if (!(await writeOrder(s, rec.caller, order).catch(() => null))) continue;
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
