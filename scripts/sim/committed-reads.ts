import { QUORUM } from "../../shared/quorum/tally.ts";
import type { SimAcceptor } from "./network.ts";

/**
 * The oracle for local reads: every (key, value) a majority of acceptors accepted at one ballot,
 * i.e. every value ever chosen. A local read may be stale, but what it serves must be in here (or
 * null, the state before any write). The simulator sees all acceptors; no instance can.
 *
 * Acceptance is counted per (key, ballot) over time, not only while both hold it: a store that
 * accepted and has since moved on to a higher ballot, or lost the write to a restore (amnesia),
 * still took part in choosing it (that is Paxos's definition, and what a proposer's two acks
 * tell it). Ballots are unique and carry one value each.
 */
export class ChosenValues {
  private readonly chosen = new Map<string, Set<string | null>>();
  /** Per key and ballot, the acceptors that ever accepted it. */
  private readonly accepted = new Map<string, Map<string, Set<number>>>();

  constructor(acceptors: readonly SimAcceptor[], quorum = QUORUM) {
    for (const [i, acc] of acceptors.entries()) {
      const accept = acc.accept.bind(acc);
      acc.accept = (entries) => {
        const replies = accept(entries);
        for (const e of entries) {
          if (acc.records.get(e.key)?.accepted !== e.ballot) continue;
          const byBallot = this.accepted.get(e.key) ?? new Map<string, Set<number>>();
          this.accepted.set(e.key, byBallot);
          const by = byBallot.get(e.ballot) ?? new Set<number>();
          byBallot.set(e.ballot, by);
          by.add(i);
          if (by.size >= quorum) this.add(e.key, e.value);
        }
        return replies;
      };
    }
  }

  private add(key: string, raw: string | null): void {
    const set = this.chosen.get(key) ?? new Set();
    set.add(raw);
    this.chosen.set(key, set);
  }

  /** Whether `raw` (a value's JSON text, null for none) was ever chosen for `key`. */
  wasChosen(key: string, raw: string | null): boolean {
    return raw === null || (this.chosen.get(key)?.has(raw) ?? false);
  }
}
