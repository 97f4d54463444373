import type {
  AcceptEntry,
  AcceptorRecord,
  AcceptReply,
  DeleteEntry,
  DeleteReply,
  PrepareReply,
  PrepareRequest,
  ScanPage,
} from "../quorum/messages.ts";

/**
 * Storage ports: the only way the core reaches a store. Each provider adapter wires one driver per
 * port (Durable Objects + R2, Upstash Redis, DynamoDB + S3) and the in-memory driver serves tests.
 *
 * The acceptor port is exactly what per-key CASPaxos needs from one acceptor: an atomic
 * compare-on-ballot write on a small record, batched over many keys so that a multi-seat order costs
 * one round trip per phase. Replies are values, never exceptions: a refusal is data the proposer
 * counts; only a broken store throws. The messages themselves are the protocol's
 * (shared/quorum/messages.ts).
 */

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
