import { PROVIDERS } from "../config.ts";
import { decodeProviderHeader, encodeProviderHeader } from "../formats/jws.ts";
import { MAX_TICKET_SIGNATURES, type Ticket, TicketSchema } from "./sign.ts";
import type { TrustInput } from "./trust.ts";
import { type TicketVerification, type VerifyTicketOptions, verifyTicket } from "./verify.ts";

/**
 * The door form of a ticket: one line of text for a QR code.
 *
 *   T1.<payload>(.<p>.<kid>.<signature>)+
 *
 * `payload` and `signature` are the base64url strings of the General JSON ticket; `p` is the
 * provider's index in PROVIDERS (0 cloudflare, 1 vercel, 2 aws). The protected header is left out:
 * Tessera's ticket headers are fully determined by (provider, kid), so `parseCompact` rebuilds it
 * byte for byte and the signatures verify exactly as in the JSON form. A ticket whose header is not
 * in that canonical form cannot be compacted (it was not signed by Tessera's `signTicketClaims`).
 */
export const COMPACT_PREFIX = "T1";
/** A door needs only the quorum; dropping the third signature saves ~120 characters of QR. */
export const DOOR_SIGNATURES = 2;
const KID_RE = /^[A-Za-z0-9_-]{1,128}$/;
const B64URL_RE = /^[A-Za-z0-9_-]+$/;
/** Longest compact text we parse: payload limit plus MAX_TICKET_SIGNATURES groups. */
const MAX_COMPACT_CHARS = 4096 + MAX_TICKET_SIGNATURES * (2 + 129 + 87) + 3;

export class CompactTicketError extends TypeError {
  override name = "CompactTicketError";
}

export interface ToCompactOptions {
  /** Keep at most this many signatures (the first ones); default: all. */
  maxSignatures?: number;
}

export function toCompact(ticket: Ticket, opts: ToCompactOptions = {}): string {
  const t = TicketSchema.parse(ticket);
  const sigs = t.signatures.slice(0, opts.maxSignatures ?? t.signatures.length);
  const parts = [COMPACT_PREFIX, t.payload];
  for (const s of sigs) {
    const h = decodeProviderHeader(s.protected);
    if (!h || h.typ !== undefined || !KID_RE.test(h.kid)) {
      throw new CompactTicketError("signature header is not a Tessera ticket header");
    }
    if (encodeProviderHeader(h.tessera_provider, h.kid) !== s.protected) {
      throw new CompactTicketError("signature header is not in canonical form; cannot compact");
    }
    parts.push(String(PROVIDERS.indexOf(h.tessera_provider)), h.kid, s.signature);
  }
  return parts.join(".");
}

export function parseCompact(text: string): Ticket {
  const s = text.trim();
  if (s.length > MAX_COMPACT_CHARS) throw new CompactTicketError("compact ticket too long");
  const parts = s.split(".");
  if (parts[0] !== COMPACT_PREFIX) throw new CompactTicketError(`not a ${COMPACT_PREFIX} ticket`);
  const payload = parts[1];
  if (!payload || !B64URL_RE.test(payload)) throw new CompactTicketError("bad payload");
  const rest = parts.slice(2);
  if (rest.length === 0 || rest.length % 3 !== 0) {
    throw new CompactTicketError("expected groups of <provider>.<kid>.<signature>");
  }
  const signatures: Ticket["signatures"] = [];
  for (let i = 0; i < rest.length; i += 3) {
    const [p, kid, sig] = [rest[i]!, rest[i + 1]!, rest[i + 2]!];
    const provider = /^[0-9]$/.test(p) ? PROVIDERS[Number(p)] : undefined;
    if (!provider) throw new CompactTicketError(`unknown provider index "${p}"`);
    if (!KID_RE.test(kid)) throw new CompactTicketError("bad kid");
    if (!B64URL_RE.test(sig)) throw new CompactTicketError("bad signature");
    signatures.push({ protected: encodeProviderHeader(provider, kid), signature: sig });
  }
  return TicketSchema.parse({ payload, signatures });
}

/** Verifies a compact ticket; an unparsable one is reported as "malformed", never thrown. */
export async function verifyCompact(
  text: string,
  keys: TrustInput,
  opts?: VerifyTicketOptions,
): Promise<TicketVerification> {
  let ticket: Ticket;
  try {
    ticket = parseCompact(text);
  } catch (e) {
    return { valid: false, reasons: [{ code: "malformed", detail: String((e as Error).message) }] };
  }
  return verifyTicket(ticket, keys, opts);
}
