import { BallotAllocator } from "./allocator.ts";
import { maxBallot } from "./ballot.ts";
import type { PromiseCache } from "./cache.ts";
import type {
  AcceptEntry,
  AcceptReply,
  BallotString,
  PrepareReply,
  PrepareRequest,
} from "./messages.ts";
import { ATTEMPTS_PER_RUN } from "./retry-budget.ts";
import { ACCEPTOR_COUNT, QUORUM, type Tally, tally, tallyBatch } from "./tally.ts";

/**
 * One CASPaxos change over a batch of keys, as a deterministic state machine (etcd-raft style): it
 * never does I/O, never reads a clock and never draws a random number. The caller feeds it replies
 * (or failures), the current time and a random number, and carries out the effects it returns.
 *
 * Outcome rules (see docs/quorum.md for the reasoning):
 * - ok: every key got two accepts at one ballot from voting stores (not from a rejoining one).
 * - aborted: f declined; the values it saw were confirmed by writing them back (so the read that
 *   justified the abort is linearizable), nothing else was written.
 * - unavailable: no accept carrying a new value was ever sent. Safe to report as "not done".
 * - unknown: a new value was sent, so it may sit on some acceptor and may still become (or already
 *   be) chosen, even after two refusals (a later proposer can pick up a minority value and carry
 *   it forward). Not even three refusals prove it absent: a duplicated delivery can be refused
 *   after the first one landed, was read by a higher prepare and overwritten by its accept.
 *   The proposer retries such a change by re-proposing the SAME values while every key still
 *   shows either our ballot or the ballot we read (f is never applied twice), and runs f afresh
 *   only once a prepare answered by all three acceptors proves the earlier accepts landed nowhere
 *   (provenAbsent: accepted ballots below the `next` fence we sent). Otherwise: unknown.
 */

export type ChangeResult<T> =
  | { readonly values: readonly (T | null)[]; readonly result?: unknown }
  | { readonly abort: unknown };

/** An acceptor's `attest` for one key, from an accept that counted toward the change's quorum. */
export interface Attested {
  readonly acceptor: number;
  readonly key: string;
  readonly attest: unknown;
}

export type ChangeOutcome<T> =
  | {
      readonly status: "ok";
      readonly values: (T | null)[];
      readonly result: unknown;
      /** Attestations in the accept replies that decided it (absent when there were none). */
      readonly attested?: readonly Attested[];
    }
  | { readonly status: "aborted"; readonly reason: unknown; readonly values: (T | null)[] }
  | { readonly status: "unknown"; readonly reason: string }
  | { readonly status: "unavailable"; readonly reason: string };

/**
 * What a change function may know about the values it is given besides the values themselves.
 * `chosen[j]`: key j's value is proven chosen, not merely the highest accepted one: two voting
 * stores of this prepare reported it at one ballot, or (warm path) this coordinator's own last
 * change of the key won with it. A value that is not proven may be a lone acceptance that no
 * later reader will see; a function that must build on a value being durable (a sale on its seat
 * locks) checks this and aborts instead.
 */
export interface ChangeView {
  readonly chosen: readonly boolean[];
}

/** `view` is always given by the proposer; optional so a function can be called bare in tests. */
export type ChangeFn<T> = (current: (T | null)[], view?: ChangeView) => ChangeResult<T>;

export interface ProposerOptions {
  readonly maxAttempts: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  /** Two of three. Settable only so the simulator can prove that a quorum of one is unsafe. */
  readonly quorum: number;
  /** Only the simulator sets this (the `adopt-highest` break): a prepare round adopts the value of
   * the lowest-indexed acceptor that granted it instead of the highest-ballot one, to prove the
   * checker notices. */
  readonly adoptFirstRead?: boolean;
  /** Only the simulator sets this (the `prime-forgets` break): a prime keeps its ballot's promise
   * but not the value its prepare read, so the change that spends it builds on an empty one. */
  readonly primeForgets?: boolean;
  /** A change older than this (ctx.now − its start) sends nothing more and ends: see
   * CHANGE_LIFETIME_MS. */
  readonly changeLifetimeMs: number;
  /** A warm promise cached longer ago than this is not used: see WARM_TTL_MS. */
  readonly warmTtlMs: number;
}

