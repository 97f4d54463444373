import { ticketKey } from "../../shared/domain/keys.ts";
import { toHex } from "../../shared/formats/sha256.ts";
import type { SeatValue } from "../../shared/seats/types.ts";
import type { TicketClaims } from "../../shared/tickets/claims.ts";
import { expandCompact, parseCompact } from "../../shared/tickets/compact.ts";
import { verifyTicketWith } from "../../shared/tickets/verify.ts";
import { ProblemError } from "../problem.ts";
import { getEvent, getPlan } from "./catalog.ts";
import { seatKeyOf, seatSections, ticketClaimsOf } from "./import.ts";
import type { Services } from "./index.ts";
import type { TicketRecord } from "./tickets.ts";
import { trustedFor } from "./trust.ts";

/**
 * The door check: whether to admit a ticket. Signatures alone cannot decide it, since a refunded
 * or resold seat's ticket still verifies offline; so the door asks this cluster's quorum whether
 * the seat is still sold to the ticket's order, and records the first scan once so a second
 * door sees the ticket as used. Tickets sold before a fork verify against the former cluster's
 * keys, for the theater that brought them here only (./trust.ts). See docs/fork.md.
 */

// ---------------------------------------------------------------------------------------------
// Seats behind a ticket (door check, buyer import).

export type SeatCheck =
  | { ok: true; seatKey: string }
  | {
      ok: false;
      code: "unknown-seat" | "not-sold" | "other-order";
      detail: string;
      seatKey?: string;
    };

/**
 * Whether this cluster's quorum shows the ticket's seat sold to the ticket's order. The seat key
 * comes from the stored ticket record when there is one, else from the event's plan (seat ids are
 * unique in a plan).
 */
export async function checkSeatSold(s: Services, claims: TicketClaims): Promise<SeatCheck> {
  let seatKey = (await s.store.get<TicketRecord>(ticketKey(claims.tid)))?.seatKey;
  if (seatKey === undefined) {
    // Tickets of this cluster and imported ones have a record; this path is for a ticket whose
    // record this cluster never stored (a former cluster's ticket the theater's backup lacked).
    const ev = await getEvent(s, claims.evt, "quorum");
    const plan = ev ? await getPlan(s, ev.planId) : null;
    const section = plan ? seatSections(plan).get(claims.seat.id) : undefined;
    if (section === undefined) {
      return {
        ok: false,
        code: "unknown-seat",
        detail: `no seat ${claims.seat.id} in event ${claims.evt} here`,
      };
    }
    seatKey = seatKeyOf(claims.evt, section, claims.seat.id);
  }
  const seat = await s.store.get<SeatValue>(seatKey);
  if (seat?.state !== "sold") {
    return {
      ok: false,
      code: "not-sold",
      detail: `seat ${claims.seat.id} is not sold in this cluster`,
      seatKey,
    };
  }
  if (seat.orderId !== claims.ord) {
    return {
      ok: false,
      code: "other-order",
      detail: `seat ${claims.seat.id} is sold to another order`,
      seatKey,
    };
  }
  return { ok: true, seatKey };
}

// ---------------------------------------------------------------------------------------------
// Door check.

/** `event/<eid>/checkin/<tid>`: the ticket was used; written once, never changed. */
export const checkInKey = (eventId: string, ticketId: string) =>
  `event/${eventId}/checkin/${ticketId}`;

export interface CheckInRecord {
  readonly ticketId: string;
  readonly at: string;
  readonly theaterId: string;
  readonly scan: string;
}

/** Tries per check-in when the store reports an unknown outcome: each try reads back first. */
const CHECK_IN_ATTEMPTS = 3;

/**
 * Writes the check-in unless one exists, and returns the record that stands. An unknown outcome
 * (503 from the store) is resolved by reading the register back: our record, another door's, or
 * none (then the write is tried again), so a door never shows "used" for its own first scan.
 */
