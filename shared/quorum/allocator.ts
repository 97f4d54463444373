import { BALLOT_JUMP_MAX, COUNTER_MAX, counterOf, encodeBallot } from "./ballot.ts";
import type { BallotString } from "./messages.ts";

/**
 * Hands out ballots for one proposer identity. Every ballot it returns is fresh (never returned
 * before), including the `next` promises piggy-backed on accepts: that uniqueness is what lets the
 * proposer recognise a refusal whose conflict is its own ballot as the echo of its own accept.
 * Shared by all concurrent changes of one client; deterministic (no clock, no randomness).
 */
export class BallotAllocator {
  private counter = 0;

  constructor(readonly proposerId: string) {
    // Validates the id once, up front, instead of on the first change.
    encodeBallot({ counter: 1, proposer: proposerId });
  }

  /** Highest counter handed out so far. */
  get current(): number {
    return this.counter;
  }

  /**
   * A fresh ballot with counter at least `floor` and at least the wall clock `clockMs` (in ms).
   * The clock is this instance's own and trusted: it makes a fresh instance start near the ballots
   * its peers use (counters track milliseconds since the epoch, far below COUNTER_MAX). A `floor`
   * learnt from an acceptor's refusal is clamped to one jump above max(own counter, clock), so a
   * lying acceptor cannot push us to COUNTER_MAX in a few replies. Returns null when the counter
   * space is exhausted: the caller reports the change as unavailable rather than wrap around.
   */
  allocate(floor = 0, clockMs = 0): BallotString | null {
    const base = Math.max(this.counter, Math.floor(clockMs));
    const capped = Math.min(floor, base + BALLOT_JUMP_MAX);
    const next = Math.max(this.counter + 1, base, Math.floor(capped));
    if (!Number.isSafeInteger(next) || next > COUNTER_MAX) return null;
    this.counter = next;
    return encodeBallot({ counter: next, proposer: this.proposerId });
  }

  /** Counter a retry should start from after seeing `conflict` (0 when it cannot be parsed). */
  static floorAbove(conflict: BallotString): number {
    try {
      return counterOf(conflict) + 1;
    } catch {
      return 0;
    }
  }
}
