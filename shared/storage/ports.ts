/**
 * Storage ports: the only way the core reaches a store. Each provider adapter wires one driver per
 * port (Durable Objects + R2, Upstash Redis, DynamoDB + S3) and the in-memory driver serves tests.
 *
 * The acceptor port is exactly what per-key CASPaxos needs from one acceptor: an atomic
 * compare-on-ballot write on a small record, batched over many keys so that a multi-seat order costs
 * one round trip per phase. Replies are values, never exceptions: a refusal is data the proposer
 * counts; only a broken store throws.
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
  | { readonly ok: true; readonly key: string }
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

/**
 * Acceptor rules every driver must implement atomically per key (and must not interleave with any
 * other write to the same key):
 * - prepare(b): refuse if b <= promised or b <= accepted (reply conflict = max(promised, accepted));
 *   otherwise promised := b and reply the accepted ballot and value.
 * - accept(b, v, next?): if b is not "" and (b, v) equals the stored (accepted, value), reply ok and
 *   change nothing, whatever was promised since (a duplicated delivery of an accept already
 *   stored: ballots are unique and carry one value each). Otherwise refuse if b < promised or
 *   b <= accepted (reply conflict = max(promised, accepted)); otherwise accepted := b, value := v,
 *   promised := max(b, next ?? "").
 * Keys of one batch are independent: some may succeed while others are refused.
 * Replies come back in the order of the request.
 */
export interface AcceptorPort {
  prepare(req: PrepareRequest): Promise<PrepareReply[]>;
  accept(entries: readonly AcceptEntry[]): Promise<AcceptReply[]>;
  /**
   * Deletes each record that matches its entry exactly (see DeleteEntry), atomically per key like
   * prepare and accept. A key with no record answers ok (already gone).
   */
  deleteIf(entries: readonly DeleteEntry[]): Promise<DeleteReply[]>;
  /** Records for the given keys, in request order; a key never written reads as empty. */
  read(keys: readonly string[]): Promise<AcceptorRecord[]>;
  /** Records whose key starts with `prefix`, in ascending key order, at most `limit` per page. */
  scan(prefix: string, opts?: { cursor?: string; limit?: number }): Promise<ScanPage>;
  /** Cheap liveness probe of the underlying store. */
  ping(): Promise<void>;
}

export interface BlobPage {
  readonly keys: readonly string[];
  readonly cursor?: string;
}

export interface BlobPort {
  put(key: string, body: Uint8Array | string, opts?: { contentType?: string }): Promise<void>;
  /** Bytes of the blob, or null when absent. */
  get(key: string): Promise<Uint8Array | null>;
  /** Keys starting with `prefix` in ascending order, at most `limit` per page. */
  list(prefix: string, opts?: { cursor?: string; limit?: number }): Promise<BlobPage>;
}

/** Upper bound on keys in one prepare/accept/read batch: keeps one call within every store's
 * request limits (DynamoDB BatchGetItem 100 items, Lua script run time, DO request time). */
export const BATCH_KEYS_MAX = 100;

/** Default and maximum page sizes for scans and blob listings. */
export const SCAN_LIMIT_DEFAULT = 100;
export const SCAN_LIMIT_MAX = 1000;

/** The page size a driver serves for a caller's `limit`: every driver clamps alike, so a page means
 * the same on all three providers. */
export function clampLimit(limit: number | undefined): number {
  if (limit === undefined) return SCAN_LIMIT_DEFAULT;
  return Math.max(1, Math.min(SCAN_LIMIT_MAX, Math.floor(limit)));
}

/** Keys are printable ASCII without spaces, at most this long (fits a DynamoDB key, a Redis key,
 * an SQLite primary key and an R2 object name comfortably). */
export const KEY_LENGTH_MAX = 512;

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