async function checkInOnce(s: Services, key: string, rec: CheckInRecord): Promise<CheckInRecord> {
  for (let attempt = 1; ; attempt++) {
    try {
      return (await s.store.createOnce<CheckInRecord>(key, rec)).value;
    } catch (e) {
      const unknown = e instanceof ProblemError && e.problem.type.endsWith("/outcome-unknown");
      if (!unknown || attempt >= CHECK_IN_ATTEMPTS) throw e;
      const now = await s.store.get<CheckInRecord>(key);
      if (now) return now;
    }
  }
}

export interface DoorVerdict {
  valid: boolean;
  reasons: { code: string; detail: string }[];
  claims?: TicketClaims;
  cluster?: "current" | "former";
  providers?: string[];
  seatKey?: string;
  checkedIn?: { at: string; now: boolean };
}

/** The cluster id a ticket names, read before verification to know which keys to load. */
function claimedCluster(ticket: unknown): string | undefined {
  try {
    const payload =
      typeof ticket === "string"
        ? parseCompact(ticket).payload
        : (ticket as { payload?: unknown }).payload;
    if (typeof payload !== "string") return undefined;
    const cid = ticketClaimsOf({ payload, signatures: [] }).cid;
    return typeof cid === "string" ? cid : undefined;
  } catch {
    return undefined;
  }
}

export async function doorCheck(
  s: Services,
  theaterId: string,
  input: unknown,
  checkIn: boolean,
): Promise<DoorVerdict> {
  const cid = claimedCluster(input);
  const { trusted, former } = await trustedFor(s, cid ? [cid] : [], theaterId);
  let ticket: unknown = input;
  if (typeof input === "string") {
    try {
      ticket = await expandCompact(parseCompact(input), trusted);
    } catch (e) {
      return { valid: false, reasons: [{ code: "malformed", detail: (e as Error).message }] };
    }
  }
  const v = await verifyTicketWith(ticket, trusted);
  if (!v.valid) {
    const reasons: DoorVerdict["reasons"] = v.reasons.map((r) => ({
      code: r.code,
      detail: r.detail,
    }));
    if (cid && cid !== s.deps.cluster.clusterId && !former.has(cid)) {
      reasons.push({
        code: "untrusted-cluster",
        detail: `this theater did not import its sales from cluster ${cid}`,
      });
    }
    return v.claims ? { valid: false, reasons, claims: v.claims } : { valid: false, reasons };
  }
  const claims = v.claims;
  const out: DoorVerdict = {
    valid: false,
    reasons: [],
    claims,
    cluster: claims.cid === s.deps.cluster.clusterId ? "current" : "former",
    providers: v.providers,
  };
  if (claims.thr !== theaterId) {
    out.reasons.push({ code: "other-theater", detail: `a ticket of theater ${claims.thr}` });
    return out;
  }
  const sold = await checkSeatSold(s, claims);
  if (sold.seatKey !== undefined) out.seatKey = sold.seatKey;
  if (!sold.ok) {
    out.reasons.push({ code: sold.code, detail: sold.detail });
    return out;
  }
  const key = checkInKey(claims.evt, claims.tid);
  if (!checkIn) {
    const used = await s.store.get<CheckInRecord>(key);
    if (used) out.checkedIn = { at: used.at, now: false };
    out.valid = true;
    return out;
  }
  // A scanner-chosen id tells our own check-in apart from another door's when a write's outcome
  // was unknown and the record is read back.
  const rec: CheckInRecord = {
    ticketId: claims.tid,
    at: new Date(s.now()).toISOString(),
    theaterId,
    scan: toHex(crypto.getRandomValues(new Uint8Array(8))),
  };
  const stored = await checkInOnce(s, key, rec);
  const now = stored.scan === rec.scan;
  out.checkedIn = { at: stored.at, now };
  if (!now) {
    out.reasons.push({ code: "already-checked-in", detail: `ticket used at ${stored.at}` });
    return out;
  }
  out.valid = true;
  return out;
}
