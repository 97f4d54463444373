import type { Redis } from "@upstash/redis";
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
import { type AcceptorPort, clampLimit } from "../../shared/storage/ports.ts";
import { ACCEPT_LUA, DELETE_LUA, PREPARE_LUA, READ_LUA, SCAN_LUA } from "./lua.ts";

type Flat = (string | number | null)[];

/** How long WAITAOF may wait for the local fsync. With `appendfsync everysec` the fsync comes
 * within about a second; past this the write counts as not durable and the call fails. */
export const WAITAOF_TIMEOUT_MS = 1500;

/** Replies meaning "this server has no WAITAOF" (Redis < 7.2, Upstash) or "has no AOF at all". */
const WAITAOF_UNSUPPORTED = /unknown command|not supported|unsupported|appendonly is disabled/i;

export interface UpstashAcceptorOptions {
  /** Prefix of every Redis key this acceptor owns, so one database can hold several. */
  readonly namespace?: string;
}

/**
 * The Vercel acceptor: per-key CASPaxos registers in Upstash Redis, one Lua script per phase.
 *
 * Durability. Locally redis-server runs with `appendfsync always`: it fsyncs the AOF before it
 * replies, so an acknowledged prepare or accept survives a crash. After every phase that wrote
 * something the driver also asks `WAITAOF 1 0 <timeout>` (Redis 7.2+), which makes the guarantee
 * hold under `everysec` too; a server that does not know WAITAOF (Redis 7.0 here, Upstash) says so
 * once and is not asked again, and then its own fsync policy is the guarantee.
 * What Upstash gives (docs, "Consistency" and "Replication"): each key has a leader replica that
 * applies the write and acknowledges it; copies to the other replicas are asynchronous, a leader
 * failure elects a new leader, and a split brain is resolved last-writer-wins; WAIT and WAITAOF are
 * not documented. So a leader crash right after an acknowledged prepare or accept can lose it: the
 * one way this acceptor may "forget", which CASPaxos does not tolerate in general (it is safe only
 * while the other two stores keep everything), a residual risk of running on Upstash. Reads
 * use EVALSHA, not EVALSHA_RO, so they run on the leader and never on a lagging read replica, and
 * the client's read-your-writes token is left on.
 */
export class UpstashAcceptor implements AcceptorPort {
  private readonly recordPrefix: string;
  private readonly index: string;
  private readonly scripts;
  /** Whether WAITAOF is worth sending: unknown until the server first answers it. */
  private waitAof: "probe" | "on" | "off" = "probe";

  constructor(
    private readonly redis: Redis,
    opts: UpstashAcceptorOptions = {},
  ) {
    const ns = opts.namespace ?? "tessera:acc:";
    this.recordPrefix = `${ns}r:`;
    this.index = `${ns}idx`;
    // EVALSHA first, EVAL on NOSCRIPT: the script text crosses the network once per server.
    this.scripts = {
      prepare: redis.createScript<Flat>(PREPARE_LUA),
      accept: redis.createScript<Flat>(ACCEPT_LUA),
      delete: redis.createScript<Flat>(DELETE_LUA),
      read: redis.createScript<Flat>(READ_LUA),
      scan: redis.createScript<Flat>(SCAN_LUA),
    };
  }

  async prepare(req: PrepareRequest): Promise<PrepareReply[]> {
    if (req.keys.length === 0) return [];
    const out = await this.scripts.prepare.exec(
      [this.index, ...req.keys.map((k) => this.recordPrefix + k)],
      [this.recordPrefix, req.ballot],
    );
    const replies = req.keys.map((key, i): PrepareReply => {
      const [ok, ballot, value] = triple(out, i * 3);
      return ok === 1
        ? { ok: true, key, accepted: str(ballot), value: nullable(value) }
        : { ok: false, key, conflict: str(ballot) };
    });
    if (replies.some((r) => r.ok)) await this.confirmDurable();
    return replies;
  }

