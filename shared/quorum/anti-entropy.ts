import { type AcceptorPort, BATCH_KEYS_MAX, SCAN_LIMIT_DEFAULT } from "../storage/ports.ts";
import type { QuorumClient } from "./client.ts";
import type { AcceptorRecord } from "./messages.ts";

/**
 * Anti-entropy: every quorum operation already repairs the keys it touches (its accept writes the
 * chosen value to all three stores); this sweep finds the keys nobody touched since a store missed a
 * write (it was down, or it lost recent writes) and repairs them with an identity change, which
 * rewrites the chosen value on all three.
 */

/** Default number of keys compared per acceptor in one sweep: bounded so a sweep fits in one
 * scheduled function invocation. */
export const ANTI_ENTROPY_LIMIT_DEFAULT = 1_000;

export interface AntiEntropyResult {
  /** Distinct keys compared. */
  scanned: number;
  /** Keys whose accepted ballots differed, or that one acceptor lacked. */
  disagreeing: number;
  repaired: number;
  failed: number;
  /** Acceptors whose scan failed (their keys were not compared). */
  unreachable: number[];
  /** Where the next sweep should resume (`after`); absent when this sweep reached the end. */
  next?: string;
}

/**
 * Pure: keys whose records differ between acceptors. `scans[i]` is acceptor i's records (null when
 * it could not be scanned: then only the others are compared). A key counts as disagreeing when
 * two reachable acceptors hold different accepted ballots for it, a missing record counting as the
 * empty ballot. Keys beyond `upTo` are ignored: a truncated scan has not reached them yet.
 */
export function disagreeingKeys(
  scans: readonly (readonly AcceptorRecord[] | null)[],
  upTo?: string,
): string[] {
  const present = scans.filter((s): s is readonly AcceptorRecord[] => s !== null);
  const maps = present.map((s) => new Map(s.map((r) => [r.key, r.accepted])));
  const keys = new Set<string>();
  for (const s of present)
    for (const r of s) if (upTo === undefined || r.key <= upTo) keys.add(r.key);
  const out: string[] = [];
  for (const k of [...keys].sort()) {
    const ballots = new Set(maps.map((m) => m.get(k) ?? ""));
    if (ballots.size > 1) out.push(k);
  }
  return out;
}

/** Up to `limit` records of `prefix` from one acceptor, after `after`; `complete` when it reached
 * the end of the prefix. */
export async function scanUpTo(
  acceptor: AcceptorPort,
  prefix: string,
  limit: number,
  after?: string,
): Promise<{ records: AcceptorRecord[]; complete: boolean; learner: boolean }> {
  const records: AcceptorRecord[] = [];
  let cursor: string | undefined = after;
  let learner = false;
  do {
    const page = await acceptor.scan(prefix, {
      cursor,
      limit: Math.min(SCAN_LIMIT_DEFAULT, limit - records.length),
    });
    records.push(...page.records);
    if (page.learner) learner = true;
    cursor = page.cursor;
  } while (cursor !== undefined && records.length < limit);
  return { records, complete: cursor === undefined, learner };
}

/**
 * Only keys up to the smallest last key among truncated scans can be compared: past it, a key
 * missing from one scan may simply not have been reached. Undefined: every scan is complete.
 */
export function comparableUpTo(
  scans: readonly ({ records: readonly AcceptorRecord[]; complete: boolean } | null)[],
): string | undefined {
  let upTo: string | undefined;
  for (const s of scans) {
    if (s && !s.complete) {
      const last = s.records.at(-1)?.key;
      if (last !== undefined && (upTo === undefined || last < upTo)) upTo = last;
    }
  }
  return upTo;
}

export interface StoreScans {
  /** Per acceptor, up to `limit` records (null: its scan failed). */
  readonly scans: readonly (Awaited<ReturnType<typeof scanUpTo>> | null)[];
  readonly unreachable: number[];
  /** See comparableUpTo; undefined when every scan reached the end of the prefix. */
  readonly upTo: string | undefined;
  /** Every key some reachable acceptor holds, up to `upTo`, sorted. */
  readonly keys: string[];
}

/** The first step of every sweep (anti-entropy, rejoin walk, garbage collection): one slice of
 * `prefix` from each acceptor, and the keys that can be compared across them. */
export async function scanStores(
  acceptors: readonly AcceptorPort[],
  prefix: string,
  opts: { limit?: number; after?: string },
): Promise<StoreScans> {
  const limit = Math.max(1, opts.limit ?? ANTI_ENTROPY_LIMIT_DEFAULT);
  const scans = await Promise.all(
    acceptors.map((a) => scanUpTo(a, prefix, limit, opts.after).catch(() => null)),
  );
  const unreachable = scans.flatMap((s, i) => (s === null ? [i] : []));
  const upTo = comparableUpTo(scans);
  const all = new Set<string>();
  for (const s of scans)
    for (const r of s?.records ?? []) if (upTo === undefined || r.key <= upTo) all.add(r.key);
  return { scans, unreachable, upTo, keys: [...all].sort() };
}

export async function antiEntropy(
  client: QuorumClient,
  acceptors: readonly AcceptorPort[],
  prefix: string,
  opts: { limit?: number; after?: string } = {},
): Promise<AntiEntropyResult> {
  const { scans, unreachable, upTo, keys: all } = await scanStores(acceptors, prefix, opts);
  const keys = disagreeingKeys(
    scans.map((s) => s?.records ?? null),
    upTo,
  );
  let repaired = 0;
  let failed = 0;
  for (let i = 0; i < keys.length; i += BATCH_KEYS_MAX) {
    const batch = keys.slice(i, i + BATCH_KEYS_MAX);
    const out = await client.get(batch, { consistency: "quorum" });
    if (out.status === "ok") repaired += batch.length;
    else failed += batch.length;
  }
  const result = { scanned: all.length, disagreeing: keys.length, repaired, failed, unreachable };
  return upTo === undefined ? result : { ...result, next: upTo };
}
