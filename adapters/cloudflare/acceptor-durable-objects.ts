import type {
  AcceptEntry,
  AcceptorRecord,
  AcceptReply,
  DeleteEntry,
  DeleteReply,
  PrepareReply,
  PrepareRequest,
  ScanPage,
} from "../../shared/quorum/messages.ts";
import { partitionOf } from "../../shared/storage/partition.ts";
import { type AcceptorPort, clampLimit } from "../../shared/storage/ports.ts";
import type { AcceptorObject } from "./acceptor-object.ts";
import type { DurableObjectNamespace, DurableObjectStub } from "./runtime-types.ts";

/** Name of the object that lists the partitions ever written (see AcceptorObject). */
export const DIRECTORY_OBJECT = "directory";
/** Partition objects are named apart from the directory so no key can collide with it. */
const objectName = (partition: string) => `p:${partition}`;
/** Name of the object that holds `key` (`ns.idFromName` of it), for tests and operators. */
export const objectNameFor = (key: string) => objectName(partitionOf(key));

/** Every key of partition P starts with `P/`: that string is where P's keys begin in key order. */
const startOf = (partition: string) => `${partition}/`;
const partitionOfStart = (start: string) => start.slice(0, -1);
/** Keys are printable ASCII (<= 0x7e), so `start + RANGE_END` sorts after every key of `start`. */
const RANGE_END = "\x7f";
/**
 * The fallback partition of keys with no inner "/" (partitionOf's "_"): unlike every other
 * partition its keys are spread over the whole key space, so a scan merges it into every page
 * instead of walking to it in key order.
 */
const FLOATING = startOf(partitionOf("x"));

/**
 * Partitions a scan page calls in parallel: overlaps round trips without fetching many partitions
 * whose records the page will not use once it is full.
 */
export const SCAN_FANOUT = 8;
/**
 * Partitions one scan page may visit before it returns early with a cursor (checked after each
 * step of SCAN_FANOUT, so a multiple of it): each object call is a subrequest, and a Worker
 * invocation may make only so many (50 per request on the Free plan), however many partitions are
 * empty.
 */
export const SCAN_PARTITIONS_MAX = 32;

type Stub = DurableObjectStub<AcceptorObject>;

/**
 * AcceptorPort over the Durable Object namespace bound as ACCEPTORS: one object per key partition
 * (so a popular event's sections are served by many objects at once), plus a directory object that
 * a prefix scan consults to find the partitions that hold keys.
 *
 * One instance lives per isolate; it keeps no stubs across requests (the runtime ties I/O objects
 * to the request that made them), only the set of partitions it already registered.
 */
export class DurableObjectAcceptor implements AcceptorPort {
  /** Range starts this isolate already wrote to the directory: registration is paid once. */
  private readonly registered = new Set<string>();

  constructor(private readonly ns: DurableObjectNamespace<AcceptorObject>) {}

  async prepare(req: PrepareRequest): Promise<PrepareReply[]> {
    await this.register(req.keys);
    return this.fanOut(
      req.keys,
      (k) => k,
      (stub, keys) => stub.prepare(keys, req.ballot),
    );
  }

  async accept(entries: readonly AcceptEntry[]): Promise<AcceptReply[]> {
    await this.register(entries.map((e) => e.key));
    return this.fanOut(
      entries,
      (e) => e.key,
      (stub, batch) => stub.accept(batch),
    );
  }

  /** No registration: a deletion never adds a record the directory would have to know of. */
  deleteIf(entries: readonly DeleteEntry[]): Promise<DeleteReply[]> {
    return this.fanOut(
      entries,
      (e) => e.key,
      (stub, batch) => stub.deleteIf(batch),
    );
  }

  read(keys: readonly string[]): Promise<AcceptorRecord[]> {
    return this.fanOut(
      keys,
      (k) => k,
      (stub, batch) => stub.read(batch),
    );
  }

