import { revocationPageKey } from "../../shared/domain/keys.ts";
import { QUORUM } from "../../shared/quorum/tally.ts";
import type { Revocation } from "../../shared/tickets/revocation.ts";
import {
  REVOCATION_FEED_FORMAT,
  type RevocationFeed,
} from "../../shared/tickets/revocation-feed.ts";
import {
  pageOfSeq,
  REVOCATION_PAGE_SIZE,
  type RevocationPage,
  signedRevocation,
} from "../../shared/tickets/revocation-log.ts";
import type { Services } from "./index.ts";
import { cosignEntries } from "./revocations.ts";

/** Pages one answer reads: 256 revocations, about 130 KB. */
export const FEED_PAGES_PER_ANSWER = 8;
/**
 * An entry still without a quorum of signatures this long after it was written is passed over:
 * honest providers refuse to sign an entry no refunded order yields (one a compromised provider
 * wrote), and it must not stop the feed. A younger one ends the answer there (`complete: false`),
 * so a reader asks again from it and misses nothing still being signed.
 */
export const PENDING_GRACE_S = 600;

/**
 * The co-signed revocations of `eventId` numbered after `since`, read through the quorum a page at
 * a time. Entries that lack signatures are signed on the way (a refund interrupted between its
 * append and its signatures is finished by the next reader).
 */
export async function readFeed(
  s: Services,
  eventId: string,
  since: number,
): Promise<RevocationFeed> {
  const cid = s.deps.cluster.clusterId;
  const nowS = Math.floor(s.now() / 1000);
  const revocations: Revocation[] = [];
  let next = since;
  const first = pageOfSeq(since + 1);
  for (let p = first; p < first + FEED_PAGES_PER_ANSWER; p++) {
    const page = await s.store.read<RevocationPage>(revocationPageKey(eventId, p));
    const entries = (page?.entries ?? []).filter((e) => e.seq > since);
    const lacking = entries.filter((e) => e.signatures.length < QUORUM);
    const signed = new Map(
      (lacking.length > 0 ? await cosignEntries(s, eventId, lacking) : []).map((r) => [
        r.entry.seq,
        r.revocation,
      ]),
    );
    for (const e of entries) {
      const r = signedRevocation(cid, eventId, e) ?? signed.get(e.seq);
      if (r !== undefined) revocations.push(r);
      else if (Math.abs(nowS - e.rat) < PENDING_GRACE_S) {
        return feedOf(cid, eventId, since, next, false, revocations);
      }
      next = e.seq;
    }
    if ((page?.entries.length ?? 0) < REVOCATION_PAGE_SIZE) {
      return feedOf(cid, eventId, since, next, true, revocations);
    }
  }
  return feedOf(cid, eventId, since, next, false, revocations);
}

function feedOf(
  clusterId: string,
  eventId: string,
  since: number,
  next: number,
  complete: boolean,
  revocations: Revocation[],
): RevocationFeed {
  return {
    format: REVOCATION_FEED_FORMAT,
    formatVersion: 1,
    clusterId,
    eventId,
    since,
    next,
    complete,
    revocations,
  };
}

/**
 * Every co-signed revocation of `eventId`, a page at a time, from this provider's copy (a
 * backup's snapshot of one store; an entry not yet co-signed is left out).
 */
export async function* signedRevocations(
  s: Services,
  eventId: string,
): AsyncGenerator<Revocation[]> {
  const cid = s.deps.cluster.clusterId;
  for (let p = 0; ; p++) {
    const page = await s.store.localGet<RevocationPage>(revocationPageKey(eventId, p));
    const entries = page?.entries ?? [];
    yield entries.flatMap((e) => signedRevocation(cid, eventId, e) ?? []);
    if (entries.length < REVOCATION_PAGE_SIZE) return;
  }
}
