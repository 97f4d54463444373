import type { AcceptorPort } from "../storage/ports.ts";
import { counterOf, encodeBallot } from "./ballot.ts";
import type {
  AcceptEntry,
  AcceptorRecord,
  AcceptReply,
  DeleteEntry,
  DeleteReply,
  PrepareReply,
  PrepareRequest,
  ScanPage,
} from "./messages.ts";

/**
 * Membership of one store in the cluster, kept IN that store so that a restore which rolls the
 * store back also rolls this record back (the operator then marks it again; see docs/quorum.md,
 * "Acceptor amnesia"). A store that may have lost writes is "rejoining": it keeps applying the
 * acceptor rules, but its replies say it does not vote (`learner`), until a rejoin sweep has
 * re-chosen every key with both other stores voting, and sets it back to "member".
 */
export type MemberState = "member" | "rejoining";

export interface Membership {
  readonly state: MemberState;
  /** Bumped by every restore mark, so a sweep started for one restore cannot end another's. */
  readonly epoch: number;
  /** When the store was marked restored (the marking instance's clock); see REJOIN_DELAY_MS. */
  readonly markedAtMs?: number;
  /** The operator's name for the restore it was marked for (TESSERA_STORE_RESTORE), if any. */
  readonly restore?: string;
}

/** Reserved key of the membership record: outside every prefix the product writes or scans
 * (shared/domain/keys.ts), hidden from scans and refused to proposers by MembershipAcceptor. */
export const MEMBER_KEY = "sys/member";
const RESERVED_PREFIX = "sys/";
/** An absent record means member: existing deployments and fresh clusters keep working. */
export const MEMBER: Membership = { state: "member", epoch: 0 };
/** Proposer id of the membership record's ballots (no real proposer may be called this: they are
 * `<provider>-<tag>`). */
const MEMBER_WRITER = "membership";
/**
 * How long a decorator trusts the membership it last read. A mark takes this long to reach every
 * instance of the provider, so the operator marks a restored store before it serves again (or
 * keeps its traffic off this long after marking). Short, because every prepare and accept of the
 * store pays one extra read per this interval.
 */
export const MEMBERSHIP_CACHE_MS = 1_000;
/** Compare-and-set retries when two operators (or a sweep and an operator) write the record at once. */
const MARK_TRIES_MAX = 5;

export function isReservedKey(key: string): boolean {
  return key.startsWith(RESERVED_PREFIX);
}

/** Parses a stored membership record; anything unreadable counts as rejoining (never as voting). */
export function parseMembership(rec: AcceptorRecord | undefined): Membership {
  if (!rec || rec.value === null) return MEMBER;
  try {
    const m = JSON.parse(rec.value) as Partial<Membership>;
    if ((m.state === "member" || m.state === "rejoining") && Number.isSafeInteger(m.epoch)) {
      return {
        state: m.state,
        epoch: m.epoch as number,
        ...(typeof m.markedAtMs === "number" ? { markedAtMs: m.markedAtMs } : {}),
        ...(typeof m.restore === "string" ? { restore: m.restore } : {}),
      };
    }
  } catch {}
  return { state: "rejoining", epoch: counterOf(rec.accepted) };
}

/**
 * Pure: the membership a store acts on. A deployment configured with a restore name
 * (TESSERA_STORE_RESTORE) whose store was not yet marked for that restore does not vote: so a
 * deploy that points a provider at a restored copy, with a new name, keeps the copy out of every
 * quorum from its first request, before anyone could mark it.
 */
export function effectiveMembership(m: Membership, restore?: string): Membership {
  if (restore === undefined || m.restore === restore) return m;
  return { state: "rejoining", epoch: m.epoch };
}

/** Pure: a reply as a store in state `m` sends it (a rejoining store's replies say it does not vote). */
export function asMember<R extends object>(reply: R, m: Membership): R {
  return m.state === "rejoining" ? { ...reply, learner: true as const } : reply;
}

/**
 * Writes the membership record straight onto one store (never through a quorum: it describes that
 * store alone). The record is a register only this code writes, at ballots counting up, so the
 * acceptor's own compare-on-ballot rule is the compare-and-set.
 */
export class MembershipControl {
  constructor(private readonly store: AcceptorPort) {}

  async read(): Promise<Membership> {
    const [rec] = await this.store.read([MEMBER_KEY]);
    return parseMembership(rec);
  }

