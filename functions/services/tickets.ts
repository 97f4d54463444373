import { PROVIDERS, type ProviderId } from "../../shared/config.ts";
import { toBase64Url } from "../../shared/crypto/base64.ts";
import { ticketKey } from "../../shared/domain/keys.ts";
import { holdKey } from "../../shared/seats/keys.ts";
import type { HoldRecord } from "../../shared/seats/types.ts";
import type { TicketClaims } from "../../shared/tickets/claims.ts";
import {
  assembleTicket,
  signTicketClaims,
  type Ticket,
  type TicketSignature,
} from "../../shared/tickets/sign.ts";
import { TICKET_QUORUM } from "../../shared/tickets/verify.ts";
import type { AppDeps } from "../deps.ts";
import {
  requestTicketSignatures,
  type SignOutcome,
  type TicketSignBody,
} from "../peers/ticket-sign-client.ts";
import { buyerSegment } from "./buyer-id.ts";
import type { Services } from "./index.ts";

/**
 * Quorum-certified tickets: a ticket carries one signature per provider that, on ITS OWN store, saw
 * the seat sold to the order (docs/tickets.md). Two such signatures prove a quorum of stores agreed,
 * so a door can trust a ticket offline with nothing but the cluster's public keys.
 */

/** What `ticket/<tid>` holds. */
export interface TicketRecord {
  readonly ticket: Ticket;
  readonly orderId: string;
  readonly eventId: string;
  readonly seatKey: string;
  readonly holderSeg: string;
}

export const buyerTicketKey = (buyerSeg: string, ticketId: string) =>
  `buyer/${buyerSeg}/ticket/${ticketId}`;
export const eventTicketIndexKey = (eventId: string, ticketId: string) =>
  `event/${eventId}/ticket/${ticketId}`;

/** Three keys per ticket (record + two indexes) under the 100-key batch limit: 33 tickets. */
const TICKETS_PER_CHANGE = 33;
/** 22 base64url characters = 132 bits: unique per (order, seat) in practice. */
const TICKET_ID_CHARS = 22;

/**
 * Ticket ids are derived from the order and the seat, so re-running issuance (a retried confirm, a
 * re-issue) names the same tickets and the stored ones are found, never duplicated.
 */
export async function ticketIdFor(orderId: string, seatKey: string): Promise<string> {
  const d = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(`${orderId}\n${seatKey}`),
  );
  return `t${toBase64Url(new Uint8Array(d)).slice(0, TICKET_ID_CHARS)}`;
}

export type WitnessOutcome =
  | { readonly ok: true; readonly signatures: TicketSignature[] }
  /** 409: this store does not (yet) show the sale; 422: the claims contradict what it shows. */
  | { readonly ok: false; readonly status: 409 | 422; readonly reason: string };

/**
 * This provider's testimony: signs every item of `body` only if its own store's accepted value of
 * `hold/<holdId>` is "sold" to the claimed order, lists each seat, and was made by the claimed
 * holder in this cluster. The local acceptor record is read directly (not through the quorum): the
 * point of a second signature is that a second store independently saw the sale.
 */
export async function witnessSale(deps: AppDeps, body: TicketSignBody): Promise<WitnessOutcome> {
  const [rec] = await deps.acceptor.read([holdKey(body.holdId)]);
  let hold: HoldRecord | null = null;
  try {
    hold = rec?.value ? (JSON.parse(rec.value) as HoldRecord) : null;
  } catch {
    hold = null;
  }
  if (hold === null || hold.state !== "sold") {
    return { ok: false, status: 409, reason: `this store does not show hold ${body.holdId} sold` };
  }
  const seats = new Set(hold.seats);
  const holders = new Map<string, string>();
  for (const { seatKey, claims } of body.items) {
    const [, evt, , seatId] = seatKey.split("/");
    let seg = holders.get(claims.hld);
    if (seg === undefined) {
      seg = await buyerSegment(claims.hld);
      holders.set(claims.hld, seg);
    }
    const why =
      claims.cid !== deps.cluster.clusterId
        ? "another cluster"
        : claims.ord !== hold.orderId
          ? "another order"
          : !seats.has(seatKey)
            ? `seat ${seatKey} is not in the hold`
            : evt !== claims.evt || seatId !== claims.seat.id
              ? "claims name another seat than the key"
              : seg !== hold.caller
                ? "another holder"
                : null;
    if (why) return { ok: false, status: 422, reason: `refused: ${why}` };
  }
  const signatures = await Promise.all(
    body.items.map((i) => signTicketClaims(i.claims, deps.signingKey, deps.provider)),
  );
  return { ok: true, signatures };
}

export interface IssueItem {
  readonly seatKey: string;
  readonly claims: TicketClaims;
}

