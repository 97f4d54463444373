import type { BallotString } from "./messages.ts";

/** Bounded like the promise cache: a forgotten key only costs one majority read on its next
 * local read. */
export const CHOSEN_MEMO_MAX = 10_000;

/**
 * Per key, the latest accepted ballot this instance KNOWS was chosen (two stores showed it at
 * once, or its own change won with it). A store's record at that ballot holds a committed value:
 * ballots are unique and carry one value each. Least-recently-used, so it stays small.
 */
export class ChosenMemo {
  private readonly map = new Map<string, BallotString>();

  constructor(readonly max: number = CHOSEN_MEMO_MAX) {}

  /** Whether `ballot` is known chosen for `key` (only the latest one known is kept). */
  knows(key: string, ballot: BallotString): boolean {
    return this.map.get(key) === ballot;
  }

  note(key: string, ballot: BallotString): void {
    const had = this.map.get(key);
    // A later chosen ballot supersedes an earlier one; never step back to an older one.
    if (had !== undefined && had > ballot) return;
    this.map.delete(key);
    this.map.set(key, ballot);
    while (this.map.size > this.max) {
      const oldest = this.map.keys().next();
      if (oldest.done) break;
      this.map.delete(oldest.value);
    }
  }
}
