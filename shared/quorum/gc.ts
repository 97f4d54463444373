import { type AcceptorPort, BATCH_KEYS_MAX } from "../storage/ports.ts";
import { scanStores } from "./anti-entropy.ts";
import { counterOf, maxBallot } from "./ballot.ts";
import type { QuorumClient } from "./client.ts";
import { type AcceptorRecord, type DeleteEntry, emptyRecord } from "./messages.ts";
import { CHANGE_LIFETIME_MS, WARM_TTL_MS } from "./proposer.ts";
import { ACCEPTOR_COUNT, QUORUM } from "./tally.ts";

/**
 * Garbage collection of dead records (docs/quorum.md, "Deleting dead records"; decision record
 * docs/decisions/0005-deleting-dead-records.md). A record is dead once a change wrote the value
 * null to it (a tombstone: the product decides which records die, by writing null through an
 * ordinary change). Reading a tombstone and reading a key that was never written give the same
 * null, so deleting a tombstone changes nothing any reader can see, PROVIDED nothing that knew the
 * record before can act on the key after the deletion. An acceptor that deletes a record forgets
 * its promised and accepted ballots, which are what refuse a stale accept, and a proposer whose
 * accept was chosen and then deleted would find "" everywhere and "prove" it never landed.
 *
 * So a tombstone is deleted only when (1) all three acceptors hold it at the same accepted ballot
 * (on two, the third may still hold an older live value that a later prepare would adopt), and (2)
 * its newest ballot on any of the three (promised or accepted) is older than GC_RETENTION_MS.
 * Ballot counters are floored by the allocating coordinator's clock (allocator.ts), so a ballot's
 * counter is at least the time (on that clock) it was handed out: every change that ever touched
 * the key, and every warm promise it left, is older than that. Changes end CHANGE_LIFETIME_MS after
 * they start, warm promises are spent at most WARM_TTL_MS after they are stored, and peer calls die
 * SIGNATURE_MAX_AGE_S after they are signed; the retention exceeds all of that together plus the
 * clocks' skew. Each deleteIf also names the promise it saw, so a change that prepares after the
 * collector looked keeps its promise and its record.
 */

/** Largest difference between two coordinators' clocks the retention allows for, including an NTP
 * step: the seat service's skew margin (SKEW_MARGIN_MS, shared/seats/changes.ts). */
export const CLOCK_SKEW_MAX_MS = 5_000;
/** How long a peer call may take from signing to being served (SIGNATURE_MAX_AGE_S,
 * shared/crypto/http-signature.ts, checked by functions/peers/verify-peer.ts). */
export const MESSAGE_AGE_MAX_MS = 30_000;

export interface Lifetimes {
  readonly changeLifetimeMs: number;
  readonly warmTtlMs: number;
  readonly messageAgeMaxMs: number;
  readonly clockSkewMaxMs: number;
}

/**
 * The least retention that is safe with these lifetimes. From the newest ballot's counter c (a
 * time on the clock of the coordinator that allocated it, at most one skew behind true time): the
 * change that allocated it started before c and ends one lifetime after its start; a warm promise
 * it stored (at most one lifetime after c) is spent at most one warm TTL later by a change that
 * runs one more lifetime; the last message of that change is served at most one message age
 * later. The collector's own clock may be one more skew off.
 */
export function minimumRetention(l: Lifetimes): number {
  return 2 * l.changeLifetimeMs + l.warmTtlMs + l.messageAgeMaxMs + 2 * l.clockSkewMaxMs;
}

export const PRODUCTION_LIFETIMES: Lifetimes = {
  changeLifetimeMs: CHANGE_LIFETIME_MS,
  warmTtlMs: WARM_TTL_MS,
  messageAgeMaxMs: MESSAGE_AGE_MAX_MS,
  clockSkewMaxMs: CLOCK_SKEW_MAX_MS,
};

/**
 * One day: minimumRetention(PRODUCTION_LIFETIMES) is under four minutes, and the rest is margin
 * for what the lifetimes cannot bound, an instance frozen (AWS Lambda, Vercel) between deciding to
 * call its own store and the call leaving (docs/quorum.md). Dead records cost little meanwhile.
 */
export const GC_RETENTION_MS = 24 * 60 * 60 * 1000;

export interface GcPlan {
  /** Per acceptor, the deleteIf entries to send it. */
  readonly deletes: DeleteEntry[][];
  /** Tombstones not yet on all three at one ballot: an identity change copies them there. */
  readonly rewrite: string[];
  /** Tombstones on all three, younger than the retention. */
  readonly waiting: string[];
  /** Keys compared. */
  readonly scanned: number;
}

export interface PlanOptions {
  readonly now: number;
  readonly retentionMs: number;
  /** Keys beyond it are not compared (a truncated scan has not reached them). */
  readonly upTo?: string;
  /** Simulator only (the `gc-2of3` break): delete once a quorum holds the tombstone. */
  readonly deleteOnTwo?: boolean;
}

/**
 * Pure: what to do with each key, from all three acceptors' scans. A key is a tombstone when the
 * record with the highest accepted ballot holds null (a live value at a lower ballot elsewhere is
 * a store that missed the deletion). Keys whose records only hold promises are rewritten too: an
 * identity change turns them into tombstones at a ballot.
 */
