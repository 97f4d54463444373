import { z } from "@hono/zod-openapi";
import { fromBase64UrlStrict } from "../../../../shared/crypto/base64.ts";
import { Id } from "../../../../shared/domain/ids.ts";
import { TicketClaims } from "../../../../shared/tickets/claims.ts";
import { DOOR_SIGNATURES, toCompact } from "../../../../shared/tickets/compact.ts";
import {
  MAX_TICKET_PAYLOAD_CHARS,
  MAX_TICKET_SIGNATURES,
} from "../../../../shared/tickets/sign.ts";
import type { TicketRecord } from "../../../services/tickets.ts";

/** The compact door form: a prefix, the payload and at most two signatures with their providers. */
const COMPACT_MAX_CHARS = 8192;

const SignedTicket = z
  .object({
    payload: z
      .string()
      .max(MAX_TICKET_PAYLOAD_CHARS)
      .meta({ description: "base64url of the canonical JSON claims." }),
    signatures: z
      .array(z.object({ protected: z.string().max(512), signature: z.string().max(86) }))
      .max(MAX_TICKET_SIGNATURES),
  })
  .openapi("SignedTicket", {
    description: "JWS JSON General Serialization: one Ed25519 signature per vouching provider.",
  });

export const TicketView = z
  .object({
    id: Id,
    orderId: Id,
    eventId: Id,
    claims: z.object({}).catchall(z.unknown()).meta({ description: "Decoded ticket claims." }),
    ticket: SignedTicket,
    compact: z
      .string()
      .max(COMPACT_MAX_CHARS)
      .meta({ description: "Door form for a QR code (two signatures)." }),
    status: z.enum(["valid", "revoked"]).meta({
      description:
        "`revoked` once the ticket's order was refunded: it admits no one, and `revocation` proves it.",
    }),
    revocation: SignedTicket.optional().meta({
      description: "The co-signed revocation, as the event's feed lists it (docs/tickets.md).",
    }),
  })
  .openapi("IssuedTicket");
export type TicketView = z.infer<typeof TicketView>;

const dec = new TextDecoder();

export function ticketView(id: string, r: TicketRecord): TicketView {
  const claims = TicketClaims.parse(JSON.parse(dec.decode(fromBase64UrlStrict(r.ticket.payload))));
  return {
    id,
    orderId: r.orderId,
    eventId: r.eventId,
    claims,
    ticket: r.ticket,
    compact: toCompact(r.ticket, { maxSignatures: DOOR_SIGNATURES }),
    ...(r.revocation === undefined
      ? { status: "valid" as const }
      : { status: "revoked" as const, revocation: r.revocation }),
  };
}
