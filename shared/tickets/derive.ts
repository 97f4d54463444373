import { toBase64Url } from "../crypto/base64.ts";
import { seatKey } from "../domain/keys.ts";
import type { EventDisplay, OrderSeat } from "../domain/order.ts";
import type { TicketClaims } from "./claims.ts";

/**
 * Ticket claims as a function of a committed order, and nothing else. Every provider that co-signs
 * a ticket runs this on the order it read through the quorum, so no caller can choose a ticket's
 * id, price, theater, seat labels or issue time: two signatures over claims that no committed order
 * yields cannot be obtained from honest providers (docs/security.md, "Ticket co-signing").
 */

/** The parts of a stored order that tickets are made from. */
export interface TicketSource {
  readonly id: string;
  readonly theaterId: string;
  readonly eventId: string;
  readonly createdAt: string;
  readonly seats: readonly OrderSeat[];
  readonly eventDisplay?: EventDisplay | undefined;
}

export interface DerivedTicket {
  readonly seatKey: string;
  readonly claims: TicketClaims;
}

/** 22 base64url characters = 132 bits: unique per (order, seat) in practice. */
const TICKET_ID_CHARS = 22;

/**
 * Ticket ids are derived from the order and the seat, so re-running issuance (a retried confirm, a
 * re-issue, another provider) names the same tickets: one ticket id per seat of an order, never a
 * second one.
 */
export async function ticketIdFor(orderId: string, seat: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${orderId}\n${seat}`));
  return `t${toBase64Url(new Uint8Array(d)).slice(0, TICKET_ID_CHARS)}`;
}

export const orderSeatKey = (eventId: string, s: Pick<OrderSeat, "sectionId" | "seatId">) =>
  seatKey(eventId, s.sectionId, s.seatId);

/** The ticket ids of `seats` of order `orderId` of event `eventId`, in seat order. */
export const ticketIdsFor = (
  orderId: string,
  eventId: string,
  seats: readonly Pick<OrderSeat, "sectionId" | "seatId">[],
): Promise<string[]> =>
  Promise.all(seats.map((seat) => ticketIdFor(orderId, orderSeatKey(eventId, seat))));

const NO_CONTROL = /\p{Cc}/gu;
/** Claims strings are at most 64 characters without control characters (claims.ts). */
const CLAIM_TEXT_MAX = 64;
/** Display text as a ticket claim can carry it: without control characters, at most 64 long. */
export const clip = (text: string) =>
  Array.from(text.replace(NO_CONTROL, "")).slice(0, CLAIM_TEXT_MAX).join("") || "-";

/**
 * The claims of every seat of `order`, in its seat order. `holder` is the buyer (subject and
 * issuer), which the caller has checked against the sale's committed caller; `clusterId` is the
 * signer's own.
 * Orders recorded before seat labels were part of the order fall back to the seat's ids.
 */
export async function claimsForOrder(
  order: TicketSource,
  holder: { readonly sub: string; readonly issuer: string },
  clusterId: string,
): Promise<DerivedTicket[]> {
  const iat = Math.floor(Date.parse(order.createdAt) / 1000);
  const ev = order.eventDisplay;
  // What the ticket is for, readable offline: as the sale committed it.
  const shownEvent = ev
    ? {
        evn: clip(ev.title),
        evs: Math.floor(Date.parse(ev.startsAt) / 1000),
        ...(ev.venue ? { ven: clip(ev.venue) } : {}),
      }
    : {};
  return Promise.all(
    order.seats.map(async (seat) => {
      const key = orderSeatKey(order.eventId, seat);
      const shown = seat.display;
      const claims: TicketClaims = {
        tid: await ticketIdFor(order.id, key),
        cid: clusterId,
        evt: order.eventId,
        seat: {
          id: seat.seatId,
          section: clip(shown?.section ?? seat.sectionId),
          ...(shown?.row ? { row: clip(shown.row) } : {}),
          label: clip(shown?.label ?? seat.seatId),
          category: clip(shown?.category ?? seat.categoryId),
        },
        hld: holder.sub,
        hiss: holder.issuer,
        ord: order.id,
        iat,
        thr: order.theaterId,
        prc: { amount: seat.price.amount, currency: seat.price.currency },
        ...shownEvent,
      };
      return { seatKey: key, claims };
    }),
  );
}
