import { z } from "@hono/zod-openapi";
import { fromBase64UrlStrict } from "../../../../shared/formats/jws.ts";
import { TicketClaims } from "../../../../shared/tickets/claims.ts";
import { DOOR_SIGNATURES, toCompact } from "../../../../shared/tickets/compact.ts";
import type { TicketRecord } from "../../../services/tickets.ts";

const SignedTicket = z
  .object({
    payload: z.string().meta({ description: "base64url of the canonical JSON claims." }),
    signatures: z.array(z.object({ protected: z.string(), signature: z.string() })),
  })
  .openapi("SignedTicket", {
    description: "JWS JSON General Serialization: one Ed25519 signature per vouching provider.",
  });

export const TicketView = z
  .object({
    id: z.string(),
    orderId: z.string(),
    eventId: z.string(),
    claims: z.object({}).catchall(z.unknown()).meta({ description: "Decoded ticket claims." }),
    ticket: SignedTicket,
    compact: z.string().meta({ description: "Door form for a QR code (two signatures)." }),
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
  };
}
