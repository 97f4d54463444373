import { isValidKey } from "../storage/partition.ts";
import { type AcceptorPort, BATCH_KEYS_MAX } from "../storage/ports.ts";
import { BallotAllocator } from "./allocator.ts";
import { PromiseCache } from "./cache.ts";
import { ChosenMemo } from "./chosen.ts";
import type { AcceptEntry, AcceptorRecord } from "./messages.ts";
import {
  BACKOFF_BASE_MS,
  BACKOFF_MAX_MS,
  CHANGE_LIFETIME_MS,
  type ChangeFn,
  type ChangeOutcome,
  MAX_ATTEMPTS_DEFAULT,
  Proposer,
  type ProposerContext,
  type ProposerEffect,
  type ProposerEvent,
  type ProposerOptions,
  parseValue,
  WARM_TTL_MS,
} from "./proposer.ts";
import { ACCEPTOR_COUNT, QUORUM } from "./tally.ts";

export type { ChangeOutcome, ChangeResult } from "./proposer.ts";

/** One store call across clouds takes tens of milliseconds; two seconds means the store is not
 * answering, and the change carries on with the other two. */
export const ACCEPTOR_TIMEOUT_MS = 2_000;

export interface QuorumClientOptions {
  /** Exactly three, in cluster order; index `localIndex` is this deployment's own store. */
  readonly acceptors: readonly AcceptorPort[];
  /** Unique per running instance (ballots must never be reused by two instances). */
  readonly proposerId: string;
  readonly now: () => number;
  /** Uniform in [0, 1). */
  readonly random: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly timeoutMs?: number;
  readonly maxAttempts?: number;
  /** Acceptor read by `get(..., { consistency: "local" })`; defaults to 0. */
  readonly localIndex?: number;
  /** Only the simulator changes these (quorum: to prove a quorum of one is unsafe). */
  readonly quorum?: number;
  /** Only the simulator sets this (see ProposerOptions.adoptFirstRead). */
  readonly adoptFirstRead?: boolean;
  /** Only the simulator sets this (see ProposerOptions.primeForgets). */
  readonly primeForgets?: boolean;
  /** Lifetimes of a change and of a warm promise (default CHANGE_LIFETIME_MS, WARM_TTL_MS); only
   * the simulator shortens them, to its scaled-down time. */
  readonly changeLifetimeMs?: number;
  readonly warmTtlMs?: number;
  readonly cacheSize?: number;
  /** The warm promise cache; by default a fresh one of `cacheSize`. Only the simulator passes one
   * (to watch it, or to plant a broken `take` and prove it notices). */
  readonly cache?: PromiseCache;
  /**
   * Told what a quorum accepted after each change that changed something (the audit log's "commit"
   * entries); awaited before the change returns, and must not throw.
   */
  readonly onChosen?: (entries: readonly AcceptEntry[]) => Promise<void>;
}

/**
 * local: this deployment's own store (fast, may be stale), but only values known to be committed:
 * a record whose ballot this instance has not seen chosen is checked with a majority read first
 * (a store can hold a value one acceptor took from a change that never committed).
 * majority: linearizable and read-only when two stores agree (one round trip, no write).
 * quorum: linearizable through an identity change, which also repairs all three stores.
 */
export type Consistency = "local" | "majority" | "quorum";

export type GetOutcome<T> =
  | { readonly status: "ok"; readonly values: (T | null)[] }
  | { readonly status: "unavailable"; readonly reason: string };

type CallResult<R> = { ok: true; value: R } | { ok: false; error: string };

const TIMEOUT = Symbol("timeout");

/**
 * Drives the pure Proposer over three real acceptors: turns its effects into store calls (each with
 * a timeout, any of which may throw or hang) and the calls' results back into events. All time and
 * randomness are injected so the simulator can run it on a virtual clock.
 */
export class QuorumClient {
  private readonly allocator: BallotAllocator;
  private readonly cache: PromiseCache;
  private readonly opts: ProposerOptions;
  private readonly timeoutMs: number;
  private readonly localIndex: number;
  private readonly chosen = new ChosenMemo();

  constructor(private readonly o: QuorumClientOptions) {
    if (o.acceptors.length !== ACCEPTOR_COUNT) {
      throw new RangeError(`QuorumClient needs exactly ${ACCEPTOR_COUNT} acceptors`);
    }
    this.allocator = new BallotAllocator(o.proposerId);
    this.cache = o.cache ?? new PromiseCache(o.cacheSize);
    this.timeoutMs = o.timeoutMs ?? ACCEPTOR_TIMEOUT_MS;
    this.localIndex = o.localIndex ?? 0;
    this.opts = {
      maxAttempts: o.maxAttempts ?? MAX_ATTEMPTS_DEFAULT,
      backoffBaseMs: BACKOFF_BASE_MS,
      backoffMaxMs: BACKOFF_MAX_MS,
      quorum: o.quorum ?? QUORUM,
      changeLifetimeMs: o.changeLifetimeMs ?? CHANGE_LIFETIME_MS,
      warmTtlMs: o.warmTtlMs ?? WARM_TTL_MS,
      ...(o.adoptFirstRead ? { adoptFirstRead: true } : {}),
      ...(o.primeForgets ? { primeForgets: true } : {}),
    };
  }