  /** Marks the store restored: rejoining under a new epoch, as of `nowMs`. Returns it. */
  markRestored(nowMs: number, restore?: string): Promise<Membership> {
    return this.update((cur) => ({
      state: "rejoining",
      epoch: cur.epoch + 1,
      markedAtMs: nowMs,
      ...(restore !== undefined ? { restore } : {}),
    }));
  }

  /** Back to member, only if the store is still rejoining under `epoch` (no restore since). */
  async markMember(epoch: number): Promise<boolean> {
    const m = await this.update((cur) =>
      cur.state === "rejoining" && cur.epoch === epoch ? { ...cur, state: "member" } : null,
    );
    return m.state === "member" && m.epoch === epoch;
  }

  private async update(f: (cur: Membership) => Membership | null): Promise<Membership> {
    for (let i = 0; i < MARK_TRIES_MAX; i++) {
      const [rec] = await this.store.read([MEMBER_KEY]);
      const cur = parseMembership(rec);
      const next = f(cur);
      if (next === null) return cur;
      const ballot = encodeBallot({
        counter: counterOf(rec?.accepted ?? "") + 1,
        proposer: MEMBER_WRITER,
      });
      const entry: AcceptEntry = { key: MEMBER_KEY, ballot, value: JSON.stringify(next) };
      const [reply] = await this.store.accept([entry]);
      if (reply?.ok) return next;
    }
    throw new Error("membership record: too many concurrent updates");
  }
}

/**
 * The store side of the rule: wraps one provider's own store (both the in-process coordinator and
 * the internal endpoint peers call go through it), tags every reply with the store's membership,
 * read from the record with a short cache, hides the record from scans and refuses it to proposers.
 */
export class MembershipAcceptor implements AcceptorPort {
  private cached: { m: Membership; at: number } | null = null;

  constructor(
    readonly inner: AcceptorPort,
    private readonly now: () => number,
    private readonly opts: { cacheMs?: number; restore?: string } = {},
  ) {}

  /** The restore name this deployment was configured with (TESSERA_STORE_RESTORE), if any. */
  get restore(): string | undefined {
    return this.opts.restore;
  }

  /** Forgets the cached membership (after this instance marked the store). */
  invalidate(): void {
    this.cached = null;
  }

  async membership(): Promise<Membership> {
    const t = this.now();
    const cacheMs = this.opts.cacheMs ?? MEMBERSHIP_CACHE_MS;
    if (this.cached && t - this.cached.at < cacheMs && t >= this.cached.at) return this.cached.m;
    const [rec] = await this.inner.read([MEMBER_KEY]);
    const m = effectiveMembership(parseMembership(rec), this.opts.restore);
    this.cached = { m, at: t };
    return m;
  }

  async prepare(req: PrepareRequest): Promise<PrepareReply[]> {
    refuseReserved(req.keys);
    // Membership is read before the store call: a mark that lands in between only makes this
    // reply the last one counted, like any reply that left just before the mark.
    const m = await this.membership();
    return (await this.inner.prepare(req)).map((r) => asMember(r, m));
  }

  async accept(entries: readonly AcceptEntry[]): Promise<AcceptReply[]> {
    refuseReserved(entries.map((e) => e.key));
    const m = await this.membership();
    return (await this.inner.accept(entries)).map((r) => asMember(r, m));
  }

  async read(keys: readonly string[]): Promise<AcceptorRecord[]> {
    const m = await this.membership();
    return (await this.inner.read(keys)).map((r) => asMember(r, m));
  }

  async scan(prefix: string, opts?: { cursor?: string; limit?: number }): Promise<ScanPage> {
    const m = await this.membership();
    const page = await this.inner.scan(prefix, opts);
    const records = page.records.filter((r) => !isReservedKey(r.key));
    return asMember({ ...page, records }, m);
  }

  /** Garbage collection never deletes on a rejoining store (its records prove nothing yet). */
  async deleteIf(entries: readonly DeleteEntry[]): Promise<DeleteReply[]> {
    refuseReserved(entries.map((e) => e.key));
    const m = await this.membership();
    if (m.state !== "member") return entries.map((e) => ({ ok: false, key: e.key }));
    return this.inner.deleteIf(entries);
  }

  ping(): Promise<void> {
    return this.inner.ping();
  }
}

function refuseReserved(keys: readonly string[]): void {
  const k = keys.find(isReservedKey);
  if (k !== undefined) throw new RangeError(`reserved key: ${k}`);
}