/** Attempts per change before it reports contention: the budget's share (retry-budget.ts). */
export const MAX_ATTEMPTS_DEFAULT = ATTEMPTS_PER_RUN;
/**
 * Backoff starts at the time the lost attempt took (at least one store round trip): a competitor
 * mid-way through its own attempt needs about that long to finish, and backing off for less only
 * pre-empts it again (duelling proposers over WAN links livelock with a fixed 10 ms base). It
 * doubles per attempt up to a few cross-cloud round trips.
 */
export const BACKOFF_BASE_MS = 10;
export const BACKOFF_MAX_MS = 1_000;

/**
 * Bounded lifetimes are what make deleting a dead record safe (docs/quorum.md, "Deleting dead
 * records"): an acceptor that deletes a record forgets its ballots, so nothing that predates the
 * deletion may act on the key afterwards. A change stops sending once it is this old (its own
 * clock), and a cached promise stops being spent once it is this old; the garbage collector waits
 * far longer than both (GC_RETENTION_MS) after the record was last touched. A minute is far beyond
 * any healthy change (6 attempts, backoff capped at 1 s, 2 s store timeouts: about 15 s worst case)
 * and a warm promise only saves one round trip.
 */
export const CHANGE_LIFETIME_MS = 60_000;
export const WARM_TTL_MS = 60_000;

/**
 * The `next` promise skips one counter value above our last ballot: a competitor that was refused
 * by our current promise retries one counter above it, and the gap keeps it below our next fence.
 */
const NEXT_GAP = 2;

export const DEFAULT_PROPOSER_OPTIONS: ProposerOptions = {
  maxAttempts: MAX_ATTEMPTS_DEFAULT,
  backoffBaseMs: BACKOFF_BASE_MS,
  backoffMaxMs: BACKOFF_MAX_MS,
  quorum: QUORUM,
  changeLifetimeMs: CHANGE_LIFETIME_MS,
  warmTtlMs: WARM_TTL_MS,
};

/** What the caller hands in with every step: shared ballot/caches, time and one random number. */
export interface ProposerContext {
  readonly allocator: BallotAllocator;
  readonly cache: PromiseCache;
  readonly now: number;
  /** Uniform in [0, 1). */
  readonly random: number;
}

export type ProposerEvent =
  | {
      readonly type: "prepared";
      readonly attempt: number;
      readonly acceptor: number;
      readonly replies: readonly PrepareReply[];
    }
  | {
      readonly type: "accepted";
      readonly attempt: number;
      readonly acceptor: number;
      readonly replies: readonly AcceptReply[];
    }
  | {
      readonly type: "failed";
      readonly attempt: number;
      readonly acceptor: number;
      readonly phase: "prepare" | "accept";
      readonly error: string;
    }
  | { readonly type: "woke"; readonly attempt: number };

export type ProposerEffect<T> =
  | {
      readonly type: "prepare";
      readonly attempt: number;
      readonly acceptor: number;
      readonly request: PrepareRequest;
    }
  | {
      readonly type: "accept";
      readonly attempt: number;
      readonly acceptor: number;
      readonly entries: readonly AcceptEntry[];
    }
  | { readonly type: "sleep"; readonly attempt: number; readonly ms: number }
  | { readonly type: "done"; readonly outcome: ChangeOutcome<T> };

/** The value of one key as the proposer last saw it: its accepted ballot and JSON text. */
interface Read {
  readonly ballot: BallotString;
  readonly raw: string | null;
  /** Proven chosen (see ChangeView). */
  readonly chosen?: boolean;
}

interface Proposal<T> {
  readonly raws: readonly (string | null)[];
  readonly values: readonly (T | null)[];
  readonly result: unknown;
  /** Set when f declined: raws are then the values read, written back unchanged. */
  readonly abort?: { readonly reason: unknown; readonly current: (T | null)[] };
  readonly changesSomething: boolean;
}