  /**
   * Walks the partitions that can hold `prefix` in key order, merging their records, so the page is
   * in global key order even when partitions nest (`a/b` holds `a/b/x`, `a/b/c` holds `a/b/c/y`).
   * Invariant: once the partitions starting before `bound` were visited, every key below `bound` is
   * known. The cursor is a position in key space: the last key returned, or (when the page stopped
   * at SCAN_PARTITIONS_MAX) a position just before the first partition not visited.
   */
  async scan(prefix: string, opts: { cursor?: string; limit?: number } = {}): Promise<ScanPage> {
    const limit = clampLimit(opts.limit);
    const need = limit + 1; // one record more than a page tells whether another page follows
    const after = opts.cursor ?? "";
    const dir = await this.directory().partitions({
      prefix,
      after,
      limit: SCAN_PARTITIONS_MAX + 1,
      skip: FLOATING,
      exact: [...enclosingStarts(prefix, after), FLOATING],
    });
    const walk = [...new Set([...dir.existing, ...dir.starts])]
      .filter((s) => s !== FLOATING)
      .sort();
    const floating = dir.existing.includes(FLOATING)
      ? this.stub(FLOATING).scan(prefix, after, need)
      : Promise.resolve([]);

    const seen: AcceptorRecord[] = [];
    let visited = 0;
    let bound: string | undefined;
    let result: AcceptorRecord[];
    for (;;) {
      const step = walk.slice(visited, visited + SCAN_FANOUT);
      const [pages, loose] = await Promise.all([
        Promise.all(step.map((s) => this.stub(s).scan(prefix, after, need))),
        floating,
      ]);
      visited += step.length;
      for (const p of pages) seen.push(...p);
      bound = walk[visited];
      const below = bound;
      result = [...seen, ...loose]
        .filter((r) => below === undefined || r.key < below)
        .sort((a, b) => (a.key < b.key ? -1 : 1))
        .slice(0, need);
      if (result.length === need || bound === undefined) break;
      // Stopping at the cap needs a bound past the cursor, or the next page would not move on.
      if (visited >= SCAN_PARTITIONS_MAX && bound > after) break;
    }
    if (result.length === need) {
      const records = result.slice(0, limit);
      return { records, cursor: records[limit - 1]?.key ?? after };
    }
    return bound === undefined
      ? { records: result }
      : { records: result, cursor: justBefore(bound) };
  }

  async ping(): Promise<void> {
    await this.directory().ping();
  }

  private directory(): Stub {
    return this.ns.get(this.ns.idFromName(DIRECTORY_OBJECT));
  }

  private stub(start: string): Stub {
    return this.ns.get(this.ns.idFromName(objectName(partitionOfStart(start))));
  }

  /**
   * Lists the partitions of `keys` in the directory before writing them: a write the directory does
   * not know of would be invisible to scans (anti-entropy), while a registration whose write then
   * fails only costs an empty partition.
   */
  private async register(keys: readonly string[]): Promise<void> {
    const fresh = [...new Set(keys.map((k) => startOf(partitionOf(k))))].filter(
      (s) => !this.registered.has(s),
    );
    if (fresh.length === 0) return;
    await this.directory().registerPartitions(fresh);
    for (const s of fresh) this.registered.add(s);
  }

  /** Sends each partition its share of a batch (in parallel) and puts replies back in order. */
  private async fanOut<T, R>(
    items: readonly T[],
    keyOf: (item: T) => string,
    call: (stub: Stub, batch: T[]) => Promise<R[]>,
  ): Promise<R[]> {
    const groups = new Map<string, { items: T[]; at: number[] }>();
    items.forEach((item, i) => {
      const start = startOf(partitionOf(keyOf(item)));
      const g = groups.get(start) ?? { items: [], at: [] };
      g.items.push(item);
      g.at.push(i);
      groups.set(start, g);
    });
    const out = new Array<R>(items.length);
    await Promise.all(
      [...groups].map(async ([start, g]) => {
        const replies = await call(this.stub(start), g.items);
        if (replies.length !== g.items.length) {
          throw new Error(`partition ${start} answered ${replies.length} of ${g.items.length}`);
        }
        replies.forEach((r, j) => {
          out[g.at[j] as number] = r;
        });
      }),
    );
    return out;
  }
}

/**
 * Partitions that start before the scan position yet may hold keys past it: the one enclosing the
 * prefix's last segment, and those enclosing the cursor (a page can stop inside them).
 */
function enclosingStarts(prefix: string, after: string): string[] {
  const out: string[] = [];
  const j = prefix.lastIndexOf("/");
  if (j > 0) out.push(prefix.slice(0, j + 1));
  for (let i = after.indexOf("/", 1); i > 0; i = after.indexOf("/", i + 1)) {
    const s = after.slice(0, i + 1);
    if (s.startsWith(prefix)) out.push(s);
  }
  return out.filter((s) => s !== FLOATING && s + RANGE_END > after);
}

/** The largest position below `start` ("P/" -> "P.\x7f"): nothing printable sorts in between. */
function justBefore(start: string): string {
  return `${start.slice(0, -1)}.${RANGE_END}`;
}
