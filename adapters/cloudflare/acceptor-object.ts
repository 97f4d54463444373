import { DurableObject } from "cloudflare:workers";
import { applyAccept, applyPrepare } from "../../shared/quorum/acceptor.ts";
import {
  type AcceptEntry,
  type AcceptorRecord,
  type AcceptReply,
  type BallotString,
  type DeleteEntry,
  type DeleteReply,
  emptyRecord,
  matchesDelete,
  type PrepareReply,
} from "../../shared/quorum/messages.ts";
import type { DurableObjectState, SqlStorage } from "./runtime-types.ts";

/**
 * Upper bound appended to a prefix to turn "starts with" into an index range in SQLite. U+10FFFF is
 * the largest code point, so its UTF-8 bytes (which SQLite's BINARY collation compares) sort after
 * any character a key can continue with.
 */
const PREFIX_END = "\u{10FFFF}";

type RecordRow = { key: string; promised: string; accepted: string; value: string | null };

/**
 * One SQLite-backed Durable Object per key partition (see shared/storage/partition.ts), holding the
 * acceptor records of that partition; one more instance (named "directory" by the driver) keeps the
 * list of partitions that were ever written, so that a prefix scan can find them.
 *
 * Why each batch is atomic without locks: every RPC method below is synchronous. A Durable Object
 * runs one event at a time, and while JavaScript runs without awaiting, its input gate delivers no
 * other call; SQLite storage calls are synchronous too, and `transactionSync` commits the batch as
 * one transaction (all of it or none, if the object crashes half-way). The output gate holds the
 * reply until the write is durable, so no proposer ever counts a promise that could be lost.
 * Adding an `await` between reading a record and writing it would break this: keep it synchronous.
 */
export class AcceptorObject extends DurableObject {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    // Both roles share one class (one namespace binding), so both tables exist in every object;
    // an unused empty table costs a few bytes.
    this.sql.exec(
      `CREATE TABLE IF NOT EXISTS records (
         key TEXT PRIMARY KEY, promised TEXT NOT NULL, accepted TEXT NOT NULL, value TEXT
       ) WITHOUT ROWID`,
    );
    // A partition is stored by its key range start `<partition>/`, so index order is key order.
    this.sql.exec("CREATE TABLE IF NOT EXISTS partitions (start TEXT PRIMARY KEY) WITHOUT ROWID");
  }

  prepare(keys: readonly string[], ballot: BallotString): PrepareReply[] {
    return this.ctx.storage.transactionSync(() =>
      keys.map((key) => {
        const rec = this.get(key);
        const { reply, next } = applyPrepare(rec, ballot);
        if (next !== rec) this.put(next);
        return reply;
      }),
    );
  }

  accept(entries: readonly AcceptEntry[]): AcceptReply[] {
    return this.ctx.storage.transactionSync(() =>
      entries.map((entry) => {
        const rec = this.get(entry.key);
        const { reply, next } = applyAccept(rec, entry);
        if (next !== rec) this.put(next);
        return reply;
      }),
    );
  }

  deleteIf(entries: readonly DeleteEntry[]): DeleteReply[] {
    return this.ctx.storage.transactionSync(() =>
      entries.map((entry) => {
        const row = this.sql
          .exec<RecordRow>(
            "SELECT key, promised, accepted, value FROM records WHERE key = ?",
            entry.key,
          )
          .toArray()[0];
        if (row === undefined) return { ok: true, key: entry.key };
        if (!matchesDelete(toRecord(row), entry)) return { ok: false, key: entry.key };
        this.sql.exec("DELETE FROM records WHERE key = ?", entry.key);
        return { ok: true, key: entry.key };
      }),
    );
  }

  read(keys: readonly string[]): AcceptorRecord[] {
    return keys.map((key) => this.get(key));
  }

  /** Records with `prefix` and key > `after`, ascending, at most `limit`. */
  scan(prefix: string, after: string, limit: number): AcceptorRecord[] {
    return this.sql
      .exec<RecordRow>(
        `SELECT key, promised, accepted, value FROM records
         WHERE key >= ? AND key < ? AND key > ? ORDER BY key LIMIT ?`,
        prefix,
        prefix + PREFIX_END,
        after,
        limit,
      )
      .toArray()
      .map(toRecord);
  }

  ping(): true {
    this.sql.exec("SELECT 1").one();
    return true;
  }

  // --- directory role ---

  /** Records partition range starts (`<partition>/`); idempotent. */
  registerPartitions(starts: readonly string[]): void {
    this.ctx.storage.transactionSync(() => {
      for (const s of starts) this.sql.exec("INSERT OR IGNORE INTO partitions VALUES (?)", s);
    });
  }

  /**
   * Range starts that begin with `prefix` and sort after `after` (except `skip`), ascending, at most
   * `limit`; plus which of `exact` exist (partitions enclosing the prefix or the cursor, which the
   * driver computes: they sort before `after` yet may hold keys past it).
   */
  partitions(q: {
    prefix: string;
    after: string;
    limit: number;
    skip: string;
    exact: readonly string[];
  }): { starts: string[]; existing: string[] } {
    const starts = this.sql
      .exec<{ start: string }>(
        `SELECT start FROM partitions WHERE start >= ? AND start < ? AND start > ? AND start <> ?
         ORDER BY start LIMIT ?`,
        q.prefix,
        q.prefix + PREFIX_END,
        q.after,
        q.skip,
        q.limit,
      )
      .toArray()
      .map((r) => r.start);
    const existing = q.exact.filter(
      (s) => this.sql.exec("SELECT 1 AS x FROM partitions WHERE start = ?", s).toArray().length > 0,
    );
    return { starts, existing };
  }

  private get(key: string): AcceptorRecord {
    const row = this.sql
      .exec<RecordRow>("SELECT key, promised, accepted, value FROM records WHERE key = ?", key)
      .toArray()[0];
    return row ? toRecord(row) : emptyRecord(key);
  }

  private put(rec: AcceptorRecord): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO records (key, promised, accepted, value) VALUES (?, ?, ?, ?)",
      rec.key,
      rec.promised,
      rec.accepted,
      rec.value,
    );
  }
}

const toRecord = (r: RecordRow): AcceptorRecord => ({
  key: r.key,
  promised: r.promised,
  accepted: r.accepted,
  value: r.value,
});