/** A proposal with a new value that may have landed on an acceptor. */
interface Taint<T> {
  readonly proposal: Proposal<T>;
  /** Per key, every ballot we sent this proposal with. */
  readonly ours: Set<BallotString>[];
  /**
   * Per key, the lowest "fence" of the accepts sent: max(ballot, next) of each. An acceptor that
   * stored one of them reports, from then on, that ballot or an accepted ballot at or above its
   * fence (see provenAbsent).
   */
  readonly fence: BallotString[];
  /** Per key, the accepted ballot of the value f was applied to. */
  readonly readBallots: readonly BallotString[];
  /** Per key, whether the proposal changes the value (only those keys can carry f's effect). */
  readonly changed: readonly boolean[];
}

/**
 * "learner": a yes from a store that is rejoining after it may have lost writes (the reply's
 * `learner` flag). It is not counted toward the quorum (so a change then needs both voting
 * stores), and what it reports is not taken as the current value, but it is evidence in
 * provenAbsent: our earlier accept may have landed there.
 */
type Vote = "yes" | "learner" | "no" | "failed";
/**
 * Outcome of checking that earlier accepts landed nowhere: proven; disproved (an acceptor shows
 * ours, or a ballot at or above the fence, which stays so); or not known yet because an acceptor
 * refused the prepare or did not answer.
 */
type Proof = "proven" | "disproved" | "refused" | "unanswered";
type Phase = "idle" | "prepare" | "accept" | "sleep" | "done";

export function serialize(v: unknown): string | null {
  return v === null || v === undefined ? null : JSON.stringify(v);
}

export function parseValue<T>(raw: string | null): T | null {
  return raw === null ? null : (JSON.parse(raw) as T);
}

export function backoffMs(
  attempt: number,
  random: number,
  opts: ProposerOptions,
  attemptMs = 0,
): number {
  const base = Math.max(opts.backoffBaseMs, Math.min(attemptMs, opts.backoffMaxMs));
  const ceiling = Math.min(opts.backoffMaxMs, base * 2 ** Math.max(0, attempt - 1));
  // "Equal jitter": at least half the ceiling so retries spread out, never zero.
  return Math.max(1, Math.round(ceiling * (0.5 + 0.5 * random)));
}

/**
 * "change": prepare (unless warm), then f, then accept. "prime": the prepare alone, for keys a
 * change will soon need. Its promised ballot and the current value it read (the highest accepted
 * among the voting quorum, and whether it is proven chosen) go into the warm cache. That is the
 * state a change holds between its own prepare and accept, so the change that takes the entry
 * goes straight to accept: phase 2 of the same ballot, later. The cache's lifetime bounds how
 * much later, and a higher ballot promised meanwhile refuses it, as it would any accept.
 */
export type ProposerMode = "change" | "prime";

export class Proposer<T> {
  private phase: Phase = "idle";
  private attempt = 0;
  /** Per-key ballot of the current attempt (equal for all keys except on the warm path). */
  private ballots: BallotString[] = [];
  private next: BallotString | null = null;
  private replied: boolean[] = [];
  private votes: (Vote | undefined)[][] = [];
  private reads: (Read | undefined)[][] = [];
  /** Per acceptor, per key: the `attest` of its accept reply in this round. */
  private attests: unknown[][] = [];
  private proposal: Proposal<T> | null = null;
  private taint: Taint<T> | null = null;
  private highestConflict: BallotString = "";
  private sawRefusal = false;
  private won: AcceptEntry[] | null = null;
  /** When the current attempt began (ctx.now), to size the backoff after it. */
  private attemptStartedAt = 0;
  /** When the change began (ctx.now), for its lifetime. */
  private startedAt = 0;

  constructor(
    readonly keys: readonly string[],
    private readonly f: ChangeFn<T>,
    private readonly opts: ProposerOptions = DEFAULT_PROPOSER_OPTIONS,
    private readonly mode: ProposerMode = "change",
  ) {}

  /**
   * After a won change that changed something: what a quorum accepted, per key (ballot and JSON
   * text), for the audit log's "commit" entries. Null otherwise (lost, aborted, identity).
   */
  get chosen(): readonly AcceptEntry[] | null {
    return this.won;
  }

