import { z } from "zod";
import type { PrivateJwk, ProviderId } from "../config.ts";
import { toBase64Url } from "../crypto/base64.ts";
import { type JwsSignature, signDetached } from "../crypto/jws.ts";
import { canonicalClaims, type TicketClaims } from "./claims.ts";

/**
 * A ticket is a JWS in the JSON General Serialization (RFC 7515 §7.2.1): one payload (the canonical
 * claims) and one signature per provider that, on its own store, saw the seat sold to the order.
 * Protected header per signature: {"alg":"EdDSA","kid":...,"tessera_provider":...}.
 */
export type TicketSignature = JwsSignature;

export interface Ticket {
  payload: string;
  signatures: TicketSignature[];
}

/** Three providers, plus room for key-rotation overlap; bounds the work a hostile ticket causes. */
export const MAX_TICKET_SIGNATURES = 8;
/** Canonical claims are ~300 bytes; 4 KiB of base64url leaves room and bounds decoding. */
export const MAX_TICKET_PAYLOAD_CHARS = 4096;
/** An Ed25519 signature is 64 bytes = 86 base64url characters. */
const ED25519_SIG_CHARS = 86;

export const TicketSignatureSchema = z.object({
  protected: z.string().min(1).max(512),
  signature: z.string().length(ED25519_SIG_CHARS),
});

export const TicketSchema = z.object({
  payload: z.string().min(1).max(MAX_TICKET_PAYLOAD_CHARS),
  signatures: z.array(TicketSignatureSchema).min(1).max(MAX_TICKET_SIGNATURES),
});

/**
 * One provider's signature over the ticket claims. Call it only after checking this provider's OWN
 * store shows the seat sold to `claims.ord`: the signature is that provider's testimony.
 */
export async function signTicketClaims(
  claims: TicketClaims,
  providerKey: PrivateJwk,
  provider: ProviderId,
): Promise<TicketSignature> {
  return signDetached(canonicalClaims(claims), providerKey, provider);
}

/** Combines the providers' signatures, which all cover the same canonical payload. */
export function assembleTicket(
  claims: TicketClaims,
  signatures: readonly TicketSignature[],
): Ticket {
  const seen = new Set<string>();
  const unique = signatures.filter((s) => {
    const k = `${s.protected}.${s.signature}`;
    return !seen.has(k) && seen.add(k);
  });
  return {
    payload: toBase64Url(canonicalClaims(claims)),
    signatures: unique.map((s) => ({ protected: s.protected, signature: s.signature })),
  };
}
