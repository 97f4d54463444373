import { toHex } from "../../shared/crypto/sha256.ts";
import {
  eventAdmissionKey,
  legacyCheckInKey,
  seatKey,
  ticketKey,
} from "../../shared/domain/keys.ts";
import { seatSections } from "../../shared/domain/seating-plan.ts";
import { UNKNOWN_RERUNS } from "../../shared/quorum/retry-budget.ts";
import type { SeatValue } from "../../shared/seats/types.ts";
import { decodeClaims, type TicketClaims } from "../../shared/tickets/claims.ts";
import { expandCompact, parseCompact } from "../../shared/tickets/compact.ts";
import { verifyTicketWith } from "../../shared/tickets/verify.ts";
import { getEvent, getPlan } from "./catalog.ts";
import type { Services } from "./index.ts";
import { isOutcomeUnknown } from "./store.ts";
import type { TicketRecord } from "./tickets.ts";
import { trustedFor } from "./trust.ts";

/**
 * The door check: whether to admit a ticket. Signatures alone cannot decide it, since a refunded
 * or resold seat's ticket still verifies offline; so the door asks this cluster's quorum whether
 * the seat is still sold to the ticket's order, and admits each seat of an event once, whatever
 * the ticket id, so a second door refuses both the same ticket and another ticket for the seat.
 * Tickets sold before a fork verify against the former cluster's keys, for the theater that
 * brought them here only (./trust.ts). See docs/fork.md.
 */

// ---------------------------------------------------------------------------------------------
// Seats behind a ticket (door check, buyer import).

export type SeatCheck =
  | { ok: true; seatKey: string }
  | {
      ok: false;
      code: "unknown-seat" | "not-sold" | "other-order" | "revoked";
      detail: string;
      seatKey?: string;
    };

/**
 * Whether this cluster's quorum shows the ticket's seat sold to the ticket's order. The seat key
 * comes from the stored ticket record when there is one, else from the event's plan (seat ids are
 * unique in a plan).
 */
export async function checkSeatSold(s: Services, claims: TicketClaims): Promise<SeatCheck> {
  const rec = await s.store.get<TicketRecord>(ticketKey(claims.tid));
  // A revoked ticket says why in so many words; its seat may be sold again by now.
  if (rec?.revocation !== undefined) {
    return {
      ok: false,
      code: "revoked",
      detail: "revoked: its order was refunded (the event's revocation feed lists it)",
    };
  }
  let key = rec?.seatKey;
  if (key === undefined) {
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
    key = seatKey(claims.evt, section, claims.seat.id);
  }
  const seat = await s.store.get<SeatValue>(key);
  if (seat?.state !== "sold") {
    return {
      ok: false,
      code: "not-sold",
      detail: `seat ${claims.seat.id} is not sold in this cluster`,
      seatKey: key,
    };
  }
  if (seat.orderId !== claims.ord) {
    return {
      ok: false,
      code: "other-order",
      detail: `seat ${claims.seat.id} is sold to another order`,
      seatKey: key,
    };
  }
  return { ok: true, seatKey: key };
}

// ---------------------------------------------------------------------------------------------
// Door check.

/** What a check-in keyed by ticket (`legacyCheckInKey`, from before admission was per seat)
 * holds. */
export interface LegacyCheckIn {
  readonly ticketId: string;
  readonly at: string;
  readonly theaterId: string;
  readonly scan: string;
}

/** `event/<eid>/admission/<seatId>` (eventAdmissionKey): who used the seat; written once. */
export interface AdmissionRecord {
  readonly eventId: string;
  readonly seatId: string;
  readonly ticketId: string;
  readonly orderId: string;
  readonly at: string;
  readonly theaterId: string;
  /** A scanner-chosen id ("imported" for a fork's check-ins), to recognise our own write. */
  readonly scan: string;
}

/** Tries per check-in when the store reports an unknown outcome (each re-try reads back first):
 * the budget's share (shared/quorum/retry-budget.ts). */