  start(ctx: ProposerContext): ProposerEffect<T>[] {
    if (this.phase !== "idle") return [];
    this.attempt = 1;
    this.attemptStartedAt = ctx.now;
    this.startedAt = ctx.now;
    const warm = ctx.cache.freshFor(this.keys, ctx.now, this.opts.warmTtlMs);
    if (warm) {
      if (this.mode === "prime")
        return this.finish({ status: "ok", values: [], result: undefined });
      const entries = this.keys.map((k) => ctx.cache.take(k)!);
      this.ballots = entries.map((e) => e.ballot);
      // Our own last change of these keys won with these values (chosen), or a prime read them.
      return this.propose(
        ctx,
        entries.map((e) => ({ ballot: e.accepted, raw: e.value, chosen: e.chosen !== false })),
      );
    }
    return this.beginPrepare(ctx, 0);
  }

  step(event: ProposerEvent, ctx: ProposerContext): ProposerEffect<T>[] {
    if (this.phase === "done" || event.attempt !== this.attempt) return [];
    if (this.expired(ctx)) {
      for (const k of this.keys) ctx.cache.delete(k);
      return this.finish(
        this.taint
          ? { status: "unknown", reason: "the change outlived its lifetime after sending accepts" }
          : { status: "unavailable", reason: "the change outlived its lifetime" },
      );
    }
    switch (event.type) {
      case "woke":
        if (this.phase !== "sleep") return [];
        this.attempt += 1;
        return this.beginPrepare(ctx, BallotAllocator.floorAbove(this.highestConflict));
      case "prepared":
        if (this.phase !== "prepare" || !this.firstReply(event.acceptor)) return [];
        this.recordPrepare(event.acceptor, event.replies);
        return this.evaluatePrepare(ctx);
      case "accepted":
        if (this.phase !== "accept" || !this.firstReply(event.acceptor)) return [];
        this.recordAccept(event.acceptor, event.replies);
        return this.evaluateAccept(ctx);
      case "failed":
        if (this.phase !== event.phase || !this.firstReply(event.acceptor)) return [];
        this.votes[event.acceptor] = this.keys.map(() => "failed");
        return this.phase === "prepare" ? this.evaluatePrepare(ctx) : this.evaluateAccept(ctx);
    }
  }

  /**
   * Past its lifetime a change must not send anything more (a record may have been deleted
   * meanwhile, and with it the promises that would have refused a stale accept), nor conclude
   * anything from what it reads (provenAbsent would "prove" a chosen-then-deleted value absent).
   * The age is measured both ways: a clock stepped back shortens it, which the garbage
   * collector's retention allows for with the clock-step bound.
   */
  private expired(ctx: ProposerContext): boolean {
    return Math.abs(ctx.now - this.startedAt) > this.opts.changeLifetimeMs;
  }

  private firstReply(acceptor: number): boolean {
    // Duplicated or late replies from the same acceptor are ignored: each acceptor votes once.
    // (An index outside 0..2 needs no guard: the tallies and proofs read acceptors 0..2 only.)
    if (this.replied[acceptor]) return false;
    this.replied[acceptor] = true;
    return true;
  }

  private resetRound(phase: Phase): void {
    this.phase = phase;
    this.replied = [false, false, false];
    this.votes = [[], [], []];
    this.reads = [[], [], []];
    this.attests = [[], [], []];
  }

  private beginPrepare(ctx: ProposerContext, floor: number): ProposerEffect<T>[] {
    // The wall clock is a floor for the counter so that a fresh instance starts near the ballots
    // its peers use instead of climbing there one refusal at a time.
    const ballot = ctx.allocator.allocate(floor, ctx.now);
    if (ballot === null)
      return this.finish({ status: "unavailable", reason: "ballot space exhausted" });
    for (const k of this.keys) ctx.cache.delete(k);
    this.attemptStartedAt = ctx.now;
    this.ballots = this.keys.map(() => ballot);
    this.resetRound("prepare");
    const request: PrepareRequest = { keys: this.keys, ballot };
    return [0, 1, 2].map((acceptor) => ({
      type: "prepare" as const,
      attempt: this.attempt,
      acceptor,
      request,
    }));
  }

