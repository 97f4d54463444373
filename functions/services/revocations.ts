import { hashValue } from "../../shared/audit/entry.ts";
import { PROVIDERS, type ProviderId } from "../../shared/config.ts";
import { toBase64Url } from "../../shared/crypto/base64.ts";
import { decodeProviderHeader, verifyDetached } from "../../shared/crypto/jws.ts";
import type { Event } from "../../shared/domain/event.ts";
import {
  eventKey,
  orderKey,
  revocationHeadKey,
  revocationPageKey,
  ticketKey,
} from "../../shared/domain/keys.ts";
import { refundedSeatsOf } from "../../shared/domain/partial-refund.ts";
import { QUORUM } from "../../shared/quorum/tally.ts";
import { ticketIdsFor } from "../../shared/tickets/derive.ts";
import {
  canonicalRevocation,
  REVOCATION_TYP,
  type Revocation,
  type RevocationReason,
  signRevocationClaims,
} from "../../shared/tickets/revocation.ts";
import {
  appendToPage,
  attachSignatures,
  claimsOfEntry,
  pageOfSeq,
  type RevocationEntry,
  type RevocationPage,
  type RevocationWant,
  signedRevocation,
} from "../../shared/tickets/revocation-log.ts";
import type { TicketSignature } from "../../shared/tickets/sign.ts";
import { auditLogOf } from "../audit/wire.ts";
import {
  type RevocationSignBody,
  type RevocationSignOutcome,
  requestRevocationSignatures,
} from "../peers/revocation-sign-client.ts";
import type { Services } from "./index.ts";
import { StoredOrder } from "./order-record.ts";
import { retryingChange } from "./store.ts";
import type { TicketRecord } from "./tickets.ts";

/**
 * Revocation: when an order is refunded, each of its tickets gets an entry in its event's
 * revocation feed, and two providers co-sign each entry like a ticket. The refund commits on the
 * order register; the feed follows it (as seats follow a hold record), run by the refund before it
 * answers and by every retry of it, so a refund answered 200 has its revocations in the feed.
 *
 * A provider co-signs an entry only when the order it names, read through the quorum, is refunded
 * and yields that ticket id (`witnessRevocations`): the coordinator names numbers, never claims.
 */

/** Pages an append may walk past a stale head before it gives up (a bug, not a load). */
const MAX_PAGES_WALKED = 10_000;
/** Ticket records a change marks revoked: one key each, under the 100-key batch limit. */
const TICKETS_PER_CHANGE = 50;

export interface RevokedTicket {
  readonly entry: RevocationEntry;
  /** The co-signed revocation, once a quorum of providers signed it. */
  readonly revocation?: Revocation;
}

/**
 * Appends a revocation of every ticket of `order` to its event's feed, collects the providers'
 * signatures and marks the ticket records revoked. Idempotent: a re-run finds the entries it
 * appended (by ticket id) and signs only what still lacks a quorum.
 */
export async function revokeOrderTickets(
  s: Services,
  order: Pick<StoredOrder, "id" | "eventId" | "seats">,
  rsn: RevocationReason,
): Promise<RevokedTicket[]> {
  const rat = Math.floor(s.now() / 1000);
  const tids = await ticketIdsFor(order.id, order.eventId, order.seats);
  const want: RevocationWant[] = tids.map((tid) => ({ tid, ord: order.id, rsn, rat }));
  if (want.length === 0) return [];
  const entries = await appendRevocations(s, order.eventId, want);
  const revoked = await cosignEntries(s, order.eventId, entries);
  await markTickets(s, revoked);
  return revoked;
}

