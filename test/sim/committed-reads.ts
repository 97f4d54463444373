import type { SimAcceptor } from "./network.ts";

/**
 * The oracle for local reads: every (key, value) a majority of acceptors ever held at one accepted
 * ballot, i.e. every value ever chosen. A local read may be stale, but what it serves must be in
 * here (or null, the state before any write). The simulator sees all acceptors; no instance can.
 */
export class ChosenValues {
  private readonly chosen = new Map<string, Set<string | null>>();

  constructor(acceptors: readonly SimAcceptor[], quorum = 2) {
    for (const acc of acceptors) {
      const accept = acc.accept.bind(acc);
      acc.accept = (entries) => {
        const replies = accept(entries);
        for (const e of entries) {
          const holding = acceptors.filter((a) => a.records.get(e.key)?.accepted === e.ballot);
          if (holding.length >= quorum) this.add(e.key, e.value);
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
