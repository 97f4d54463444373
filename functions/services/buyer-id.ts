import { toBase64Url } from "../../shared/crypto/base64.ts";

/** "b_" + 40 base64url characters = 240 bits of SHA-256: collision-free in practice, and short
 * enough to sit inside a 64-character key segment with room for the prefix. */
const DIGEST_CHARS = 40;

/**
 * The key segment of a buyer. A `sub` claim may hold '/', spaces or more than 64 characters, none of
 * which a key segment allows, so keys and SeatService callers use a hash of it instead. The hash is
 * deterministic, so every provider derives the same segment for the same buyer.
 */
export async function buyerSegment(sub: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(sub));
  return `b_${toBase64Url(new Uint8Array(digest)).slice(0, DIGEST_CHARS)}`;
}