export function planGc(scans: readonly (readonly AcceptorRecord[])[], o: PlanOptions): GcPlan {
  const maps = scans.map((s) => new Map(s.map((r) => [r.key, r])));
  const keys = new Set<string>();
  for (const s of scans)
    for (const r of s) if (o.upTo === undefined || r.key <= o.upTo) keys.add(r.key);
  const plan: GcPlan = {
    deletes: scans.map(() => []),
    rewrite: [],
    waiting: [],
    scanned: keys.size,
  };
  for (const key of [...keys].sort()) {
    const recs = maps.map((m) => m.get(key) ?? emptyRecord(key));
    const top = recs.reduce((a, r) => (r.accepted > a.accepted ? r : a));
    if (top.value !== null) continue;
    if (top.accepted === "") {
      plan.rewrite.push(key);
      continue;
    }
    const holding = recs.flatMap((r, i) =>
      r.accepted === top.accepted && r.value === null ? [i] : [],
    );
    const enough = o.deleteOnTwo ? holding.length >= QUORUM : holding.length === ACCEPTOR_COUNT;
    if (!enough) {
      plan.rewrite.push(key);
      continue;
    }
    const newest = recs.reduce((b, r) => maxBallot(b, maxBallot(r.promised, r.accepted)), "");
    if (o.now - counterOf(newest) <= o.retentionMs) {
      plan.waiting.push(key);
      continue;
    }
    for (const i of holding) {
      const r = recs[i]!;
      plan.deletes[i]!.push({ key, accepted: r.accepted, promised: r.promised });
    }
  }
  return plan;
}

export interface GcResult {
  scanned: number;
  /** Keys deleted from all three acceptors in this pass. */
  deleted: number;
  /** Keys some acceptor kept (touched since the scan, or its call failed): retried next pass. */
  kept: number;
  /** Tombstones copied to all three by an identity change (deleted by a later pass). */
  rewritten: number;
  waiting: number;
  failed: number;
  /** A store is rejoining (marked restored): nothing is deleted until it is a member again. */
  rejoining?: true;
  /** Acceptors whose scan failed: nothing is deleted without all three. */
  unreachable: number[];
  /** Where the next pass should resume (`after`); absent when this pass reached the end. */
  next?: string;
}

export interface GcOptions {
  /** The collector's clock (ms since the epoch). */
  readonly now: number;
  readonly retentionMs?: number;
  readonly limit?: number;
  readonly after?: string;
  readonly deleteOnTwo?: boolean;
}

/** One garbage-collection pass over `prefix`, like an anti-entropy sweep (anti-entropy.ts). */
export async function collectGarbage(
  client: QuorumClient,
  acceptors: readonly AcceptorPort[],
  prefix: string,
  o: GcOptions,
): Promise<GcResult> {
  const { scans, unreachable, upTo } = await scanStores(acceptors, prefix, o);
  const result: GcResult = {
    scanned: 0,
    deleted: 0,
    kept: 0,
    rewritten: 0,
    waiting: 0,
    failed: 0,
    unreachable,
  };
  const complete = scans.filter((s) => s !== null);
  if (complete.length !== ACCEPTOR_COUNT) return result;
  // A rejoining store may have forgotten what it acknowledged: its records prove nothing about
  // what was chosen, so nothing is deleted until it is a member again (docs/quorum.md).
  if (complete.some((s) => s.learner)) {
    result.rejoining = true;
    return result;
  }
  const plan = planGc(
    complete.map((s) => s.records),
    {
      now: o.now,
      retentionMs: o.retentionMs ?? GC_RETENTION_MS,
      ...(upTo !== undefined ? { upTo } : {}),
      ...(o.deleteOnTwo ? { deleteOnTwo: true } : {}),
    },
  );
  result.scanned = plan.scanned;
  result.waiting = plan.waiting.length;
  const gone = new Map<string, number>();
  await Promise.all(
    acceptors.map(async (a, i) => {
      const entries = plan.deletes[i] ?? [];
      for (let j = 0; j < entries.length; j += BATCH_KEYS_MAX) {
        const batch = entries.slice(j, j + BATCH_KEYS_MAX);
        const replies = await a.deleteIf(batch).catch(() => []);
        for (const r of replies) if (r.ok) gone.set(r.key, (gone.get(r.key) ?? 0) + 1);
      }
    }),
  );
  const targets = new Map<string, number>();
  for (const entries of plan.deletes)
    for (const e of entries) targets.set(e.key, (targets.get(e.key) ?? 0) + 1);
  for (const [key, n] of targets) {
    if ((gone.get(key) ?? 0) === n) result.deleted++;
    else result.kept++;
  }
  for (let i = 0; i < plan.rewrite.length; i += BATCH_KEYS_MAX) {
    const batch = plan.rewrite.slice(i, i + BATCH_KEYS_MAX);
    const out = await client.get(batch, { consistency: "quorum" });
    if (out.status === "ok") result.rewritten += batch.length;
    else result.failed += batch.length;
  }
  return upTo === undefined ? result : { ...result, next: upTo };
}
