import { z } from "zod";
import { Id } from "../../shared/domain/ids.ts";
import { REVOCATION_SEQ_MAX } from "../../shared/tickets/revocation.ts";
import { REVOCATION_PAGE_SIZE } from "../../shared/tickets/revocation-log.ts";
import { TicketSignatureSchema } from "../../shared/tickets/sign.ts";
import { type PeerCallOptions, peerCall } from "./peer-call.ts";

/**
 * Wire format of the internal revocation-signing endpoint: a coordinator asks a peer to vouch for
 * entries of an event's revocation feed. Only the event and the entries' numbers are named: the
 * peer reads each entry and the order it revokes through the quorum and signs only what those
 * committed records show (witnessRevocations in functions/services/revocations.ts).
 */
export const REVOCATION_SIGN_PATH = "/internal/revocations/sign";

/** An order's tickets (at most 20) span at most two pages. */
export const REVOCATION_SIGN_SEQS_MAX = 2 * REVOCATION_PAGE_SIZE;
export const REVOCATION_SIGN_BODY_BYTES_MAX = 2048;

export const RevocationSignBody = z.strictObject({
  eventId: Id,
  seqs: z.array(z.int().min(1).max(REVOCATION_SEQ_MAX)).min(1).max(REVOCATION_SIGN_SEQS_MAX),
});
export type RevocationSignBody = z.infer<typeof RevocationSignBody>;

/** One answer per number asked, in that order: the signature, or null where the peer refuses. */
export const RevocationSignReply = z.object({
  signatures: z.array(TicketSignatureSchema.nullable()).max(REVOCATION_SIGN_SEQS_MAX),
});
export type RevocationSignReply = z.infer<typeof RevocationSignReply>;

export type RevocationSignOutcome =
  | { readonly ok: true; readonly signatures: RevocationSignReply["signatures"] }
  | { readonly ok: false; readonly reason: string };

/** Asks one peer. Never throws: a lost peer is an outcome like a refusal. */
export async function requestRevocationSignatures(
  o: PeerCallOptions,
  body: RevocationSignBody,
): Promise<RevocationSignOutcome> {
  try {
    const res = await peerCall(o, REVOCATION_SIGN_PATH, body);
    if (!res.ok) return { ok: false, reason: `${o.to}: HTTP ${res.status} ${res.text}` };
    const r = RevocationSignReply.safeParse(res.json);
    if (!r.success || r.data.signatures.length !== body.seqs.length) {
      return { ok: false, reason: `${o.to}: malformed reply` };
    }
    return { ok: true, signatures: r.data.signatures };
  } catch (e) {
    return { ok: false, reason: `${o.to}: ${e instanceof Error ? e.message : String(e)}` };
  }
}
