/**
 * The messages of per-key CASPaxos between a proposer and one acceptor: the register an acceptor
 * keeps and the requests and replies of each phase. The protocol owns them and they import nothing;
 * storage/ports.ts names them in the port a driver implements, so no module of the protocol and no
 * port needs the other just for the shape of a message.
 */

/**
 * A ballot encoded as a string whose byte order is its ballot order, so that every store can compare
 * ballots natively (Lua string compare, DynamoDB condition `<` on strings, SQLite/JS compare).
 * Format: 16-digit zero-padded counter, ".", proposer id. The empty string is "no ballot" and sorts
 * before every real ballot. See shared/quorum/ballot.ts for construction and parsing.
 */
export type BallotString = string;

/** The per-key register an acceptor keeps. `value` is an opaque JSON string or null (never set). */
export interface AcceptorRecord {
  readonly key: string;
  /** Highest ballot this acceptor promised not to go below ("" when none). */
  readonly promised: BallotString;
  /** Ballot of the accepted value ("" when none). */
  readonly accepted: BallotString;
  /** Accepted value as JSON text, or null when nothing was ever accepted. */
  readonly value: string | null;
  /** Set on a read or scan reply of a store that is rejoining (see NonVoting). */
  readonly learner?: true;
}

/**
 * Set (to true) by a store that is rejoining after it may have lost writes (a restore, a failover
 * to an asynchronous copy; see shared/quorum/membership.ts) on every reply it sends. It still
 * applies the acceptor rules, so it catches up, but its yes must not count toward a quorum: its
 * promises and accepts before the restore are forgotten. Its refusals and the state it reports
 * stay true statements about it and are used as usual.
 */
export interface NonVoting {
  readonly learner?: true;
}

/** Phase 1: promise `ballot` for every key (each key decided on its own). */
export interface PrepareRequest {
  readonly keys: readonly string[];
  readonly ballot: BallotString;
}

export type PrepareReply = (
  | {
      readonly ok: true;
      readonly key: string;
      readonly accepted: BallotString;
      readonly value: string | null;
    }
  /** Refused: `conflict` is the acceptor's highest ballot (max of promised and accepted). */
  | { readonly ok: false; readonly key: string; readonly conflict: BallotString }
) &
  NonVoting;

/** Phase 2: store `value` at `ballot`. */
export interface AcceptEntry {
  readonly key: string;
  readonly ballot: BallotString;
  readonly value: string | null;
  /**
   * Optional promise for the proposer's next ballot, granted together with this accept (the
   * CASPaxos one-round-trip optimisation): after a successful accept, promised = max(ballot, next).
   */
  readonly next?: BallotString;
}

export type AcceptReply = (
  | {
      readonly ok: true;
      readonly key: string;
      /** What the acceptor's provider vouches for about the value it has just stored (ticket
       * signatures for a sale): opaque to the protocol, handed to the change's caller, who must
       * check it like any peer's answer. */
      readonly attest?: unknown;
    }
  | { readonly ok: false; readonly key: string; readonly conflict: BallotString }
) &
  NonVoting;

/**
 * Garbage collection: remove the record of `key` if it still is the tombstone the collector read,
 * untouched since: value null, accepted ballot `accepted` (not ""), promised ballot `promised`.
 * Requiring the promise unchanged is what keeps a deletion from erasing the promise of a change
 * that prepared after the collector looked (docs/quorum.md, "Deleting dead records").
 */
export interface DeleteEntry {
  readonly key: string;
  readonly accepted: BallotString;
  readonly promised: BallotString;
}

/** ok: the record is gone (deleted now, or there was none); otherwise it was kept as it is. */
export interface DeleteReply {
  readonly ok: boolean;
  readonly key: string;
}

export interface ScanPage extends NonVoting {
  readonly records: readonly AcceptorRecord[];
  /** Opaque cursor for the next page; absent when the scan is complete. */
  readonly cursor?: string;
}

/** Whether `rec` is the tombstone a DeleteEntry names (the rule every driver implements). */
export function matchesDelete(rec: AcceptorRecord, entry: DeleteEntry): boolean {
  return (
    entry.accepted !== "" &&
    rec.value === null &&
    rec.accepted === entry.accepted &&
    rec.promised === entry.promised
  );
}

export const emptyRecord = (key: string): AcceptorRecord => ({
  key,
  promised: "",
  accepted: "",
  value: null,
});