  /** Number of keys whose last promise this instance holds (for tests and metrics). */
  get warmKeys(): number {
    return this.cache.size;
  }

  async change<T>(keys: readonly string[], f: ChangeFn<T>): Promise<ChangeOutcome<T>> {
    const bad = checkKeys(keys);
    if (bad) throw new RangeError(bad);
    return this.run(new Proposer<T>(keys, f, this.opts));
  }

  /**
   * Runs the prepare of a change that is coming on `keys`, ahead of it (a confirm's keys while
   * the card is authorised): the change then needs only its accept round (proposer.ts, mode
   * "prime"). Keys already warm are left as they are. Answers whether every key is warm now; a
   * prime that fails costs nothing but its round trip, and the change prepares as usual.
   */
  async prime(keys: readonly string[]): Promise<boolean> {
    const bad = checkKeys(keys);
    if (bad) throw new RangeError(bad);
    const now = this.o.now();
    const cold = keys.filter((k) => !this.cache.freshFor([k], now, this.opts.warmTtlMs));
    if (cold.length === 0) return true;
    const out = await this.run(
      new Proposer<never>(cold, (cur) => ({ values: cur }), this.opts, "prime"),
    );
    return out.status === "ok";
  }

  private async run<T>(proposer: Proposer<T>): Promise<ChangeOutcome<T>> {
    const inbox: ProposerEvent[] = [];
    let wake: (() => void) | null = null;
    const post = (e: ProposerEvent) => {
      inbox.push(e);
      const w = wake;
      wake = null;
      w?.();
    };
    const ctx = (): ProposerContext => ({
      allocator: this.allocator,
      cache: this.cache,
      now: this.o.now(),
      random: this.o.random(),
    });
    let effects = proposer.start(ctx());
    for (;;) {
      for (const e of effects) {
        if (e.type === "done") {
          const chosen = proposer.chosen;
          for (const c of chosen ?? []) this.chosen.note(c.key, c.ballot);
          if (chosen !== null && this.o.onChosen) await this.o.onChosen(chosen);
          return e.outcome;
        }
        this.perform(e, post);
      }
      while (inbox.length === 0) await new Promise<void>((r) => (wake = r));
      effects = proposer.step(inbox.shift()!, ctx());
    }
  }

  /** Reads `keys` at the given consistency (see `Consistency`). */
  async get<T>(
    keys: readonly string[],
    opts: { consistency: Consistency } = { consistency: "quorum" },
  ): Promise<GetOutcome<T>> {
    const bad = checkKeys(keys);
    if (bad) throw new RangeError(bad);
    if (opts.consistency === "local") return this.localRead<T>(keys);
    if (opts.consistency === "majority") {
      const agreed = await this.majorityRead(keys);
      if (agreed !== null) return parsedValues<T>(agreed);
    }
    const out = await this.change<T>(keys, (cur) => ({ values: cur }));
    if (out.status === "ok") return { status: "ok", values: out.values };
    if (out.status === "aborted") return { status: "ok", values: out.values };
    // An identity change never carries a new value, so it cannot end "unknown" in practice.
    return { status: "unavailable", reason: out.reason };
  }

  /**
   * The local store's copy of every key it holds at a ballot known chosen; the rest through a
   * majority read. An empty record is served as it is (null: nothing committed yet that this store
   * saw; stale at worst, never uncommitted). Its own store down or rejoining after a restore, a
   * read goes to the majority.
   */
  private async localRead<T>(keys: readonly string[]): Promise<GetOutcome<T>> {
    const res = await this.call(this.localIndex, (a) => a.read(keys));
    // A rejoining store is known to miss writes it lost: even its empty records prove nothing.
    if (!res.ok || res.value.length !== keys.length || res.value.some((r) => r.learner)) {
      return this.get<T>(keys, { consistency: "majority" });
    }
    const local = res.value;
    const unsure = keys.filter(
      (k, j) => local[j]!.accepted !== "" && !this.chosen.knows(k, local[j]!.accepted),
    );
    if (unsure.length === 0) return parsedValues<T>(local.map((r) => r.value));
    const checked = await this.get<T>(unsure, { consistency: "majority" });
    if (checked.status !== "ok") return checked;
    const parsed = parsedValues<T>(local.map((r) => r.value));
    if (parsed.status !== "ok") return parsed;
    const byKey = new Map(unsure.map((k, j) => [k, checked.values[j] ?? null]));
    return {
      status: "ok",
      values: keys.map((k, j) => (byKey.has(k) ? byKey.get(k)! : (parsed.values[j] ?? null))),
    };
  }

