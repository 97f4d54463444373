import { z } from "zod";
import type { PrivateJwk, ProviderId } from "../config.ts";
import { toBase64Url } from "../crypto/base64.ts";
import { signDetached } from "../crypto/jws.ts";
import { canonicalBytes } from "../formats/canonical-json.ts";
import { TicketClaims } from "./claims.ts";
import { type Ticket, TicketSchema, type TicketSignature } from "./sign.ts";
import { ClusterId, normalizeTrust, type TrustedCluster, type TrustInput } from "./trust.ts";
import {
  type CosignedKind,
  type CosignedVerification,
  type VerifyTicketOptions,
  verifyCosignedWith,
} from "./verify.ts";

/**
 * A revocation: two providers' testimony that a ticket no longer admits anyone (its order was
 * refunded, say). It is a JWS in the same General JSON shape as a ticket, over its own claims, and
 * its signature headers carry `typ: "tessera.revocation+jws"`, so a revocation's signatures can
 * never count for a ticket, nor a ticket's for a revocation. Each entry of an event's revocation
 * feed is one (docs/tickets.md, "Revocation"). The feed is public, so a revocation names no order:
 * which tickets were bought together stays with the stores.
 *
 *   tid  the revoked ticket   cid  cluster id   evt  event id
 *   seq  its place in the event's feed (1, 2, ...)
 *   rsn  why: refunded, cancelled (the event)
 *   rat  when it was revoked, Unix seconds (the coordinator's clock)
 */

export const REVOCATION_TYP = "tessera.revocation+jws";

/** refunded: the theatre refunded the order; cancelled: the event was cancelled (and the order
 * refunded with it). */
export const REVOCATION_REASONS = ["refunded", "cancelled"] as const;
export const RevocationReason = z.enum(REVOCATION_REASONS);
export type RevocationReason = z.infer<typeof RevocationReason>;

/** Far beyond any event's revocations; bounds what a hostile feed may claim. */
export const REVOCATION_SEQ_MAX = 100_000_000;

const ticketClaim = TicketClaims.shape;

export const RevocationClaims = z.strictObject({
  tid: ticketClaim.tid,
  cid: ClusterId,
  evt: ticketClaim.evt,
  seq: z.int().min(1).max(REVOCATION_SEQ_MAX),
  rsn: RevocationReason,
  rat: ticketClaim.iat,
});
export type RevocationClaims = z.infer<typeof RevocationClaims>;

/** A revocation as it travels: one payload, one signature per provider that vouched. */
export type Revocation = Ticket;
export const RevocationSchema = TicketSchema;

const REVOCATION_KIND: CosignedKind<RevocationClaims> = {
  what: "revocation",
  claims: RevocationClaims,
  typ: REVOCATION_TYP,
};

/** The exact bytes every provider signs: RFC 8785 canonical JSON of the validated claims. */
export function canonicalRevocation(claims: RevocationClaims): Uint8Array {
  return canonicalBytes(RevocationClaims.parse(claims));
}

/** One provider's signature over a revocation. Call it only after this provider derived the
 * claims itself from committed state (functions/services/revocations.ts). */
export function signRevocationClaims(
  claims: RevocationClaims,
  key: PrivateJwk,
  provider: ProviderId,
): Promise<TicketSignature> {
  return signDetached(canonicalRevocation(claims), key, provider, REVOCATION_TYP);
}

export function assembleRevocation(
  claims: RevocationClaims,
  signatures: readonly TicketSignature[],
): Revocation {
  return {
    payload: toBase64Url(canonicalRevocation(claims)),
    signatures: signatures.map((s) => ({ protected: s.protected, signature: s.signature })),
  };
}

export type RevocationVerification = CosignedVerification<RevocationClaims>;

/** The ticket quorum rule, for a revocation: two distinct providers of the cluster it names. */
export function verifyRevocationWith(
  doc: unknown,
  trusted: readonly TrustedCluster[],
  opts: VerifyTicketOptions = {},
): Promise<RevocationVerification> {
  return verifyCosignedWith(REVOCATION_KIND, doc, trusted, opts);
}

export function verifyRevocation(
  doc: unknown,
  keys: TrustInput,
  opts: VerifyTicketOptions = {},
): Promise<RevocationVerification> {
  return verifyRevocationWith(doc, normalizeTrust(keys), opts);
}
