import { scanPrefix } from "../../shared/domain/keys.ts";
import { SKEW_MARGIN_MS } from "../../shared/seats/changes.ts";
import type { SeatValue } from "../../shared/seats/types.ts";
import { SCAN_LIMIT_MAX } from "../../shared/storage/ports.ts";
import type { Services } from "./index.ts";
import { scanPages } from "./paging.ts";
import type { ScanConsistency } from "./store.ts";

/** What a buyer sees of one seat: free to take, in someone's checkout, or gone. */
export type Availability = "available" | "held" | "sold";

/**
 * A register's availability at `now`. A hold past its expiry plus the skew margin no longer keeps
 * the seat (the next hold rolls it back, shared/seats/changes.ts), so it shows as available.
 * A seat has exactly one register, so it can never show as sold twice.
 */
export function availabilityOf(v: SeatValue | null, now: number): Availability {
  if (v === null || v.state === "free") return "available";
  if (v.state === "sold") return "sold";
  return now <= v.expiresAtMs + SKEW_MARGIN_MS ? "held" : "available";
}

/**
 * Taken seats of an event, as "<section>/<seatId>" → held | sold (seats never written, or free,
 * are absent). Paged: memory holds one page plus the taken seats. The public seat map reads this
 * provider's store only (`local`: a hold is the real check); management decisions read all
 * committed seats.
 */
export async function takenSeats(
  s: Services,
  eventId: string,
  sectionId?: string,
  consistency: ScanConsistency = "majority",
): Promise<Map<string, Exclude<Availability, "available">>> {
  const prefix =
    sectionId === undefined
      ? scanPrefix.eventSeats(eventId)
      : scanPrefix.sectionSeats(eventId, sectionId);
  const base = scanPrefix.eventSeats(eventId).length;
  const now = s.now();
  const out = new Map<string, Exclude<Availability, "available">>();
  for await (const page of scanPages<SeatValue>(s, prefix, SCAN_LIMIT_MAX, consistency)) {
    for (const { key, value } of page) {
      const a = availabilityOf(value, now);
      if (a !== "available") out.set(key.slice(base), a);
    }
  }
  return out;
}
