import { hashValue } from "../../shared/audit/entry.ts";
import { PROVIDERS, type ProviderId } from "../../shared/config.ts";
import { toBase64Url } from "../../shared/crypto/base64.ts";
import { decodeProviderHeader, verifyDetached } from "../../shared/crypto/jws.ts";
import type { Event } from "../../shared/domain/event.ts";
import {
  buyerTicketKey,
  eventKey,
  eventTicketKey,
  holdKey,
  idOfKey,
  orderKey,
  parseSeatKey,
  scanPrefix,
  ticketKey,
} from "../../shared/domain/keys.ts";
import type { AcceptEntry } from "../../shared/quorum/messages.ts";
import type { Attested } from "../../shared/quorum/proposer.ts";
import { QUORUM } from "../../shared/quorum/tally.ts";
import type { HoldRecord } from "../../shared/seats/types.ts";
import { canonicalClaims } from "../../shared/tickets/claims.ts";
import { claimsForOrder, type DerivedTicket } from "../../shared/tickets/derive.ts";
import type { Revocation } from "../../shared/tickets/revocation.ts";
import {
  assembleTicket,
  signTicketClaims,
  type Ticket,
  type TicketSignature,
} from "../../shared/tickets/sign.ts";
import { auditLogOf } from "../audit/wire.ts";
import {
  requestTicketSignatures,
  type SignOutcome,
  type TicketSignBody,
} from "../peers/ticket-sign-client.ts";
import { ProblemError } from "../problem.ts";
import type { Services } from "./index.ts";
import { eventCopy } from "./instance-cache.ts";
import { StoredOrder } from "./order-record.ts";

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
  /** Set once the ticket is revoked (its order refunded): the co-signed entry of the event's feed
   * (functions/services/revocations.ts). */
  readonly revocation?: Revocation;
}

/** Three keys per ticket (record + two indexes) under the 100-key batch limit: 33 tickets. */
const TICKETS_PER_CHANGE = 33;

export type WitnessOutcome =
  | { readonly ok: true; readonly signatures: TicketSignature[] }
  /** 409: the sale or its order is not (yet) committed as this provider reads it; 422: the
   * request or the committed records contradict each other. */
  | { readonly ok: false; readonly status: 409 | 422; readonly reason: string };

const refuse = (status: 409 | 422, reason: string): WitnessOutcome => ({
  ok: false,
  status,
  reason: `refused: ${reason}`,
});

function parseHold(value: string | null | undefined): HoldRecord | null {
  try {
    return value ? (JSON.parse(value) as HoldRecord) : null;
  } catch {
    return null;
  }
}

/**
 * This provider's testimony for the tickets of one sold hold. The caller names only the hold and
 * the holder; every claim is derived here (shared/tickets/derive.ts) from records this provider
 * reads itself:
 * - its OWN store's accepted `hold/<id>` must be "sold" (read directly, not through the quorum: a
 *   second signature means a second store independently saw the sale), to the holder's segment;
 * - the order that sale committed (carried in that record; on older records, read through the
 *   quorum) must be the one it names, confirmed, sell exactly the hold's seats, and belong to the
 *   theater of the event it names.
 * Whatever a caller sends, the signatures cover only the tickets the committed order yields.
 */
export async function witnessSale(s: Services, body: TicketSignBody): Promise<WitnessOutcome> {
  const [rec] = await s.deps.acceptor.read([holdKey(body.holdId)]);
  return witnessRecord(s, body.holdId, parseHold(rec?.value), body.holder);
}

/** What this provider's acceptor vouches for in its reply to an accept of a sale's record. */
export interface SaleAttest {
  readonly signatures: readonly TicketSignature[];
}

/**
 * The same testimony, given by this provider's acceptor for a value its own store has just
 * accepted (functions/peers/witnessing-acceptor.ts): a sold record that carries its order and its
 * holder is signed for in the accept reply itself, so the quorum that decides a sale is the one
 * that vouches for it, with no extra round trip. Anything else gets no attestation.
 */
export async function attestAccept(s: Services, e: AcceptEntry): Promise<SaleAttest | undefined> {
  if (!e.key.startsWith(scanPrefix.holds()) || e.value === null) return undefined;
  if (!e.value.includes('"sold"')) return undefined;
  const hold = parseHold(e.value);
  if (hold?.state !== "sold" || hold.order === undefined || typeof hold.holder !== "string") {
    return undefined;
  }
  // Inside an accept reply nothing may wait on another provider (accept handlers calling each
  // other's stores stall under load): the event comes from this instance's copy or its own store.
  const w = await witnessRecord(s, idOfKey(e.key), hold, hold.holder, (id) => ownEvent(s, id));
  return w.ok ? { signatures: w.signatures } : undefined;
}

