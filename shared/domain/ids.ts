import { z } from "@hono/zod-openapi";
import { INSTANT_MAX_LENGTH } from "./bounds.ts";

/**
 * Ids become key segments (`seat/<event>/<section>/<seat>`), so they hold no '/' and stay short:
 * four 64-char segments plus prefixes stay far below KEY_LENGTH_MAX (512).
 */
export const ID_MAX_LENGTH = 64;
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export const Id = z
  .string()
  .max(ID_MAX_LENGTH)
  .regex(ID_PATTERN, "must be 1-64 characters of A-Z, a-z, 0-9, '_' or '-'")
  .meta({ description: "Identifier: 1-64 characters of A-Z, a-z, 0-9, '_' or '-'." });
export type Id = z.infer<typeof Id>;

export function isId(value: unknown): value is string {
  return typeof value === "string" && ID_PATTERN.test(value);
}

/**
 * A buyer is the `sub` claim of their sign-in token. It becomes a key segment
 * (`buyer/<sub>/order/<oid>`), so it is printable ASCII without '/' or spaces; 255 is the longest
 * `sub` OpenID Connect allows.
 */
export const BUYER_ID_MAX_LENGTH = 255;
export const BUYER_ID_PATTERN = /^[\x21-\x2e\x30-\x7e]{1,255}$/;
export const BuyerId = z
  .string()
  .max(BUYER_ID_MAX_LENGTH)
  .regex(BUYER_ID_PATTERN, "must be 1-255 printable ASCII characters without '/' or spaces")
  .meta({ description: "The buyer's sign-in subject (`sub` claim)." });
export type BuyerId = z.infer<typeof BuyerId>;

/**
 * Client-chosen retry key (an `Idempotency-Key` header value, typically a UUID or ULID). It becomes
 * a key segment (`idem/<caller>/<key>`, shared/domain/keys.ts), hence that module's segment rule.
 */
export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;
export const IdempotencyKey = z
  .string()
  .max(64)
  .regex(IDEMPOTENCY_KEY_PATTERN, "must be 1-64 characters of A-Z, a-z, 0-9, '_', '.', ':' or '-'")
  .meta({ description: "Client-chosen key that makes a retried request safe." });
export type IdempotencyKey = z.infer<typeof IdempotencyKey>;

/** ISO 8601 instant with an explicit offset or `Z`, e.g. `2026-03-01T19:30:00+01:00`. */
export const Instant = z.iso
  .datetime({ offset: true })
  .max(INSTANT_MAX_LENGTH)
  .meta({ description: "ISO 8601 date-time with offset, e.g. 2026-03-01T19:30:00+01:00." });
export type Instant = z.infer<typeof Instant>;

/** Milliseconds since the epoch of an `Instant` (already validated, so never NaN). */
export function instantMs(instant: string): number {
  return Date.parse(instant);
}