  private noteConflict(conflict: BallotString): void {
    this.sawRefusal = true;
    this.highestConflict = maxBallot(this.highestConflict, conflict);
  }

  private wellFormed(replies: readonly { key: string }[]): boolean {
    return replies.length === this.keys.length && replies.every((r, j) => r.key === this.keys[j]);
  }

  private recordPrepare(acceptor: number, replies: readonly PrepareReply[]): void {
    if (!this.wellFormed(replies)) {
      this.votes[acceptor] = this.keys.map(() => "failed");
      return;
    }
    this.votes[acceptor] = replies.map((r): Vote => {
      if (r.ok) return r.learner ? "learner" : "yes";
      this.noteConflict(r.conflict);
      return "no";
    });
    this.reads[acceptor] = replies.map((r) =>
      r.ok ? { ballot: r.accepted, raw: r.value } : undefined,
    );
  }

  private recordAccept(acceptor: number, replies: readonly AcceptReply[]): void {
    if (!this.wellFormed(replies)) {
      this.votes[acceptor] = this.keys.map(() => "failed");
      return;
    }
    this.votes[acceptor] = replies.map((r, j): Vote => {
      if (r.ok) return r.learner ? "learner" : "yes";
      // Acceptors acknowledge a repeat of a stored accept, but one on the older rule refused it
      // with conflict = max(promised, accepted) = our ballot or the `next` stored with it. Both
      // prove the accept landed there: ballots are never reused (the allocator), `next` was sent
      // with this accept only and never in a prepare, and an accept at `next` would be our next
      // change, which starts only after this one ended. Counting it as a refusal could make us
      // re-run f on a change that took effect.
      if (r.conflict === this.ballots[j] || r.conflict === this.next) {
        return r.learner ? "learner" : "yes";
      }
      this.noteConflict(r.conflict);
      return "no";
    });
    this.attests[acceptor] = replies.map((r) => (r.ok ? r.attest : undefined));
  }

  /** The attestations of the acceptors whose yes counted, per key (only those that sent one). */
  private attestedBy(): Attested[] {
    const out: Attested[] = [];
    for (let a = 0; a < ACCEPTOR_COUNT; a++) {
      for (const [j, key] of this.keys.entries()) {
        const attest = this.attests[a]?.[j];
        if (attest !== undefined && this.votes[a]![j] === "yes")
          out.push({ acceptor: a, key, attest });
      }
    }
    return out;
  }

  private keyTallies(): Tally[] {
    return this.keys.map((_, j) => {
      let yes = 0;
      let no = 0;
      for (let a = 0; a < ACCEPTOR_COUNT; a++) {
        const v = this.votes[a]![j];
        // A learner's yes can never become a vote: for the tally it is as good as a no.
        if (v === "yes") yes++;
        else if (v !== undefined) no++;
      }
      return tally(yes, no, this.opts.quorum);
    });
  }

  private evaluatePrepare(ctx: ProposerContext): ProposerEffect<T>[] {
    const verdict = tallyBatch(this.keyTallies());
    if (verdict === "pending") return [];
    if (verdict === "lost") return this.attemptLost(ctx);
    const current = this.keys.map((_, j): Read => {
      let best: Read = { ballot: "", raw: null };
      let first: Read | undefined;
      const voted: Read[] = [];
      for (let a = 0; a < ACCEPTOR_COUNT; a++) {
        const r = this.reads[a]![j];
        // Only the voting quorum defines the current value (it holds every chosen one).
        if (!r || this.votes[a]![j] !== "yes") continue;
        voted.push(r);
        first ??= r;
        if (r.ballot > best.ballot) best = r;
      }
      const picked = this.opts.adoptFirstRead && first ? first : best;
      // One ballot carries one value, so a quorum of voters at the picked ballot holds it.
      const same = voted.filter((r) => r.ballot === picked.ballot).length;
      return { ...picked, chosen: same >= this.opts.quorum };
    });
    const t = this.taint;
    if (t && !current.every((r, j) => t.ours[j]!.has(r.ballot) || r.ballot === t.readBallots[j])) {
      // Someone else's newer value sits on top, and it may descend from ours. Only if all three
      // acceptors show that ours never landed anywhere may f run afresh; wait for the third.
      if (this.replied.some((r) => !r)) return [];
      const proof = this.provenAbsent(t);
      // The third acceptor is up but had promised higher: a retry above its ballot may still get
      // the proof (attemptLost answers unknown once the attempts are spent).
      if (proof === "refused") return this.attemptLost(ctx);
      if (proof !== "proven") {
        return this.finish({
          status: "unknown",
          reason: "an earlier attempt may have committed and was overtaken by another writer",
        });
      }
      this.taint = null;
    }
    if (this.mode === "prime") return this.primed(ctx, current);
    return this.propose(ctx, current);
  }

