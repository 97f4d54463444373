/**
 * Key layout of the replicated store: every key the system writes is built here, and every key it
 * takes apart is parsed here. A key's partition is its path without the last segment
 * (shared/storage/partition.ts), so every key ends in the entity id and puts things that are read
 * or scanned together under one prefix: all seats of one section share `seat/<event>/<section>`,
 * and each index lists its entries under one prefix a scan can page through.
 *
 * Segments are ids (shared/domain/ids.ts): no '/', printable ASCII, so every key is valid. The seat
 * service's registers (seat, hold, idempotency claim, quota: one CASPaxos register each) check
 * their segments on top and name the kind of key and the bad segment when one is not.
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

/**
 * A theatre (organisation). Not scannable as a list ("theater/" also holds every venue and event
 * index below it): list theatres through `theaterListKey`.
 */
export const theaterKey = (theaterId: string) => `theater/${theaterId}`;

/** Index entry: all theatres, one partition `theaters`. */
export const theaterListKey = (theaterId: string) => `theaters/${theaterId}`;

/** A venue, under its theatre: `scanPrefix.theaterVenues` lists them. */
export const venueKey = (theaterId: string, venueId: string) =>
  `theater/${theaterId}/venue/${venueId}`;

export const planKey = (planId: string) => `plan/${planId}`;

/** Index entry: the theatre's plans (value: the plan's metadata). */
export const theaterPlanKey = (theaterId: string, planId: string) =>
  `theater/${theaterId}/plan/${planId}`;

/** Chunk `n` of one section of a stored plan: a plan is stored in chunks, each within a register's
 * size limit. */
export const planChunkKey = (planId: string, sectionId: string, n: number) =>
  `plansec/${planId}/${sectionId}/${n}`;

/** An event. Like theatres, list events through an index (`eventListKey`), not by scanning. */
export const eventKey = (eventId: string) => `event/${eventId}`;

/** Index entry: all events (the public programme), one partition `events`. */
export const eventListKey = (eventId: string) => `events/${eventId}`;

/** Index entry: the theatre's events (value: a small summary or empty). */
export const theaterEventKey = (theaterId: string, eventId: string) =>
  `theater/${theaterId}/event/${eventId}`;

export interface SeatRef {
  readonly section: string;
  readonly seatId: string;
}

/**
 * One seat's sale state for one event: `seat/<eventId>/<sectionId>/<seatId>`, so that one section
 * is one partition (one shard on sharded stores). General-admission places use their area id as
 * section and `gaPlaceId(area, n)` as seat id; seat ids are unique per plan.
 */
export function seatKey(eventId: string, sectionId: string, seatId: string): string {
  check("seat", eventId, sectionId, seatId);
  return `seat/${eventId}/${sectionId}/${seatId}`;
}

/** Seat keys of one request, deduplicated and in one fixed (byte) order, so that two overlapping
 * holds always list their shared seats the same way. */
export function seatKeys(eventId: string, seats: readonly SeatRef[]): string[] {
  return [...new Set(seats.map((s) => seatKey(eventId, s.section, s.seatId)))].sort();
}

/** Parts of a seat key, as `seatKey` put them together. */
export function parseSeatKey(key: string): { eventId: string; sectionId: string; seatId: string } {
  const [, eventId = "", sectionId = "", seatId = ""] = key.split("/");
  return { eventId, sectionId, seatId };
}

/** A hold record: the single commit point of a hold and of its sale. */
export function holdKey(holdId: string): string {
  check("hold", holdId);
  return `hold/${holdId}`;
}

/** A buyer's idempotency claim (request hash, chosen ids, start time). */
export function idemKey(caller: string, key: string): string {
  check("idempotency", caller, key);
  return `idem/${caller}/${key}`;
}

/**
 * What one buyer holds and owns of an event with a per-buyer cap. Partition = the buyer, so one
 * buyer's racing holds meet on it and no event-wide register serialises everyone's holds.
 */
export function quotaKey(caller: string, eventId: string): string {
  check("quota", caller, eventId);
  return `quota/${caller}/${eventId}`;
}

export const orderKey = (orderId: string) => `order/${orderId}`;

/** Index entry: a buyer's orders ("my tickets"). */
export const buyerOrderKey = (buyerId: string, orderId: string) =>
  `buyer/${buyerId}/order/${orderId}`;

