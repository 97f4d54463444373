import type { z } from "zod";
import { PROVIDERS, type ProviderId } from "../config.ts";
import { fromBase64UrlStrict, toBase64Url } from "../crypto/base64.ts";
import { decodeProviderHeader, verifyDetached } from "../crypto/jws.ts";
import { canonicalBytes } from "../formats/canonical-json.ts";
import { QUORUM } from "../quorum/tally.ts";
import { TicketClaims } from "./claims.ts";
import { TicketSchema, type TicketSignature } from "./sign.ts";
import { normalizeTrust, type TrustedCluster, type TrustInput } from "./trust.ts";

/**
 * Offline ticket verification with nothing but the cluster's public keys. A ticket is valid when
 * at least QUORUM signatures over its payload verify under keys of DISTINCT providers of the
 * cluster named in the claims (`cid`): each provider signs only what its own store shows as sold,
 * so two independent signatures prove a quorum sold the seat. Extra signatures that fail do not
 * invalidate a ticket that has its quorum; they are returned as warnings.
 */

export type TicketReasonCode =
  | "malformed"
  | "tampered"
  | "unknown-key"
  | "too-few-signatures"
  | "wrong-cluster";

export interface TicketReason {
  code: TicketReasonCode;
  detail: string;
  /** Index in `signatures` when the reason is about one signature. */
  signature?: number;
}

export type TicketVerification = CosignedVerification<TicketClaims>;

export interface VerifyTicketOptions {
  /** Signatures from distinct providers required; may be raised (to 3), never below 2. */
  quorum?: number;
}

const dec = new TextDecoder("utf-8", { fatal: true });

export async function verifyTicket(
  ticket: unknown,
  keys: TrustInput,
  opts: VerifyTicketOptions = {},
): Promise<TicketVerification> {
  return verifyTicketWith(ticket, normalizeTrust(keys), opts);
}

/** As `verifyTicket`, with an already normalized trust list (no re-parsing per ticket). */
export async function verifyTicketWith(
  ticket: unknown,
  trusted: readonly TrustedCluster[],
  opts: VerifyTicketOptions = {},
): Promise<TicketVerification> {
  return verifyCosignedWith(TICKET_KIND, ticket, trusted, opts);
}

/**
 * What tells one kind of co-signed document from another: its claims schema and the `typ` its
 * signature headers carry (none for tickets), so a signature over one kind never counts for
 * another (a revocation's signatures cannot make a ticket, shared/tickets/revocation.ts).
 */
export interface CosignedKind<C extends { cid: string }> {
  readonly what: string;
  readonly claims: z.ZodType<C>;
  readonly typ: string | undefined;
}

const TICKET_KIND: CosignedKind<TicketClaims> = {
  what: "ticket",
  claims: TicketClaims,
  typ: undefined,
};

export type CosignedVerification<C> =
  | {
      valid: true;
      claims: C;
      clusterId: string;
      /** Distinct providers whose signatures verified, in PROVIDERS order. */
      providers: ProviderId[];
      /** Signatures that did not count (bad, unknown key) although the quorum was met. */
      warnings: TicketReason[];
    }
  | { valid: false; reasons: TicketReason[]; claims?: C };