  /** A prime's quorum promised its ballot: the cache holds what the accept would need. */
  private primed(ctx: ProposerContext, current: readonly Read[]): ProposerEffect<T>[] {
    const forget = this.opts.primeForgets === true;
    for (const [j, key] of this.keys.entries()) {
      const r = current[j]!;
      ctx.cache.set(key, {
        ballot: this.ballots[j]!,
        accepted: forget ? "" : r.ballot,
        value: forget ? null : r.raw,
        storedAt: ctx.now,
        ...(r.chosen === true ? {} : { chosen: false as const }),
      });
    }
    return this.finish({ status: "ok", values: [], result: undefined });
  }

  /**
   * Our earlier value never landed on any acceptor, and never will, when for every key it changed
   * all three acceptors just promised our new ballot (so every late delivery of an old accept is
   * refused: it is below the promise and, never stored, not a repeat) and each reports an accepted
   * ballot that is none of ours and below the fence of every accept we sent. Why the fence: storing
   * accept(b, v, next) sets promised := max(b, next), promises only grow, and an accept is stored
   * only at or above the promise; so an acceptor that ever stored it holds b or a ballot at or
   * above max(b, next) forever after, and any other accepted ballot below that proves it never did.
   * (Acceptors that answered the accept with a refusal prove nothing by it: the refusal may come
   * from a duplicated delivery after the first one landed and was overwritten by a newer writer
   * that carried our value forward.) Keys whose value the proposal left unchanged need no proof:
   * their landing writes back what f read, which changes nothing a reader can tell.
   */
  private provenAbsent(t: Taint<T>): Proof {
    let proof: Proof = "proven";
    for (const [j, changed] of t.changed.entries()) {
      if (!changed) continue;
      for (let a = 0; a < ACCEPTOR_COUNT; a++) {
        const vote = this.votes[a]![j];
        const r = this.reads[a]![j];
        if ((vote === "yes" || vote === "learner") && r) {
          if (t.ours[j]!.has(r.ballot) || r.ballot >= t.fence[j]!) return "disproved";
        } else if (vote === "no") {
          if (proof === "proven") proof = "refused";
        } else proof = "unanswered";
      }
    }
    return proof;
  }

  private propose(ctx: ProposerContext, current: readonly Read[]): ProposerEffect<T>[] {
    let proposal: Proposal<T>;
    if (this.taint) {
      // Every key shows our value or the one f was applied to: re-proposing the same values is a
      // valid CASPaxos step either way, and f's effect happens at most once.
      proposal = this.taint.proposal;
    } else {
      const built = this.apply(current);
      if ("status" in built) return this.finish(built);
      proposal = built;
    }
    this.proposal = proposal;
    // The promise sent with the accept is also the fence that later proves the accept absent
    // (provenAbsent), so it is as high as is cheap: the wall clock, which other proposers'
    // ballots track, and two counters above ours, so a competitor who jumped just above our
    // current promise still sits below it. (Higher would refuse more competitors' prepares.)
    const next = ctx.allocator.allocate(ctx.allocator.current + NEXT_GAP, ctx.now);
    if (next === null) {
      return this.finish(
        this.taint
          ? { status: "unknown", reason: "ballot space exhausted after sending accepts" }
          : { status: "unavailable", reason: "ballot space exhausted" },
      );
    }
    this.next = next;
    if (proposal.changesSomething) {
      const fences = this.ballots.map((b) => maxBallot(b, next));
      if (!this.taint) {
        this.taint = {
          proposal,
          ours: this.keys.map(() => new Set<BallotString>()),
          fence: fences,
          readBallots: current.map((r) => r.ballot),
          changed: proposal.raws.map((raw, j) => raw !== current[j]!.raw),
        };
      }
      const { ours, fence } = this.taint;
      for (const [j, b] of this.ballots.entries()) {
        ours[j]!.add(b);
        if (fences[j]! < fence[j]!) fence[j] = fences[j]!;
      }
    }
    this.resetRound("accept");
    const entries: AcceptEntry[] = this.keys.map((key, j) => ({
      key,
      ballot: this.ballots[j]!,
      value: proposal.raws[j] ?? null,
      next,
    }));
    return [0, 1, 2].map((acceptor) => ({
      type: "accept" as const,
      attempt: this.attempt,
      acceptor,
      entries,
    }));
  }