/** An event as this instance last read it, else as this provider's own store holds it. Its
 * theater, the one field a witness reads, never changes. */
async function ownEvent(s: Services, eventId: string): Promise<Event | null> {
  const copy = eventCopy(s.store, eventId);
  if (copy !== undefined) return copy;
  const [rec] = await s.deps.acceptor.read([eventKey(eventId)]);
  try {
    return rec?.value ? (JSON.parse(rec.value) as Event) : null;
  } catch {
    return null;
  }
}

/** The testimony for one hold record as this provider's store holds it (see witnessSale). */
async function witnessRecord(
  s: Services,
  holdId: string,
  hold: HoldRecord | null,
  holder: string,
  readEventFor: (eventId: string) => Promise<Event | null> = (id) =>
    s.store.localGet<Event>(eventKey(id)),
): Promise<WitnessOutcome> {
  if (hold === null || hold.state !== "sold") {
    return refuse(409, `this store does not show hold ${holdId} sold`);
  }
  if ((await s.buyerIds.segment(holder)) !== hold.caller) return refuse(422, "another holder");
  // The sale's seats name its event: the order and the event are read at once, and the order must
  // name that same event.
  const eventId = hold.seats[0] === undefined ? undefined : parseSeatKey(hold.seats[0]).eventId;
  if (!eventId) return refuse(422, "the sale names no seats");
  // The order the sale committed travels in the sold record itself; older records name it only,
  // and its record is read. An event's theater never changes: a committed copy is enough.
  const [order, event] = await Promise.all([
    hold.order === undefined
      ? s.store.read<StoredOrder>(orderKey(hold.orderId))
      : StoredOrder.safeParse(hold.order).data,
    readEventFor(eventId),
  ]);
  if (order === undefined) return refuse(422, "the sale's order is malformed");
  if (order === null) return refuse(409, `order ${hold.orderId} is not recorded yet`);
  if (order.id !== hold.orderId) return refuse(422, "the sale names another order");
  if (order.holdId !== holdId) return refuse(422, "the order names another hold");
  if (order.eventId !== eventId) return refuse(422, "the order names another event than its seats");
  if (order.status !== "confirmed") return refuse(422, `the order is ${order.status}`);
  const derived = await claimsForOrder(
    order,
    { sub: holder, issuer: s.buyerIds.issuer },
    s.deps.cluster.clusterId,
  );
  const sold = new Set(hold.seats);
  const named = new Set(derived.map((d) => d.seatKey));
  if (named.size !== sold.size || ![...named].every((k) => sold.has(k))) {
    return refuse(422, "the order and the hold list different seats");
  }
  if (event === null || event.theaterId !== order.theaterId) {
    return refuse(422, "the order names another theater than its event");
  }
  const signatures = await Promise.all(
    derived.map((d) => signTicketClaims(d.claims, s.deps.signingKey, s.deps.provider)),
  );
  // Each signature is this provider's testimony: logged before it leaves (docs/audit-log.md). All
  // signers sign the same payload, so the cross-check finds a ticket "agreed" once two logged it.
  await auditLogOf(s.deps)?.record(
    await Promise.all(
      derived.map(async (d) => ({
        kind: "ticket-sign",
        key: ticketKey(d.claims.tid),
        ballot: "",
        valueHash: await hashValue(canonicalClaims(d.claims)),
        commitId: ticketKey(d.claims.tid),
      })),
    ),
  );
  return { ok: true, signatures };
}

export interface IssueResult {
  /** Stored tickets, in seat order; empty when fewer than QUORUM providers vouched. */
  readonly tickets: { readonly id: string; readonly record: TicketRecord }[];
  /** Providers whose signatures the tickets carry. */
  readonly providers: ProviderId[];
  /** Why each missing provider did not sign. */
  readonly refusals: Partial<Record<ProviderId, string>>;
}

/**
 * 503 while fewer than two providers vouch: it names which providers did not, not why (their
 * error text goes to the log with the request id).
 */
export function ticketsPending(issued: IssueResult): ProblemError {
  const missing = PROVIDERS.filter((p) => !issued.providers.includes(p));
  return new ProblemError(
    503,
    "tickets-pending",
    "Too few providers vouched",
    `${issued.providers.length} of ${PROVIDERS.length} providers vouched (not yet: ${missing.join(", ")}); retry`,
    {},
    { "retry-after": "5" },
  ).logging(JSON.stringify(issued.refusals));
}

