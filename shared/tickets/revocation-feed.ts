import { z } from "zod";
import { int32 } from "../domain/bounds.ts";
import { Id } from "../domain/ids.ts";
import {
  REVOCATION_SEQ_MAX,
  type RevocationClaims,
  RevocationSchema,
  verifyRevocationWith,
} from "./revocation.ts";
import { ClusterId, normalizeTrust, type TrustInput } from "./trust.ts";
import type { TicketReason } from "./verify.ts";

/**
 * The public revocation feed of one event (`GET /v1/events/{eventId}/revocations?since=N` on every
 * provider), and what a verifier makes of it. Every entry is a revocation co-signed by two
 * providers, checked on its own: a feed from any provider, or several merged, is as good as its
 * entries, and whoever serves it can only leave entries out, never add one
 * (docs/tickets.md, "Revocation").
 */

export const REVOCATION_FEED_FORMAT = "tessera.revocations";
/** A saved feed holds a whole event's revocations; one answer of the API holds a few pages. */
export const MAX_FEED_ENTRIES = 100_000;

export const RevocationFeed = z
  .object({
    format: z.literal(REVOCATION_FEED_FORMAT),
    formatVersion: z.literal(1),
    clusterId: ClusterId,
    eventId: Id,
    /** The entries are those numbered after `since`. */
    since: int32(0, REVOCATION_SEQ_MAX),
    /** The `since` of the next call: the last number listed, or `since` when none is. */
    next: int32(0, REVOCATION_SEQ_MAX),
    /** False while the feed has entries past `next` (more pages, or entries not co-signed yet). */
    complete: z.boolean(),
    revocations: z.array(RevocationSchema).max(MAX_FEED_ENTRIES),
  })
  .strict();
export type RevocationFeed = z.infer<typeof RevocationFeed>;

export interface FeedCheck {
  /** Tickets revoked by an entry that verified, by ticket id. */
  readonly revoked: ReadonlyMap<string, RevocationClaims>;
  /** Entries that did not verify (or name another event), by index in `revocations`. */
  readonly rejected: readonly { readonly index: number; readonly reasons: TicketReason[] }[];
  /** Numbers missing after the lowest `since` up to the highest listed: entries left out. */
  readonly gaps: number;
}

/**
 * Checks every entry of one or more feeds against the trusted keys. A revocation counts only for
 * the event and cluster of the feed it came in; an entry that fails is reported, never trusted.
 */
export async function checkFeeds(feeds: readonly unknown[], keys: TrustInput): Promise<FeedCheck> {
  const trusted = normalizeTrust(keys);
  const revoked = new Map<string, RevocationClaims>();
  const rejected: { index: number; reasons: TicketReason[] }[] = [];
  const seqs = new Set<number>();
  let index = 0;
  let from = REVOCATION_SEQ_MAX;
  for (const raw of feeds) {
    const feed = RevocationFeed.parse(raw);
    from = Math.min(from, feed.since);
    for (const doc of feed.revocations) {
      const v = await verifyRevocationWith(doc, trusted);
      if (!v.valid) rejected.push({ index, reasons: v.reasons });
      else if (v.claims.evt !== feed.eventId || v.claims.cid !== feed.clusterId) {
        const detail = `revocation of event ${v.claims.evt} in the feed of ${feed.eventId}`;
        rejected.push({ index, reasons: [{ code: "malformed", detail }] });
      } else {
        revoked.set(v.claims.tid, v.claims);
        if (v.claims.seq > feed.since) seqs.add(v.claims.seq);
      }
      index++;
    }
  }
  let top = 0;
  for (const n of seqs) top = Math.max(top, n);
  return { revoked, rejected, gaps: Math.max(0, top - Math.min(from, top) - seqs.size) };
}
