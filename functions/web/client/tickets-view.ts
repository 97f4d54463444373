import { jwsPayload } from "./b64.ts";
import { h } from "./dom.ts";
import { formatMoney } from "./money.ts";
import { qrSvg } from "./qr.ts";

/** A ticket as the buyer API returns it (functions/routes/v1/buyer/views.ts TicketView). */
export interface TicketView {
  id: string;
  orderId: string;
  eventId: string;
  claims: {
    tid: string;
    evt: string;
    ord: string;
    seat: { id: string; section?: string; row?: string; label: string; category: string };
    prc: { amount: number; currency: string };
    iat: number;
    /** The event's title, start (Unix seconds) and venue, as the sale fixed them. */
    evn?: string;
    evs?: number;
    ven?: string;
  };
  compact: string;
  /** "revoked" once the order was refunded (absent from older providers: valid). */
  status?: "valid" | "revoked";
  /** The co-signed revocation (its payload says why: `rsn`). */
  revocation?: { payload: string };
}

/** Why a revoked ticket admits no one, in words, from its revocation's (unverified) claims. */
function revokedText(t: TicketView): string {
  const why = t.revocation ? jwsPayload(`.${t.revocation.payload}.`)?.rsn : undefined;
  return why === "cancelled"
    ? "Revoked: the event was cancelled and the order refunded. It admits no one."
    : "Revoked: refunded. It admits no one.";
}

export function seatText(seat: TicketView["claims"]["seat"]): string {
  const words = (prefix: string, v: string) => (v.includes(" ") ? v : `${prefix} ${v}`);
  return [seat.section, seat.row ? words("row", seat.row) : undefined, words("seat", seat.label)]
    .filter(Boolean)
    .join(", ");
}

/**
 * One ticket: where to sit, what it cost, and the QR code the door scans. A revoked ticket shows
 * no QR code: it admits no one, and a code on screen would only invite a wasted trip.
 */
export function ticketCard(t: TicketView, eventTitle?: string): HTMLElement {
  const where = seatText(t.claims.seat);
  const revoked = t.status === "revoked";
  const qr = revoked
    ? h("p", { class: "revoked-note" }, revokedText(t))
    : h("div", { class: "qr-box" }, "Drawing QR code…");
  const card = h(
    "article",
    { class: revoked ? "ticket revoked" : "ticket", "data-ticket-id": t.id },
    h("h3", {}, revoked ? `${where} (revoked)` : where),
    h(
      "dl",
      {},
      h("dt", {}, "Event"),
      // The ticket's own words first: they are what the door and an offline verifier read.
      h("dd", {}, t.claims.evn ?? eventTitle ?? t.eventId),
      ...(t.claims.evs === undefined
        ? []
        : [
            h("dt", {}, "Starts"),
            h(
              "dd",
              {},
              h(
                "time",
                { datetime: new Date(t.claims.evs * 1000).toISOString() },
                new Date(t.claims.evs * 1000).toLocaleString(),
              ),
            ),
          ]),
      ...(t.claims.ven === undefined ? [] : [h("dt", {}, "Venue"), h("dd", {}, t.claims.ven)]),
      h("dt", {}, "Category"),
      h("dd", {}, t.claims.seat.category),
      h("dt", {}, "Price"),
      h("dd", {}, formatMoney(t.claims.prc)),
      h("dt", {}, "Ticket"),
      h("dd", { class: "mono" }, t.id),
    ),
    qr,
  );
  if (revoked) return card;
  void qrSvg(t.compact, `QR code of the ticket for ${where}`).then(
    (svg) => qr.replaceChildren(svg),
    () => {
      qr.textContent = "The QR code could not be drawn; the ticket export holds the ticket.";
    },
  );
  return card;
}