/** The quorum rule for any co-signed document (docs/tickets.md, "Verification rules"). */
export async function verifyCosignedWith<C extends { cid: string }>(
  kind: CosignedKind<C>,
  doc: unknown,
  trusted: readonly TrustedCluster[],
  opts: VerifyTicketOptions = {},
): Promise<CosignedVerification<C>> {
  const quorum = opts.quorum ?? QUORUM;
  if (!Number.isInteger(quorum) || quorum < QUORUM || quorum > PROVIDERS.length) {
    throw new RangeError(`quorum must be an integer in [${QUORUM}, ${PROVIDERS.length}]`);
  }
  const shape = TicketSchema.safeParse(doc);
  if (!shape.success) {
    return invalid([
      { code: "malformed", detail: `not a General JSON ${kind.what}: ${firstIssue(shape.error)}` },
    ]);
  }
  const { payload, signatures } = shape.data;
  const { claims, claimsProblem } = readClaims(kind, payload);

  let candidates: readonly TrustedCluster[] = trusted;
  if (claims) {
    const c = trusted.find((t) => t.clusterId === claims.cid);
    if (!c) {
      const ids = trusted.map((t) => t.clusterId).join(", ");
      return invalid(
        [
          {
            code: "wrong-cluster",
            detail: `${kind.what} is from cluster "${claims.cid}"; trusted: ${ids}`,
          },
        ],
        claims,
      );
    }
    candidates = [c];
  }

  const { sigReasons, good } = await checkSignatures(kind, payload, signatures, candidates);
  if (!claims) {
    return invalid([{ code: "malformed", detail: claimsProblem ?? "bad claims" }, ...sigReasons]);
  }
  const providers = PROVIDERS.filter((p) => good.some((g) => g.provider === p));
  // A key listed under two providers (a configuration mistake) must not count twice either.
  const distinct = Math.min(providers.length, new Set(good.map((g) => g.x)).size);
  if (distinct < quorum) {
    const detail =
      `${distinct} distinct provider signature(s) verified, ${quorum} required` +
      (good.length > distinct
        ? ` (${good.length} valid signatures, same provider counted once)`
        : "");
    return invalid([{ code: "too-few-signatures", detail }, ...sigReasons], claims);
  }
  return { valid: true, claims, clusterId: claims.cid, providers, warnings: sigReasons };
}

/** The claims of a payload, or what is wrong with it. */
function readClaims<C>(
  kind: CosignedKind<C & { cid: string }>,
  payload: string,
): { claims?: C; claimsProblem?: string } {
  try {
    const parsed = kind.claims.safeParse(JSON.parse(dec.decode(fromBase64UrlStrict(payload))));
    if (!parsed.success) return { claimsProblem: `claims: ${firstIssue(parsed.error)}` };
    if (toBase64Url(canonicalBytes(parsed.data)) !== payload) {
      // Signers sign canonical bytes only; anything else (reordered members, duplicate keys,
      // whitespace) was not produced by a provider and may not mean what it seems to.
      return { claimsProblem: "payload is not the canonical JSON of its claims" };
    }
    return { claims: parsed.data };
  } catch {
    return { claimsProblem: "payload is not base64url-encoded JSON" };
  }
}

/** Each signature checked against the candidates' keys: the good ones, and what ails the rest. */
async function checkSignatures<C extends { cid: string }>(
  kind: CosignedKind<C>,
  payload: string,
  signatures: readonly TicketSignature[],
  candidates: readonly TrustedCluster[],
): Promise<{ sigReasons: TicketReason[]; good: { provider: ProviderId; x: string }[] }> {
  const sigReasons: TicketReason[] = [];
  const good: { provider: ProviderId; x: string }[] = [];
  for (const [i, sig] of signatures.entries()) {
    try {
      fromBase64UrlStrict(sig.signature);
    } catch {
      sigReasons.push({ code: "malformed", detail: "signature is not base64url", signature: i });
      continue;
    }
    const h = decodeProviderHeader(sig.protected);
    if (!h || h.typ !== kind.typ) {
      sigReasons.push({
        code: "malformed",
        detail: `not a ${kind.what} signature header`,
        signature: i,
      });
      continue;
    }
    const key = candidates
      .map((c) => c.providers[h.tessera_provider].find((k) => k.kid === h.kid))
      .find((k) => k !== undefined);
    if (!key) {
      sigReasons.push({
        code: "unknown-key",
        detail: `${h.tessera_provider} key "${h.kid}" is not a trusted key of that provider`,
        signature: i,
      });
      continue;
    }
    if (!(await verifyDetached(payload, sig, key))) {
      sigReasons.push({
        code: "tampered",
        detail: `${h.tessera_provider} signature does not verify over the payload`,
        signature: i,
      });
      continue;
    }
    good.push({ provider: h.tessera_provider, x: key.x });
  }
  return { sigReasons, good };
}

function invalid<C>(reasons: TicketReason[], claims?: C): CosignedVerification<C> {
  return claims ? { valid: false, reasons, claims } : { valid: false, reasons };
}

function firstIssue(e: { issues: readonly { path: PropertyKey[]; message: string }[] }): string {
  const i = e.issues[0];
  if (!i) return "invalid";
  const path = i.path.map(String).join(".");
  return path ? `${path}: ${i.message}` : i.message;
}
