/**
 * Key layout of the seat registers (every key is one CASPaxos register):
 * - `seat/<eventId>/<section>/<seatId>`: one seat (partition = the section, see storage/partition.ts)
 * - `hold/<holdId>`: the hold record, the single commit point of a hold and of its sale
 * - `idem/<caller>/<key>`: an idempotency claim (request hash, chosen ids, start time)
 * - `quota/<caller>/<eventId>`: what one buyer holds and owns of an event with a per-buyer cap
 *   (partition = the buyer, so one buyer's racing holds meet on it and no event-wide register
 *   serialises everyone's holds)
 */
const SEGMENT_RE = /^[A-Za-z0-9_.:-]{1,64}$/;

export function isSegment(s: string): boolean {
  return SEGMENT_RE.test(s);
}

function check(kind: string, ...parts: string[]): void {
  for (const p of parts) {
    if (!isSegment(p)) throw new RangeError(`bad ${kind} segment: ${JSON.stringify(p)}`);
  }
}

export interface SeatRef {
  readonly section: string;
  readonly seatId: string;
}

export function seatKey(eventId: string, section: string, seatId: string): string {
  check("seat", eventId, section, seatId);
  return `seat/${eventId}/${section}/${seatId}`;
}

export function holdKey(holdId: string): string {
  check("hold", holdId);
  return `hold/${holdId}`;
}

export function idemKey(caller: string, key: string): string {
  check("idempotency", caller, key);
  return `idem/${caller}/${key}`;
}

export function quotaKey(caller: string, eventId: string): string {
  check("quota", caller, eventId);
  return `quota/${caller}/${eventId}`;
}

/** Seat keys of one request, deduplicated and in one fixed (byte) order, so that two overlapping
 * holds always list their shared seats the same way. */
export function seatKeys(eventId: string, seats: readonly SeatRef[]): string[] {
  return [...new Set(seats.map((s) => seatKey(eventId, s.section, s.seatId)))].sort();
}
