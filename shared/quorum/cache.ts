import type { BallotString } from "./messages.ts";

/**
 * What a warm proposer remembers about a key after a successful accept: a quorum promised it
 * `ballot` (the `next` it sent) and the value it wrote is `value`. Holding that pair is the same as
 * having already run prepare(ballot) on that quorum, so the next change may go straight to accept.
 * A prime (proposer.ts, mode "prime") stores what its own prepare(ballot) read, which is the same.
 */
export interface WarmEntry {
  /** The promised ballot the next change may accept at without a prepare. */
  readonly ballot: BallotString;
  /** The ballot `value` was accepted at (what a prepare would have reported). */
  readonly accepted: BallotString;
  readonly value: string | null;
  /** false: `value` is the highest accepted that a prime read, not proven chosen (ChangeView). */
  readonly chosen?: false;
  /** ctx.now when the entry was stored: an entry older than the warm lifetime is not used (a
   * frozen instance must not spend a promise from before a record was deleted; docs/quorum.md). */
  readonly storedAt: number;
}

/** Bounded so a long-lived instance touching millions of seats does not grow without limit; an
 * evicted key only costs one extra round trip on its next change. */
export const PROMISE_CACHE_MAX = 10_000;

/** Least-recently-used map of warm entries. Entries are taken (removed) when used so two
 * concurrent changes of one client can never both spend the same promised ballot. */
export class PromiseCache {
  private readonly map = new Map<string, WarmEntry>();

  constructor(readonly max: number = PROMISE_CACHE_MAX) {}

  get size(): number {
    return this.map.size;
  }

  has(key: string): boolean {
    return this.map.has(key);
  }

  take(key: string): WarmEntry | undefined {
    const e = this.map.get(key);
    this.map.delete(key);
    return e;
  }

  set(key: string, entry: WarmEntry): void {
    this.map.delete(key);
    this.map.set(key, entry);
    while (this.map.size > this.max) {
      const oldest = this.map.keys().next();
      if (oldest.done) break;
      this.map.delete(oldest.value);
    }
  }

  /** Whether every key has an entry stored at most `ttlMs` from `now` (either way: a clock
   * stepped back shortens the age it measures, which the garbage collector's retention allows
   * for with the clock-step bound). */
  freshFor(keys: readonly string[], now: number, ttlMs: number): boolean {
    return keys.every((k) => {
      const e = this.map.get(k);
      return e !== undefined && Math.abs(now - e.storedAt) <= ttlMs;
    });
  }

  delete(key: string): void {
    this.map.delete(key);
  }
}