/** Keeps a peer's answer only if every signature is that peer's, over exactly `derived`. */
async function checkedPeerSignatures(
  s: Services,
  p: ProviderId,
  derived: readonly DerivedTicket[],
  signatures: readonly TicketSignature[],
): Promise<boolean> {
  const key = s.deps.cluster.providers[p].publicJwk;
  const checks = await Promise.all(
    derived.map(async (d, j) => {
      const sig = signatures[j];
      const header = sig ? decodeProviderHeader(sig.protected) : null;
      if (!sig || header?.tessera_provider !== p) return false;
      return verifyDetached(toBase64Url(canonicalClaims(d.claims)), sig, key);
    }),
  );
  return checks.every(Boolean);
}

/**
 * Collects the providers' signatures for the tickets of one confirmed order and assembles them,
 * not stored yet (see `issueTickets`, and the purchase, which stores them with its order). Waits for
 * a quorum of signers, then gives the rest a short grace: a third signature is worth a short
 * wait (the ticket then verifies with any two keys), not another round trip. `every`: waits for
 * all, and a store that missed the sale is taught it and asked again (a re-issue's purpose).
 */
export async function signTickets(
  s: Services,
  order: StoredOrder,
  holder: string,
  holderSeg: string,
  every = false,
): Promise<IssueResult> {
  const deps = s.deps;
  const derived = await claimsForOrder(
    order,
    { sub: holder, issuer: s.buyerIds.issuer },
    deps.cluster.clusterId,
  );
  const body: TicketSignBody = { holdId: order.holdId, holder };

  const ask = async (p: ProviderId): Promise<SignOutcome | WitnessOutcome> => {
    if (p === deps.provider) return witnessSale(s, body);
    const r = await requestTicketSignatures(
      {
        to: p,
        url: deps.cluster.providers[p].url,
        key: deps.signingKey,
        now: s.now,
        ...(deps.fetch ? { fetch: deps.fetch } : {}),
      },
      body,
    );
    if (r.ok && !(await checkedPeerSignatures(s, p, derived, r.signatures))) {
      return { ok: false, status: 0, reason: `${p}: signatures do not match the order's tickets` };
    }
    return r;
  };
  const outcomes = new Map<ProviderId, SignOutcome | WitnessOutcome>();
  const signed = () => [...outcomes.values()].filter((r) => r.ok).length;
  await quorumThenGrace(
    PROVIDERS.map(async (p) => {
      outcomes.set(p, await ask(p));
    }),
    () => !every && signed() >= QUORUM,
  );
  const missed = PROVIDERS.filter((p) => {
    const r = outcomes.get(p);
    return r !== undefined && !r.ok && r.status === 409;
  });
  if ((every || signed() < QUORUM) && missed.length > 0) {
    // A store that missed the sale's accept learns it from a quorum read (which writes the
    // decided value back to every store it reaches); then it is asked once more.
    await s.store.get(holdKey(order.holdId));
    await Promise.all(missed.map(async (p) => outcomes.set(p, await ask(p))));
  }

  return assembleIssued(order, derived, holderSeg, outcomes);
}

/**
 * Tickets from the signatures the acceptors that decided the sale put in their accept replies
 * (`attested`, by acceptor index in cluster order), each checked like a peer's answer; null when
 * fewer than a quorum of providers vouched that way (the caller then asks them: signTickets).
 */
export async function ticketsFromAttests(
  s: Services,
  order: StoredOrder,
  holder: string,
  holderSeg: string,
  attested: readonly Attested[],
): Promise<IssueResult | null> {
  const derived = await claimsForOrder(
    order,
    { sub: holder, issuer: s.buyerIds.issuer },
    s.deps.cluster.clusterId,
  );
  const outcomes = new Map<ProviderId, SignOutcome | WitnessOutcome>();
  await Promise.all(
    attested.map(async (a) => {
      const p = PROVIDERS[a.acceptor];
      const signatures = (a.attest as Partial<SaleAttest> | null)?.signatures;
      if (p === undefined || a.key !== holdKey(order.holdId) || !Array.isArray(signatures)) return;
      if (await checkedPeerSignatures(s, p, derived, signatures)) {
        outcomes.set(p, { ok: true, signatures: [...signatures] });
      }
    }),
  );
  const issued = assembleIssued(order, derived, holderSeg, outcomes);
  return issued.tickets.length > 0 ? issued : null;
}

