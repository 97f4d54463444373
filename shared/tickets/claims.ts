import { z } from "zod";
import { fromBase64UrlStrict } from "../crypto/base64.ts";
import { canonicalBytes } from "../formats/canonical-json.ts";
import { ClusterId } from "./trust.ts";

/**
 * What a ticket asserts. Member names are short because the signed payload travels in a QR code at
 * the door, where every byte grows the symbol; docs/tickets.md documents each one.
 *
 *   tid  ticket id                       hld  holder: the buyer's subject (account id)
 *   hiss holder's identity provider (OIDC issuer): with hld, who the holder is
 *   cid  cluster id (whose keys sign)    ord  order id the seat was sold under
 *   evt  event id                        iat  issue time, Unix seconds
 *   thr  theater id                      prc  price paid: integer minor units + ISO 4217 code
 *   seat {id, section?, row?, label, category}
 *   evn  event title   evs  event start, Unix seconds   ven  venue name
 *        (the three as the sale committed them; absent on tickets issued before)
 */

/** Ids from the domain (ULIDs, UUIDs, slugs); the bound keeps the QR small. */
const ID_MAX = 64;
/** Display strings on the seat (label, section, row): what a door scanner shows. */
const LABEL_MAX = 64;
/** OIDC `sub` is at most 255 ASCII characters (OpenID Connect Core §2). */
const HOLDER_MAX = 255;
/** OIDC issuer identifiers are URLs; 255 characters is far beyond any real one. */
const ISSUER_MAX = 255;
/** 9999-12-31T23:59:59Z: beyond it an issue time is a bug, not a date. */
const IAT_MAX = 253_402_300_799;
/** Minor units; 10^12 is far above any seat price and well inside Number.MAX_SAFE_INTEGER. */
const AMOUNT_MAX = 1_000_000_000_000;

const Id = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, "id: letters, digits, _ . : -")
  .max(ID_MAX);
// No control characters: these strings are printed by door scanners and terminals.
const Text = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[^\p{Cc}]*$/u, "no control characters");

export const TicketSeat = z.strictObject({
  id: Id,
  section: Text(LABEL_MAX).optional(),
  row: Text(LABEL_MAX).optional(),
  label: Text(LABEL_MAX),
  category: Text(LABEL_MAX),
});

export const TicketPrice = z.strictObject({
  amount: z.int().min(0).max(AMOUNT_MAX),
  currency: z.string().regex(/^[A-Z]{3}$/, "ISO 4217 alphabetic code"),
});

/** Strict: an unknown member means a format this verifier does not understand, not one to ignore. */
export const TicketClaims = z.strictObject({
  tid: Id,
  cid: ClusterId,
  evt: Id,
  seat: TicketSeat,
  hld: Text(HOLDER_MAX),
  /** Absent only on tickets issued before holders named their issuer. */
  hiss: z
    .string()
    .max(ISSUER_MAX)
    .regex(/^https?:\/\/[^\s\p{Cc}]+$/u, "an http(s) issuer URL")
    .optional(),
  ord: Id,
  iat: z.int().min(0).max(IAT_MAX),
  thr: Id,
  prc: TicketPrice,
  evn: Text(LABEL_MAX).optional(),
  evs: z.int().min(0).max(IAT_MAX).optional(),
  ven: Text(LABEL_MAX).optional(),
});
export type TicketClaims = z.infer<typeof TicketClaims>;

/** The exact bytes every provider signs: RFC 8785 canonical JSON of the validated claims. */
export function canonicalClaims(claims: TicketClaims): Uint8Array {
  return canonicalBytes(TicketClaims.parse(claims));
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A ticket payload's claims (base64url of the canonical JSON), checked against the schema; throws
 * on anything else. Reading claims proves nothing about who signed them: verify for that. */
export function decodeClaims(payload: string): TicketClaims {
  return TicketClaims.parse(JSON.parse(utf8.decode(fromBase64UrlStrict(payload))));
}