export interface IssueResult {
  /** Stored tickets, in item order; empty when fewer than TICKET_QUORUM providers vouched. */
  readonly tickets: { readonly id: string; readonly record: TicketRecord }[];
  /** Providers whose signatures the tickets carry. */
  readonly providers: ProviderId[];
  /** Why each missing provider did not sign. */
  readonly refusals: Partial<Record<ProviderId, string>>;
}

/**
 * Collects every provider's signatures for the tickets of one sold hold, assembles and stores them.
 * Idempotent: ids and claims are derived from the order, so a re-run finds what an earlier run
 * stored (and upgrades a ticket that has fewer signatures than this run collected).
 */
export async function issueTickets(
  s: Services,
  o: {
    holdId: string;
    orderId: string;
    eventId: string;
    holderSeg: string;
    items: readonly IssueItem[];
  },
): Promise<IssueResult> {
  const deps = s.deps;
  const ids = await Promise.all(o.items.map((i) => ticketIdFor(o.orderId, i.seatKey)));
  const body: TicketSignBody = { holdId: o.holdId, items: [...o.items] };

  const ask = (p: ProviderId): Promise<SignOutcome | WitnessOutcome> =>
    p === deps.provider
      ? witnessSale(deps, body)
      : requestTicketSignatures(
          {
            to: p,
            url: deps.cluster.providers[p].url,
            key: deps.signingKey,
            now: s.now,
            ...(deps.fetch ? { fetch: deps.fetch } : {}),
          },
          body,
        );
  const outcomes = new Map<ProviderId, SignOutcome | WitnessOutcome>();
  await Promise.all(PROVIDERS.map(async (p) => outcomes.set(p, await ask(p))));
  const missed = PROVIDERS.filter((p) => {
    const r = outcomes.get(p);
    return r !== undefined && !r.ok && r.status === 409;
  });
  if (missed.length > 0) {
    // A store that missed the sale's accept learns it from a quorum read (which writes the
    // decided value back to every store it reaches); then it is asked once more.
    await s.store.get(holdKey(o.holdId));
    await Promise.all(missed.map(async (p) => outcomes.set(p, await ask(p))));
  }

  const providers: ProviderId[] = [];
  const refusals: Partial<Record<ProviderId, string>> = {};
  const sigs: TicketSignature[][] = o.items.map(() => []);
  for (const p of PROVIDERS) {
    const r = outcomes.get(p);
    if (r?.ok) {
      providers.push(p);
      r.signatures.forEach((sig, j) => {
        sigs[j]?.push(sig);
      });
    } else {
      refusals[p] = r ? r.reason : "not asked";
    }
  }
  if (providers.length < TICKET_QUORUM) return { tickets: [], providers, refusals };

  const fresh = o.items.map((item, j) => ({
    id: ids[j]!,
    record: {
      ticket: assembleTicket(item.claims, sigs[j] ?? []),
      orderId: o.orderId,
      eventId: o.eventId,
      seatKey: item.seatKey,
      holderSeg: o.holderSeg,
    } satisfies TicketRecord,
  }));
  const stored: { id: string; record: TicketRecord }[] = [];
  for (let i = 0; i < fresh.length; i += TICKETS_PER_CHANGE) {
    stored.push(...(await storeTickets(s, fresh.slice(i, i + TICKETS_PER_CHANGE))));
  }
  return { tickets: stored, providers, refusals };
}

type IndexEntry = { ticketId: string; orderId: string; eventId: string; seatKey: string };

/** One change per chunk: each ticket with its two index entries, all or nothing. */
async function storeTickets(
  s: Services,
  chunk: readonly { id: string; record: TicketRecord }[],
): Promise<{ id: string; record: TicketRecord }[]> {
  const keys = chunk.flatMap((t) => [
    ticketKey(t.id),
    buyerTicketKey(t.record.holderSeg, t.id),
    eventTicketIndexKey(t.record.eventId, t.id),
  ]);
  const out = await s.store.change<TicketRecord | IndexEntry>(keys, (cur) =>
    chunk.flatMap((t, j) => {
      const existing = cur[3 * j] as TicketRecord | null;
      // The first stored ticket stays unless this run carries more signatures (a re-issue after a
      // provider came back); tickets of one seat and order always share the same claims.
      const keep =
        existing !== null && existing.ticket.signatures.length >= t.record.ticket.signatures.length;
      const entry: IndexEntry = {
        ticketId: t.id,
        orderId: t.record.orderId,
        eventId: t.record.eventId,
        seatKey: t.record.seatKey,
      };
      return [keep ? existing : t.record, entry, entry];
    }),
  );
  if (!out.ok) throw new Error("ticket write aborted");
  return chunk.map((t, j) => ({ id: t.id, record: out.values[3 * j] as TicketRecord }));
}
