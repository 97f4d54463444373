import { z } from "zod";
import { MAX_SEATS_PER_HOLD } from "../../shared/seats/changes.ts";
import { type TicketSignature, TicketSignatureSchema } from "../../shared/tickets/sign.ts";
import { type PeerCallOptions, peerCall } from "./peer-call.ts";

/**
 * Wire format of the internal ticket-signing endpoint: a coordinator asks a peer to vouch for the
 * tickets of one sold hold. The peer signs only claims it derives itself (see witnessSale).
 */
export const TICKET_SIGN_PATH = "/internal/tickets/sign";

/**
 * Only the sale is named: the peer derives every claim from committed records itself, so a caller
 * cannot choose what gets signed. `holder` is the buyer's subject, checked against the committed
 * hold's caller segment (its hash) before anything is signed.
 */
export const TicketSignBody = z.strictObject({
  holdId: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/),
  /** OIDC `sub` is at most 255 characters (OpenID Connect Core §2). */
  holder: z.string().min(1).max(255),
});
export type TicketSignBody = z.infer<typeof TicketSignBody>;

export const TicketSignReply = z.object({
  /** One per seat of the order, in the order's seat order. */
  signatures: z.array(TicketSignatureSchema).min(1).max(MAX_SEATS_PER_HOLD),
});

export type SignOutcome =
  | { readonly ok: true; readonly signatures: TicketSignature[] }
  /** status 409: the peer's store does not show the sale (yet); 0: the peer did not answer. */
  | { readonly ok: false; readonly status: number; readonly reason: string };

/** Asks one peer for its signatures. Never throws: a lost peer is an outcome like a refusal. */
export async function requestTicketSignatures(
  o: PeerCallOptions,
  body: TicketSignBody,
): Promise<SignOutcome> {
  try {
    const res = await peerCall(o, TICKET_SIGN_PATH, body);
    if (!res.ok) {
      return { ok: false, status: res.status, reason: `${o.to}: HTTP ${res.status} ${res.text}` };
    }
    const r = TicketSignReply.safeParse(res.json);
    if (!r.success) return { ok: false, status: 0, reason: `${o.to}: malformed reply` };
    return { ok: true, signatures: r.data.signatures };
  } catch (e) {
    return {
      ok: false,
      status: 0,
      reason: `${o.to}: ${e instanceof Error ? e.message : String(e)}`,
    };
  }
}