  /**
   * The first `quorum` stores to answer, if they hold the same accepted ballot for every key. A
   * ballot accepted by a majority is chosen, and any write completed before this read began was
   * accepted by a majority that overlaps these stores, so one of them would show its higher ballot:
   * agreement means the agreed value is the latest completed write. null: they disagree (a write in
   * flight or a store that missed one) or too few answered; the caller falls back to a quorum read.
   */
  private majorityRead(keys: readonly string[]): Promise<(string | null)[] | null> {
    const need = this.opts.quorum;
    const replies: AcceptorRecord[][] = [];
    let failed = 0;
    return new Promise((resolve) => {
      for (let i = 0; i < ACCEPTOR_COUNT; i++) {
        void this.call(i, (a) => a.read(keys)).then((r) => {
          if (replies.length >= need || failed > ACCEPTOR_COUNT - need) return;
          // A rejoining store's records may miss chosen writes it lost: it is not one of the two.
          if (!r.ok || r.value.length !== keys.length || r.value.some((rec) => rec.learner)) {
            if (++failed > ACCEPTOR_COUNT - need) resolve(null);
            return;
          }
          replies.push(r.value);
          if (replies.length < need) return;
          const first = replies[0]!;
          const agree = keys.every((_, k) =>
            replies.every((rec) => rec[k]!.accepted === first[k]!.accepted),
          );
          if (!agree) return resolve(null);
          keys.forEach((k, j) => {
            if (first[j]!.accepted !== "") this.chosen.note(k, first[j]!.accepted);
          });
          resolve(first.map((rec) => rec.value));
        });
      }
    });
  }

  private perform<T>(e: ProposerEffect<T>, post: (e: ProposerEvent) => void): void {
    const { attempt } = e as { attempt: number };
    switch (e.type) {
      case "prepare":
        void this.call(e.acceptor, (a) => a.prepare(e.request)).then((r) =>
          post(
            r.ok
              ? { type: "prepared", attempt, acceptor: e.acceptor, replies: r.value }
              : { type: "failed", attempt, acceptor: e.acceptor, phase: "prepare", error: r.error },
          ),
        );
        return;
      case "accept":
        void this.call(e.acceptor, (a) => a.accept(e.entries)).then((r) =>
          post(
            r.ok
              ? { type: "accepted", attempt, acceptor: e.acceptor, replies: r.value }
              : { type: "failed", attempt, acceptor: e.acceptor, phase: "accept", error: r.error },
          ),
        );
        return;
      case "sleep":
        void this.o.sleep(e.ms).then(() => post({ type: "woke", attempt }));
        return;
      case "done":
        return;
    }
  }

  /** One store call that never throws and never outlives the timeout. */
  private async call<R>(
    index: number,
    fn: (a: AcceptorPort) => Promise<R>,
  ): Promise<CallResult<R>> {
    const acceptor = this.o.acceptors[index];
    if (!acceptor) return { ok: false, error: `no acceptor ${index}` };
    try {
      const value = await Promise.race([
        fn(acceptor),
        this.o.sleep(this.timeoutMs).then(() => TIMEOUT),
      ]);
      if (value === TIMEOUT) return { ok: false, error: `acceptor ${index} timed out` };
      return { ok: true, value: value as R };
    } catch (err) {
      return { ok: false, error: `acceptor ${index}: ${err instanceof Error ? err.message : err}` };
    }
  }
}

/** Stored values as read straight from a store (not through a change, which parses its own). */
function parsedValues<T>(raw: readonly (string | null)[]): GetOutcome<T> {
  try {
    return { status: "ok", values: raw.map((v) => parseValue<T>(v)) };
  } catch {
    return { status: "unavailable", reason: "a stored value is not valid JSON" };
  }
}

function checkKeys(keys: readonly string[]): string | null {
  if (keys.length === 0) return "a change needs at least one key";
  if (keys.length > BATCH_KEYS_MAX) return `at most ${BATCH_KEYS_MAX} keys per change`;
  if (new Set(keys).size !== keys.length) return "duplicate key in one change";
  const invalid = keys.find((k) => !isValidKey(k));
  return invalid === undefined ? null : `invalid key: ${JSON.stringify(invalid)}`;
}