const CHECK_IN_ATTEMPTS = 1 + UNKNOWN_RERUNS;

/**
 * Writes the admission unless the seat has one, and returns the record that stands: one quorum
 * change on one register per seat, so two doors scanning two tickets for one seat at once admit
 * one. An unknown outcome (503 from the store) is resolved by reading the register back: our
 * record, another door's, or none (then the write is tried again), so a door never shows "used"
 * for its own first scan.
 */
async function admitOnce(s: Services, key: string, rec: AdmissionRecord): Promise<AdmissionRecord> {
  for (let attempt = 1; ; attempt++) {
    try {
      return (await s.store.createOnce<AdmissionRecord>(key, rec)).value;
    } catch (e) {
      if (!isOutcomeUnknown(e) || attempt >= CHECK_IN_ATTEMPTS) throw e;
      const now = await s.store.get<AdmissionRecord>(key);
      if (now) return now;
    }
  }
}

/** The seat's admission, or the ticket's pre-per-seat check-in, whichever exists. */
async function admissionOf(
  s: Services,
  claims: TicketClaims,
): Promise<{ at: string; ticketId: string } | null> {
  const [seat, legacy] = await s.store.getMany<AdmissionRecord | LegacyCheckIn>([
    eventAdmissionKey(claims.evt, claims.seat.id),
    legacyCheckInKey(claims.evt, claims.tid),
  ]);
  return seat ?? legacy ?? null;
}

export interface DoorVerdict {
  valid: boolean;
  reasons: { code: string; detail: string }[];
  claims?: TicketClaims;
  cluster?: "current" | "former";
  providers?: string[];
  seatKey?: string;
  /** `ticketId`: the ticket the seat was admitted with (another one means a duplicate). */
  checkedIn?: { at: string; now: boolean; ticketId: string };
}

/** The cluster id a ticket names, read before verification to know which keys to load. */
function claimedCluster(ticket: unknown): string | undefined {
  try {
    const payload =
      typeof ticket === "string"
        ? parseCompact(ticket).payload
        : (ticket as { payload?: unknown }).payload;
    if (typeof payload !== "string") return undefined;
    return decodeClaims(payload).cid;
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
  if (!checkIn) {
    const used = await admissionOf(s, claims);
    if (used) {
      out.checkedIn = { at: used.at, now: false, ticketId: used.ticketId };
      if (used.ticketId !== claims.tid) {
        out.reasons.push(duplicate(claims, used));
        return out;
      }
    }
    out.valid = true;
    return out;
  }
  const rec: AdmissionRecord = {
    eventId: claims.evt,
    seatId: claims.seat.id,
    ticketId: claims.tid,
    orderId: claims.ord,
    at: new Date(s.now()).toISOString(),
    theaterId,
    scan: toHex(crypto.getRandomValues(new Uint8Array(8))),
  };
  // The legacy read runs alongside: if it finds the ticket used, the seat's admission written now
  // only records what was already so.
  const [legacy, stored] = await Promise.all([
    s.store.get<LegacyCheckIn>(legacyCheckInKey(claims.evt, claims.tid)),
    admitOnce(s, eventAdmissionKey(claims.evt, claims.seat.id), rec),
  ]);
  const used = legacy ?? (stored.scan === rec.scan ? null : stored);
  if (used) {
    out.checkedIn = { at: used.at, now: false, ticketId: used.ticketId };
    out.reasons.push(
      used.ticketId === claims.tid
        ? { code: "already-checked-in", detail: `ticket used at ${used.at}` }
        : duplicate(claims, used),
    );
    return out;
  }
  out.checkedIn = { at: stored.at, now: true, ticketId: stored.ticketId };
  out.valid = true;
  return out;
}

/** Another ticket already used this seat: refused, and named so the door can report it. */
function duplicate(claims: TicketClaims, used: { at: string; ticketId: string }) {
  return {
    code: "seat-already-admitted",
    detail: `seat ${claims.seat.id} was admitted at ${used.at} with another ticket, ${used.ticketId}`,
  };
}