/** Appends `want` from the head page on, one page per change; returns their entries. */
async function appendRevocations(
  s: Services,
  eventId: string,
  want: readonly RevocationWant[],
): Promise<RevocationEntry[]> {
  const head = (await s.store.read<{ page: number }>(revocationHeadKey(eventId)))?.page ?? 0;
  const found: RevocationEntry[] = [];
  let rest = [...want];
  let page = head;
  for (; rest.length > 0; page++) {
    if (page - head > MAX_PAGES_WALKED) throw new Error(`revocation feed of ${eventId}: no room`);
    const key = revocationPageKey(eventId, page);
    const out = await retryingChange<RevocationPage>(s, [key], (cur) => {
      const r = appendToPage(page, rest)(cur);
      return "abort" in r ? { abort: r.abort } : [...r];
    });
    // A full page may list some of them already (an earlier run's append).
    const entries = out.ok
      ? (out.values[0]?.entries ?? [])
      : ((await s.store.read<RevocationPage>(key))?.entries ?? []);
    const mine = entries.filter((e) => rest.some((w) => w.tid === e.tid));
    found.push(...mine);
    rest = rest.filter((w) => !mine.some((e) => e.tid === w.tid));
  }
  if (page - 1 > head) await advanceHead(s, eventId, page - 1);
  return found;
}

/** The head only moves forward; it is a hint, so a lost write costs a later append a walk. */
async function advanceHead(s: Services, eventId: string, page: number): Promise<void> {
  await retryingChange<{ page: number }>(s, [revocationHeadKey(eventId)], (cur) =>
    (cur[0]?.page ?? 0) >= page ? { abort: "behind" } : [{ page }],
  );
}

/**
 * Collects the providers' signatures for entries that lack a quorum, checks each, and stores them
 * on their pages. Entries no quorum vouches for stay pending (a retry, or a read of the feed,
 * asks again).
 */
export async function cosignEntries(
  s: Services,
  eventId: string,
  entries: readonly RevocationEntry[],
): Promise<RevokedTicket[]> {
  const cid = s.deps.cluster.clusterId;
  const pending = entries.filter((e) => e.signatures.length < QUORUM);
  const collected = new Map<number, TicketSignature[]>();
  if (pending.length > 0) {
    const body: RevocationSignBody = { eventId, seqs: pending.map((e) => e.seq) };
    const answers = await Promise.all(PROVIDERS.map((p) => askProvider(s, p, body)));
    for (const [j, p] of PROVIDERS.entries()) {
      const a = answers[j];
      if (!a?.ok) continue;
      await Promise.all(
        pending.map(async (e, i) => {
          const sig = a.signatures[i];
          if (sig && (await isProviderSignature(s, p, claimsPayload(cid, eventId, e), sig))) {
            collected.set(e.seq, [...(collected.get(e.seq) ?? []), sig]);
          }
        }),
      );
    }
    await storeSignatures(s, eventId, pending, collected);
  }
  return entries.map((e) => {
    const entry =
      e.signatures.length >= QUORUM ? e : { ...e, signatures: collected.get(e.seq) ?? [] };
    const revocation = signedRevocation(cid, eventId, entry);
    return revocation === undefined ? { entry: e } : { entry, revocation };
  });
}

const claimsPayload = (cid: string, eventId: string, e: RevocationEntry) =>
  toBase64Url(canonicalRevocation(claimsOfEntry(cid, eventId, e)));

async function askProvider(
  s: Services,
  p: ProviderId,
  body: RevocationSignBody,
): Promise<RevocationSignOutcome> {
  if (p === s.deps.provider) return { ok: true, signatures: await witnessRevocations(s, body) };
  return requestRevocationSignatures(
    {
      to: p,
      url: s.deps.cluster.providers[p].url,
      key: s.deps.signingKey,
      now: s.now,
      ...(s.deps.fetch ? { fetch: s.deps.fetch } : {}),
    },
    body,
  );
}

/** A peer's answer counts only as that provider's revocation signature over these claims. */
async function isProviderSignature(
  s: Services,
  p: ProviderId,
  payload: string,
  sig: TicketSignature,
): Promise<boolean> {
  const h = decodeProviderHeader(sig.protected);
  if (h?.tessera_provider !== p || h.typ !== REVOCATION_TYP) return false;
  return verifyDetached(payload, sig, s.deps.cluster.providers[p].publicJwk);
}

async function storeSignatures(
  s: Services,
  eventId: string,
  entries: readonly RevocationEntry[],
  collected: ReadonlyMap<number, TicketSignature[]>,
): Promise<void> {
  const byPage = new Map<number, RevocationEntry[]>();
  for (const e of entries) {
    if ((collected.get(e.seq)?.length ?? 0) < QUORUM) continue;
    byPage.set(pageOfSeq(e.seq), [...(byPage.get(pageOfSeq(e.seq)) ?? []), e]);
  }
  for (const [page, list] of byPage) {
    await retryingChange<RevocationPage>(s, [revocationPageKey(eventId, page)], (cur) =>
      list.reduce<(RevocationPage | null)[]>(
        (acc, e) => [...attachSignatures(e.seq, e.tid, collected.get(e.seq) ?? [])(acc)],
        cur,
      ),
    );
  }
}

