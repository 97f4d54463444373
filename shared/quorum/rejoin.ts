import { type AcceptorPort, BATCH_KEYS_MAX } from "../storage/ports.ts";
import { scanStores } from "./anti-entropy.ts";
import type { QuorumClient } from "./client.ts";
import { ACCEPTOR_TIMEOUT_MS } from "./client.ts";
import { isReservedKey, type Membership } from "./membership.ts";
import type { AcceptorRecord } from "./messages.ts";
import { ACCEPTOR_COUNT } from "./tally.ts";

/**
 * The rejoin sweep: brings a store that may have lost writes (marked "rejoining", see
 * membership.ts) back to "member". While it is rejoining its yes does not count, so every change
 * that succeeds is accepted by BOTH other stores. The sweep runs an identity change on every key
 * found on any of the three stores (scanned after the mark): each one re-chooses the key's value
 * on both voting stores, at a ballot above every promise they hold, so from then on any two stores
 * include one that holds it and nothing the rejoining store forgot can be used against it. It then
 * checks that the rejoining store itself holds the key at that ballot or later (so the cluster is
 * back to three copies), retrying keys where it does not. Only a walk over the whole keyspace
 * with every key moved and all three stores scanned sets the store back to member.
 */

/** Identity changes per key before a walk gives up on it (it then restarts from the beginning). */
export const REJOIN_TRIES_MAX = 3;
/**
 * A walk starts this long after the mark: an accept sent before the restore whose ack the
 * rejoining store gave (and then forgot) may still be landing on a voting store, and a proposer
 * counts only acks that came back within its timeout. After that, every write a proposer counted
 * as chosen is on a voting store, where the scan finds it.
 */
export const REJOIN_DELAY_MS = 2 * ACCEPTOR_TIMEOUT_MS;

/** The rejoining store's membership record, read and written on that store alone. */
export interface MembershipAccess {
  read(): Promise<Membership>;
  markMember(epoch: number): Promise<boolean>;
}

/** Where a walk stands: persisted between slices (a scheduled call covers one slice). */
export interface RejoinProgress {
  readonly epoch: number;
  /** Last key of the previous slice; absent at the start of a walk. */
  readonly after?: string;
  /** No key failed and no store was unreachable so far in this walk. */
  readonly clean: boolean;
}

export interface RejoinSlice {
  scanned: number;
  /** Keys re-chosen and found on the rejoining store at that ballot or later. */
  moved: number;
  failed: number;
  unreachable: number[];
  next?: string;
}

export interface RejoinStep {
  readonly membership: Membership;
  /** What to hand the next step; null once the store is a member. */
  readonly progress: RejoinProgress | null;
  readonly slice?: RejoinSlice;
  /** This step set the store back to member. */
  readonly rejoined: boolean;
  /** The mark is too recent: nothing was done (see REJOIN_DELAY_MS). */
  readonly waiting?: boolean;
}

/** Pure: whether the rejoining store's record is at or above what both voting stores accepted
 * after the key was re-chosen (they both accepted that ballot, so their minimum is at least it). */
export function caughtUp(
  rejoining: AcceptorRecord | undefined,
  voters: readonly (AcceptorRecord | undefined)[],
): boolean {
  if (!rejoining || voters.some((v) => v === undefined)) return false;
  const [floor = ""] = voters.map((v) => v!.accepted).sort();
  return rejoining.accepted >= floor && floor !== "";
}

/** One slice of a walk: up to `limit` keys per store from `after`. */
export async function rejoinSlice(
  client: QuorumClient,
  acceptors: readonly AcceptorPort[],
  rejoining: number,
  opts: { limit?: number; after?: string } = {},
): Promise<RejoinSlice> {
  const { unreachable, upTo, keys: all } = await scanStores(acceptors, "", opts);
  // A store reached without its decorator still lists its own membership record: not a register.
  const keys = all.filter((k) => !isReservedKey(k));
  let moved = 0;
  let failed = 0;
  for (let i = 0; i < keys.length; i += BATCH_KEYS_MAX) {
    let pending = keys.slice(i, i + BATCH_KEYS_MAX);
    for (let t = 0; t < REJOIN_TRIES_MAX && pending.length > 0; t++) {
      const out = await client.get(pending, { consistency: "quorum" });
      if (out.status !== "ok") continue;
      const left = await notCaughtUp(acceptors, rejoining, pending);
      moved += pending.length - left.length;
      pending = left;
    }
    failed += pending.length;
  }
  const result = { scanned: keys.length, moved, failed, unreachable };
  return upTo === undefined ? result : { ...result, next: upTo };
}

async function notCaughtUp(
  acceptors: readonly AcceptorPort[],
  rejoining: number,
  keys: string[],
): Promise<string[]> {
  const reads = await Promise.all(acceptors.map((a) => a.read(keys).catch(() => null)));
  return keys.filter((_, k) => {
    const voters: (AcceptorRecord | undefined)[] = [];
    for (let a = 0; a < ACCEPTOR_COUNT; a++) if (a !== rejoining) voters.push(reads[a]?.[k]);
    return !caughtUp(reads[rejoining]?.[k], voters);
  });
}

/**
 * One step of the walk for the store at `rejoining`: nothing when it is a member; otherwise one
 * slice, and at the end of a clean walk the store back to member. A walk that was not clean
 * starts over; a new restore mark (another epoch) starts a new walk.
 */
export async function rejoinStep(
  client: QuorumClient,
  acceptors: readonly AcceptorPort[],
  rejoining: number,
  membership: MembershipAccess,
  progress: RejoinProgress | null,
  opts: { limit?: number; now: number; delayMs?: number },
): Promise<RejoinStep> {
  const m = await membership.read();
  if (m.state === "member") return { membership: m, progress: null, rejoined: false };
  const fresh: RejoinProgress = { epoch: m.epoch, clean: true };
  const p = progress?.epoch === m.epoch ? progress : fresh;
  if (m.markedAtMs !== undefined && opts.now < m.markedAtMs + (opts.delayMs ?? REJOIN_DELAY_MS)) {
    return { membership: m, progress: p, rejoined: false, waiting: true };
  }
  const slice = await rejoinSlice(client, acceptors, rejoining, {
    ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
    ...(p.after !== undefined ? { after: p.after } : {}),
  });
  const clean = p.clean && slice.failed === 0 && slice.unreachable.length === 0;
  if (slice.next !== undefined) {
    return {
      membership: m,
      progress: { epoch: m.epoch, after: slice.next, clean },
      slice,
      rejoined: false,
    };
  }
  if (!clean) return { membership: m, progress: fresh, slice, rejoined: false };
  const rejoined = await membership.markMember(m.epoch);
  const after = await membership.read();
  return { membership: after, progress: rejoined ? null : fresh, slice, rejoined };
}
