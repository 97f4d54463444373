/* The seat model's vocabulary: its state, the inputs it takes and the outputs it answers, shared
 * by the model (seat-model.ts) and its partitioning (seat-parts.ts). */

/**
 * A hold's record as the model sees it. "ghost": seats (and the cap's count) locked for the hold
 * by a change that landed on some of its keys only while its request ended otherwise (a retry
 * then aborted, e.g. on the cap): no record, but the locks stand until the hold's time is up.
 */
export type HoldState = "ghost" | "held" | "sold" | "released" | "expired" | "swept";

/** Where a hold's time stands: surely live, inside the clocks' uncertainty window (from "late" on
 * some clock may read it past expiry + margin), surely past. */
export type Phase = "live" | "dusk" | "late" | "past";

export interface ModelHold {
  readonly caller: string;
  readonly seats: readonly string[];
  readonly st: HoldState;
  /** Confirm key of the sale (sold only). */
  readonly order?: string;
}

export interface SeatModelState {
  /** Hold key → hold. A key absent has had no effect yet. */
  readonly holds: Readonly<Record<string, ModelHold>>;
  /** Hold key → phase, set by the fixed-time "dusk" and "past" events (absent: live). Kept apart
   * from the holds: a hold whose creation the search places late still has its time run out. */
  readonly phases: Readonly<Record<string, Phase>>;
  /** Request key → claims swept so far: a retry after a sweep is a new request (a fresh hold
   * id), named `key#n` (incName). Absent: 0. */
  readonly gen: Readonly<Record<string, number>>;
}

/** The model's name of a request key's n-th claim (a hold). */
export const incName = (key: string, n: number) => (n === 0 ? key : `${key}#${n}`);

export type SeatInput =
  | {
      readonly f: "hold";
      readonly hold: string;
      readonly caller: string;
      readonly seats: readonly string[];
      readonly cap?: number;
      /** Only replays an existing hold (the answer half of an attempt answered "expired"). */
      readonly replayOnly?: boolean;
      /** Another attempt of this request, under another hold id, started before this one answered:
       * its change may have locked some of these seats without the claim that names that id, and
       * this attempt then cannot tell the lock from a stranger's (see ownGhost in hold()). */
      readonly sibling?: boolean;
      /** The answer observed, which picks the branch where the clocks allow two ("taken" or not,
       * "seat-cap-reached" or not); absent for an unknown outcome (the branch with an effect). */
      readonly answered?: string;
      /** The claim (0, 1, ...) the answer's hold id belongs to, when it named one. */
      readonly inc?: number;
      /** No claim of this request was ever seen: a record rolled back under an id no claim named
       * (seats locked by a change that missed the claim) binds only attempts under that id. */
      readonly claimless?: boolean;
    }
  | {
      readonly f: "confirm";
      readonly hold: string;
      readonly order: string;
      readonly caller: string;
      readonly answered?: string;
    }
  | { readonly f: "release"; readonly hold: string; readonly caller: string }
  | {
      readonly f: "dusk" | "late" | "past" | "rollback" | "settle" | "sweep";
      readonly hold: string;
    }
  /** The sweep of request `hold`'s claim number `inc`. */
  | { readonly f: "forget"; readonly hold: string; readonly inc: number }
  | {
      readonly f: "ghost";
      readonly hold: string;
      readonly caller: string;
      readonly seats: readonly string[];
    };

export interface SeatOutput {
  readonly code: string;
  /** hold ok: the seats the answer names. */
  readonly seats?: readonly string[];
  /** settle: the state the sweeper left the record in. */
  readonly state?: string;
}
