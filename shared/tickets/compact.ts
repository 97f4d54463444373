import { PROVIDERS, type ProviderId } from "../config.ts";
import { fromBase64Url } from "../crypto/base64.ts";
import { decodeProviderHeader, encodeProviderHeader, verifyDetached } from "../crypto/jws.ts";
import { QUORUM } from "../quorum/tally.ts";
import { type TicketClaims, TicketClaims as TicketClaimsSchema } from "./claims.ts";
import { MAX_TICKET_SIGNATURES, type Ticket, TicketSchema } from "./sign.ts";
import { normalizeTrust, type TrustedCluster, type TrustInput } from "./trust.ts";
import { type TicketVerification, type VerifyTicketOptions, verifyTicketWith } from "./verify.ts";

/**
 * The door form of a ticket: one line of text for a QR code.
 *
 *   T1.<payload>(.<p>.<signature>)+
 *
 * `payload` and each `signature` are the base64url strings of the General JSON ticket; `p` is the
 * signing provider's index in PROVIDERS (0 cloudflare, 1 vercel, 2 aws). The protected headers are
 * left out: a Tessera ticket header is fully determined by (provider, kid), and the kid is recovered
 * by trying the verifier's keys of that provider (one, or two during a key rotation), so the
 * signatures verify exactly as in the JSON form. Dropping headers and kids saves ~100 characters per
 * signature over carrying the headers, ~30 over carrying just the kids.
 */
export const COMPACT_PREFIX = "T1";
/** Signatures the door form keeps: a door needs only the quorum, and dropping the third signature
 * saves ~90 characters of QR. */
export const DOOR_SIGNATURES = QUORUM;
const B64URL_RE = /^[A-Za-z0-9_-]+$/;
/** Longest compact text we parse: payload limit plus MAX_TICKET_SIGNATURES groups. */
const MAX_COMPACT_CHARS = 4096 + MAX_TICKET_SIGNATURES * (3 + 86) + 3;

export class CompactTicketError extends TypeError {
  override name = "CompactTicketError";
}

export interface CompactTicket {
  payload: string;
  signatures: { provider: ProviderId; signature: string }[];
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
    if (!h || h.typ !== undefined) {
      throw new CompactTicketError("signature header is not a Tessera ticket header");
    }
    if (encodeProviderHeader(h.tessera_provider, h.kid) !== s.protected) {
      // The door could not rebuild this header, so the signature would never verify there.
      throw new CompactTicketError("signature header is not in canonical form; cannot compact");
    }
    parts.push(String(PROVIDERS.indexOf(h.tessera_provider)), s.signature);
  }
  return parts.join(".");
}

export function parseCompact(text: string): CompactTicket {
  const s = text.trim();
  if (s.length > MAX_COMPACT_CHARS) throw new CompactTicketError("compact ticket too long");
  const parts = s.split(".");
  if (parts[0] !== COMPACT_PREFIX) throw new CompactTicketError(`not a ${COMPACT_PREFIX} ticket`);
  const payload = parts[1];
  if (!payload || !B64URL_RE.test(payload)) throw new CompactTicketError("bad payload");
  const rest = parts.slice(2);
  if (rest.length === 0 || rest.length % 2 !== 0) {
    throw new CompactTicketError("expected pairs of <provider>.<signature>");
  }
  if (rest.length / 2 > MAX_TICKET_SIGNATURES) throw new CompactTicketError("too many signatures");
  const signatures: CompactTicket["signatures"] = [];
  for (let i = 0; i < rest.length; i += 2) {
    const [p, signature] = [rest[i]!, rest[i + 1]!];
    const provider = /^[0-9]$/.test(p) ? PROVIDERS[Number(p)] : undefined;
    if (!provider) throw new CompactTicketError(`unknown provider index "${p}"`);
    if (!B64URL_RE.test(signature)) throw new CompactTicketError("bad signature");
    signatures.push({ provider, signature });
  }
  return { payload, signatures };
}

/**
 * Rebuilds the General JSON ticket, choosing for each signature the trusted key of its provider
 * that verifies it. A signature no key verifies keeps the provider's first kid, so the ticket
 * verifier reports it as "tampered" (or "unknown-key" when the provider has no trusted key).
 */
export async function expandCompact(
  compact: CompactTicket,
  trusted: readonly TrustedCluster[],
): Promise<Ticket> {
  const clusters = candidateClusters(compact.payload, trusted);
  const signatures: Ticket["signatures"] = [];
  for (const { provider, signature } of compact.signatures) {
    const keys = clusters.flatMap((c) => c.providers[provider]);
    let chosen = keys[0]?.kid ?? "unknown";
    for (const k of keys) {
      const sig = { protected: encodeProviderHeader(provider, k.kid), signature };
      if (await verifyDetached(compact.payload, sig, k)) {
        chosen = k.kid;
        break;
      }
    }
    signatures.push({ protected: encodeProviderHeader(provider, chosen), signature });
  }
  return { payload: compact.payload, signatures };
}

/** Verifies a compact ticket; an unparsable one is reported as "malformed", never thrown. */
export async function verifyCompact(
  text: string,
  keys: TrustInput,
  opts?: VerifyTicketOptions,
): Promise<TicketVerification> {
  const trusted = normalizeTrust(keys);
  let compact: CompactTicket;
  try {
    compact = parseCompact(text);
  } catch (e) {
    return { valid: false, reasons: [{ code: "malformed", detail: (e as Error).message }] };
  }
  return verifyTicketWith(await expandCompact(compact, trusted), trusted, opts);
}

/** The cluster named in the payload when it parses, else all (the verifier will say why). */
function candidateClusters(
  payload: string,
  trusted: readonly TrustedCluster[],
): readonly TrustedCluster[] {
  let claims: TicketClaims | undefined;
  try {
    const bytes = fromBase64Url(payload);
    claims = TicketClaimsSchema.parse(JSON.parse(new TextDecoder().decode(bytes)));
  } catch {
    return trusted;
  }
  const c = trusted.find((t) => t.clusterId === claims.cid);
  return c ? [c] : trusted;
}