/** Index entry: an event's orders (the theatre's sales list, refunds on cancellation). */
export const eventOrderKey = (eventId: string, orderId: string) =>
  `event/${eventId}/order/${orderId}`;

export const paymentKey = (paymentId: string) => `payment/${paymentId}`;

export const ticketKey = (ticketId: string) => `ticket/${ticketId}`;

/** Index entry: a buyer's tickets, under their buyer segment. */
export const buyerTicketKey = (buyerSeg: string, ticketId: string) =>
  `buyer/${buyerSeg}/ticket/${ticketId}`;

/** Index entry: an event's tickets (door scanning lists and check-in counts). */
export const eventTicketKey = (eventId: string, ticketId: string) =>
  `event/${eventId}/ticket/${ticketId}`;

/**
 * A seat of an event admitted at the door: one register per seat, written once, so whatever the
 * ticket ids, one seat lets one person in (functions/services/door.ts). Seat ids are unique per
 * plan, so the section is not needed.
 */
export const eventAdmissionKey = (eventId: string, seatId: string) =>
  `event/${eventId}/admission/${seatId}`;

/**
 * Before admission was per seat, check-ins were keyed by ticket. Such records are no longer
 * written, only read (door, backup), so a ticket used before the change stays used; being frozen,
 * they need no coordination with the per-seat register.
 */
export const legacyCheckInKey = (eventId: string, ticketId: string) =>
  `event/${eventId}/checkin/${ticketId}`;

/**
 * A page of an event's revocation feed (shared/tickets/revocation-log.ts), and the register that
 * remembers which page was last appended to: a hint, so an append need not read every page.
 */
export const revocationPageKey = (eventId: string, page: number) =>
  `revocations/${eventId}/${page}`;
export const revocationHeadKey = (eventId: string) => `revocations/${eventId}/head`;

/** An event whose cancellation has orders left to refund: the scheduled run goes on with it. */
export const cancellingKey = (eventId: string) => `cancelling/${eventId}`;

/** Where every theatre claim starts, so a scan of `idem/` can tell them from buyers' claims. */
export const THEATER_IDEM_PREFIX = "idem/theater:";

/**
 * A theatre's idempotency claim. The "theater:" caller keeps these claims apart from the seat
 * service's buyer claims (`idemKey`, `idem/b_…/<key>`); unchecked, as a theatre id plus the
 * prefix may be longer than a seat register's segment.
 */
export const theaterIdemKey = (theaterId: string, key: string) =>
  `${THEATER_IDEM_PREFIX}${theaterId}/${key}`;

/** A finished backup import's summary, replayed to retries. */
export const importKey = (theaterId: string, importId: string) => `import/${theaterId}/${importId}`;

/** Ticket keys of another cluster this one trusts (after a fork). */
export const trustKey = (clusterId: string) => `trust/${clusterId}`;

/** Prefixes for `AcceptorPort.scan`; each ends in '/' so `a` never matches `ab`. */
export const scanPrefix = {
  theaters: () => "theaters/",
  events: () => "events/",
  theaterVenues: (theaterId: string) => `theater/${theaterId}/venue/`,
  theaterEvents: (theaterId: string) => `theater/${theaterId}/event/`,
  theaterPlans: (theaterId: string) => `theater/${theaterId}/plan/`,
  eventSeats: (eventId: string) => `seat/${eventId}/`,
  sectionSeats: (eventId: string, sectionId: string) => `seat/${eventId}/${sectionId}/`,
  buyerOrders: (buyerId: string) => `buyer/${buyerId}/order/`,
  eventOrders: (eventId: string) => `event/${eventId}/order/`,
  eventTickets: (eventId: string) => `event/${eventId}/ticket/`,
  eventAdmissions: (eventId: string) => `event/${eventId}/admission/`,
  holds: () => "hold/" as const,
  idemClaims: () => "idem/" as const,
  eventLegacyCheckIns: (eventId: string) => `event/${eventId}/checkin/`,
  trust: () => "trust/",
  cancelling: () => "cancelling/",
} as const;

/** The last segment of a key: the id of the entity (or index entry) it stores. */
export function idOfKey(key: string): string {
  return key.slice(key.lastIndexOf("/") + 1);
}