/** Each ticket record gets its co-signed revocation, so lists and exports show it as revoked. */
async function markTickets(s: Services, revoked: readonly RevokedTicket[]): Promise<void> {
  const done = revoked.filter((r) => r.revocation !== undefined);
  for (let i = 0; i < done.length; i += TICKETS_PER_CHANGE) {
    const chunk = done.slice(i, i + TICKETS_PER_CHANGE);
    await retryingChange<TicketRecord>(
      s,
      chunk.map((r) => ticketKey(r.entry.tid)),
      (cur) =>
        cur.map((t, j) =>
          t === null || t.revocation !== undefined
            ? t
            : { ...t, revocation: chunk[j]?.revocation as Revocation },
        ),
    );
  }
}

/**
 * This provider's testimony for entries of an event's feed: one signature per number asked, or
 * null. It reads the page and the order each entry names through the quorum, and signs an entry
 * only when that order belongs to the event, reads refunded, and yields the entry's ticket id.
 */
export async function witnessRevocations(
  s: Services,
  body: RevocationSignBody,
): Promise<(TicketSignature | null)[]> {
  const pages = new Map<number, RevocationPage | null>();
  await Promise.all(
    [...new Set(body.seqs.map(pageOfSeq))].map(async (p) => {
      pages.set(p, await s.store.read<RevocationPage>(revocationPageKey(body.eventId, p)));
    }),
  );
  const entries = body.seqs.map(
    (seq) => pages.get(pageOfSeq(seq))?.entries.find((e) => e.seq === seq) ?? null,
  );
  // Per order named, the ticket ids it revokes: those of its refunded seats, if it is of this
  // event (refunded in full, or seat by seat; for either reason: a cancellation's event is
  // checked below).
  const revocable = new Map<string, ReadonlySet<string>>();
  await Promise.all(
    [...new Set(entries.flatMap((e) => (e ? [e.ord] : [])))].map(async (id) => {
      const order = StoredOrder.safeParse(await s.store.read<unknown>(orderKey(id))).data;
      revocable.set(id, await revokedTicketIds(body.eventId, id, order ?? null));
    }),
  );
  // A cancellation's entries also need the event cancelled, as committed.
  const cancelled = entries.some((e) => e?.rsn === "cancelled")
    ? (await s.store.read<Event>(eventKey(body.eventId)))?.status === "cancelled"
    : false;
  const out = await Promise.all(
    entries.map(async (e) => {
      if (e === null || (e.rsn === "cancelled" && !cancelled)) return null;
      if (!revocable.get(e.ord)?.has(e.tid)) return null;
      const claims = claimsOfEntry(s.deps.cluster.clusterId, body.eventId, e);
      return {
        claims,
        sig: await signRevocationClaims(claims, s.deps.signingKey, s.deps.provider),
      };
    }),
  );
  const signed = out.filter((o) => o !== null);
  await auditLogOf(s.deps)?.record(
    await Promise.all(
      signed.map(async (o) => ({
        kind: "revocation-sign",
        key: `revocation/${body.eventId}/${o.claims.seq}`,
        ballot: "",
        valueHash: await hashValue(canonicalRevocation(o.claims)),
        commitId: ticketKey(o.claims.tid),
      })),
    ),
  );
  return out.map((o) => o?.sig ?? null);
}

/** The ticket ids committed `order` (read under `id`) revokes in event `eventId`: those of its
 * refunded seats; none when it is another order, of another event, or not sold. */
async function revokedTicketIds(
  eventId: string,
  id: string,
  order: StoredOrder | null,
): Promise<ReadonlySet<string>> {
  if (order === null || order.id !== id || order.eventId !== eventId) return new Set();
  if (order.status !== "refunded" && order.status !== "confirmed") return new Set();
  return new Set(await ticketIdsFor(order.id, eventId, refundedSeatsOf(order)));
}