/** Each ticket with the signatures of every provider that vouched (none below QUORUM). */
function assembleIssued(
  order: StoredOrder,
  derived: readonly DerivedTicket[],
  holderSeg: string,
  outcomes: ReadonlyMap<ProviderId, SignOutcome | WitnessOutcome>,
): IssueResult {
  const providers: ProviderId[] = [];
  const refusals: Partial<Record<ProviderId, string>> = {};
  const sigs: TicketSignature[][] = derived.map(() => []);
  for (const p of PROVIDERS) {
    const r = outcomes.get(p);
    if (r?.ok) {
      providers.push(p);
      r.signatures.forEach((sig, j) => {
        sigs[j]?.push(sig);
      });
    } else {
      refusals[p] = r ? r.reason : "no answer in time";
    }
  }
  if (providers.length < QUORUM) return { tickets: [], providers, refusals };
  const tickets = derived.map((d, j) => ({
    id: d.claims.tid,
    record: {
      ticket: assembleTicket(d.claims, sigs[j] ?? []),
      orderId: order.id,
      eventId: order.eventId,
      seatKey: d.seatKey,
      holderSeg,
    } satisfies TicketRecord,
  }));
  return { tickets, providers, refusals };
}

/**
 * Once a quorum signed, the other signers get this share of the time that took (at least the
 * minimum, ms): enough for a third signature that was on its way, never another round trip. Half
 * of it made a loaded confirm 2.6 times slower (the third provider is the farthest or the busiest).
 */
const STRAGGLER_GRACE_SHARE = 0.25;
const STRAGGLER_GRACE_MIN_MS = 5;

/** Settles once every call has, or once `enough()` holds plus a grace (see above). */
async function quorumThenGrace(calls: Promise<void>[], enough: () => boolean): Promise<void> {
  const t0 = performance.now();
  const all = Promise.allSettled(calls);
  await new Promise<void>((resolve) => {
    for (const c of calls) c.finally(() => enough() && resolve()).catch(() => undefined);
    void all.then(() => resolve());
  });
  const graceMs = Math.max(
    STRAGGLER_GRACE_MIN_MS,
    (performance.now() - t0) * STRAGGLER_GRACE_SHARE,
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    all,
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    }),
  ]);
  clearTimeout(timer);
}

/**
 * Signs and stores the tickets of one confirmed order. Idempotent: ids and claims derive from the
 * order, so a re-run finds what an earlier run stored (and upgrades a ticket that has fewer
 * signatures than this run collected).
 */
export async function issueTickets(
  s: Services,
  order: StoredOrder,
  holder: string,
  holderSeg: string,
): Promise<IssueResult> {
  const signed = await signTickets(s, order, holder, holderSeg, true);
  const stored: { id: string; record: TicketRecord }[] = [];
  for (let i = 0; i < signed.tickets.length; i += TICKETS_PER_CHANGE) {
    stored.push(...(await storeTickets(s, signed.tickets.slice(i, i + TICKETS_PER_CHANGE))));
  }
  return { ...signed, tickets: stored };
}

type IndexEntry = { ticketId: string; orderId: string; eventId: string; seatKey: string };

export type StoredTicket = { readonly id: string; readonly record: TicketRecord };

/** Each ticket's record and its two index entries (buyer, event), in that order. */
export const ticketKeys = (tickets: readonly StoredTicket[]): string[] =>
  tickets.flatMap((t) => [
    ticketKey(t.id),
    buyerTicketKey(t.record.holderSeg, t.id),
    eventTicketKey(t.record.eventId, t.id),
  ]);

/**
 * The values a change writes at `ticketKeys(tickets)` over what it read there (`cur`). The first
 * stored ticket stays unless this run carries more signatures (a re-issue after a provider came
 * back); tickets of one seat and order always share the same claims. Records and entries are
 * deterministic, so a retry finds and keeps what an interrupted attempt wrote.
 */
export function ticketValues(
  tickets: readonly StoredTicket[],
  cur: readonly unknown[],
): (TicketRecord | IndexEntry)[] {
  return tickets.flatMap((t, j) => {
    const existing = (cur[3 * j] ?? null) as TicketRecord | null;
    const keep =
      existing !== null && existing.ticket.signatures.length >= t.record.ticket.signatures.length;
    const entry: IndexEntry = {
      ticketId: t.id,
      orderId: t.record.orderId,
      eventId: t.record.eventId,
      seatKey: t.record.seatKey,
    };
    // A revocation, once recorded, stays whatever signatures come later.
    const record =
      existing?.revocation === undefined
        ? t.record
        : { ...t.record, revocation: existing.revocation };
    return [keep ? existing : record, entry, entry];
  });
}

/** One change per chunk: each ticket with its two index entries. */
async function storeTickets(s: Services, chunk: readonly StoredTicket[]): Promise<StoredTicket[]> {
  const out = await s.store.change<TicketRecord | IndexEntry>(ticketKeys(chunk), (cur) =>
    ticketValues(chunk, cur),
  );
  if (!out.ok) throw new Error("ticket write aborted");
  return chunk.map((t, j) => ({ id: t.id, record: out.values[3 * j] as TicketRecord }));
}