  async accept(entries: readonly AcceptEntry[]): Promise<AcceptReply[]> {
    if (entries.length === 0) return [];
    const args = [this.recordPrefix];
    for (const e of entries) {
      args.push(e.ballot, e.next ?? "", e.value === null ? "0" : "1", e.value ?? "");
    }
    const out = await this.scripts.accept.exec(
      [this.index, ...entries.map((e) => this.recordPrefix + e.key)],
      args,
    );
    const replies = entries.map(({ key }, i): AcceptReply => {
      const ok = out[i * 2];
      return ok === 1 ? { ok: true, key } : { ok: false, key, conflict: str(out[i * 2 + 1]) };
    });
    if (replies.some((r) => r.ok)) await this.confirmDurable();
    return replies;
  }

  async deleteIf(entries: readonly DeleteEntry[]): Promise<DeleteReply[]> {
    if (entries.length === 0) return [];
    const args = [this.recordPrefix];
    for (const e of entries) args.push(e.accepted, e.promised);
    const out = await this.scripts.delete.exec(
      [this.index, ...entries.map((e) => this.recordPrefix + e.key)],
      args,
    );
    const replies = entries.map(({ key }, i): DeleteReply => ({ ok: out[i] === 1, key }));
    // A deletion that a crash forgets leaves the tombstone in place: harmless, so no WAITAOF.
    return replies;
  }

  async read(keys: readonly string[]): Promise<AcceptorRecord[]> {
    if (keys.length === 0) return [];
    const out = await this.scripts.read.exec(
      keys.map((k) => this.recordPrefix + k),
      [],
    );
    return keys.map((key, i) => {
      const [promised, accepted, value] = triple(out, i * 3);
      return { key, promised: str(promised), accepted: str(accepted), value: nullable(value) };
    });
  }

  async scan(prefix: string, opts: { cursor?: string; limit?: number } = {}): Promise<ScanPage> {
    const limit = clampLimit(opts.limit);
    const { cursor } = opts;
    const min = cursor !== undefined && cursor >= prefix ? `(${cursor}` : `[${prefix}`;
    const out = await this.scripts.scan.exec(
      [this.index],
      [this.recordPrefix, min, prefix, String(limit + 1)],
    );
    const records: AcceptorRecord[] = [];
    for (let i = 0; i + 3 < out.length; i += 4) {
      const [key, promised, accepted] = triple(out, i);
      records.push({
        key: str(key),
        promised: str(promised),
        accepted: str(accepted),
        value: nullable(out[i + 3]),
      });
    }
    const page = records.slice(0, limit);
    const last = page.at(-1);
    return records.length > limit && last ? { records: page, cursor: last.key } : { records: page };
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  private async confirmDurable(): Promise<void> {
    if (this.waitAof === "off") return;
    let reply: unknown;
    try {
      reply = await this.redis.exec(["WAITAOF", "1", "0", WAITAOF_TIMEOUT_MS]);
    } catch (e) {
      // Several first calls probe at once; each must read "unsupported" the same way, whichever
      // of them flipped the state first. Once WAITAOF has worked, an error is a real failure.
      if (this.waitAof !== "on" && e instanceof Error && WAITAOF_UNSUPPORTED.test(e.message)) {
        this.waitAof = "off";
        return;
      }
      throw e;
    }
    this.waitAof = "on";
    const local = Array.isArray(reply) ? Number(reply[0]) : 0;
    if (!(local >= 1)) throw new Error(`write not fsynced within ${WAITAOF_TIMEOUT_MS} ms`);
  }
}

function triple(out: Flat, at: number): [unknown, unknown, unknown] {
  if (out.length < at + 3) throw new Error("malformed reply from the acceptor script");
  return [out[at], out[at + 1], out[at + 2]];
}

function str(v: unknown): string {
  if (typeof v !== "string") throw new Error(`expected a string from Redis, got ${typeof v}`);
  return v;
}

function nullable(v: unknown): string | null {
  return v === null ? null : str(v);
}