  /** Runs f on the current values; a change that throws or misbehaves is treated as an abort. */
  private apply(current: readonly Read[]): Proposal<T> | ChangeOutcome<T> {
    let values: (T | null)[];
    try {
      values = current.map((r) => parseValue<T>(r.raw));
    } catch {
      return { status: "unavailable", reason: "a stored value is not valid JSON" };
    }
    const raws = current.map((r) => r.raw);
    const abort = (reason: unknown): Proposal<T> => ({
      raws,
      values,
      result: undefined,
      abort: { reason, current: values },
      changesSomething: false,
    });
    let res: ChangeResult<T>;
    try {
      res = this.f(values.slice(), { chosen: current.map((r) => r.chosen === true) });
    } catch (e) {
      return abort(e instanceof Error ? e.message : String(e));
    }
    if ("abort" in res) return abort(res.abort);
    if (!Array.isArray(res.values) || res.values.length !== this.keys.length) {
      return abort("change returned the wrong number of values");
    }
    const newRaws = res.values.map((v) => serialize(v));
    return {
      raws: newRaws,
      values: newRaws.map((r) => parseValue<T>(r)),
      result: res.result,
      changesSomething: newRaws.some((r, j) => r !== raws[j]),
    };
  }

  private evaluateAccept(ctx: ProposerContext): ProposerEffect<T>[] {
    const verdict = tallyBatch(this.keyTallies());
    if (verdict === "pending") return [];
    const proposal = this.proposal!;
    if (verdict === "won") {
      for (const [j, key] of this.keys.entries()) {
        ctx.cache.set(key, {
          ballot: this.next!,
          accepted: this.ballots[j]!,
          value: proposal.raws[j] ?? null,
          storedAt: ctx.now,
        });
      }
      if (proposal.abort) {
        return this.finish({
          status: "aborted",
          reason: proposal.abort.reason,
          values: proposal.abort.current,
        });
      }
      if (proposal.changesSomething) {
        this.won = this.keys.map((key, j) => ({
          key,
          ballot: this.ballots[j]!,
          value: proposal.raws[j] ?? null,
        }));
      }
      const attested = this.attestedBy();
      return this.finish({
        status: "ok",
        values: proposal.values.slice(),
        result: proposal.result,
        ...(attested.length > 0 ? { attested } : {}),
      });
    }
    return this.attemptLost(ctx);
  }

  private attemptLost(ctx: ProposerContext): ProposerEffect<T>[] {
    for (const k of this.keys) ctx.cache.delete(k);
    if (this.attempt >= this.opts.maxAttempts) {
      if (this.taint) {
        return this.finish({
          status: "unknown",
          reason: "accepts were sent but a quorum did not confirm them",
        });
      }
      return this.finish({
        status: "unavailable",
        reason: this.sawRefusal
          ? "contention: competing proposers kept refusing our ballots"
          : "unreachable: fewer than two acceptors answered",
      });
    }
    this.phase = "sleep";
    return [
      {
        type: "sleep",
        attempt: this.attempt,
        ms: backoffMs(this.attempt, ctx.random, this.opts, ctx.now - this.attemptStartedAt),
      },
    ];
  }

  private finish(outcome: ChangeOutcome<T>): ProposerEffect<T>[] {
    this.phase = "done";
    return [{ type: "done", outcome }];
  }
}
