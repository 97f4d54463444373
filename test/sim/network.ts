import { applyAccept, applyPrepare } from "../../shared/quorum/acceptor.ts";
import { maxBallot } from "../../shared/quorum/ballot.ts";
import {
  type AcceptEntry,
  type AcceptorPort,
  type AcceptorRecord,
  type AcceptReply,
  emptyRecord,
  type PrepareReply,
  type PrepareRequest,
  type ScanPage,
} from "../../shared/storage/ports.ts";
import type { Rng } from "./random.ts";
import type { Scheduler } from "./scheduler.ts";

/**
 * The simulated cluster: three in-memory acceptors behind a network that delays, reorders, loses
 * and duplicates messages, plus the faults a run can schedule (an acceptor crashed or partitioned,
 * an acceptor losing its last writes, a proposer killed between two steps).
 */

/**
 * Safety rules the simulator can switch off to prove the checker notices: three acceptor rules;
 * `warm-owner`, the proposer's warm path (a cached promise is not taken out of the cache when
 * a change uses it, so two concurrent changes of one instance can both spend it; see world.ts);
 * `committed-read`, local reads served from the local store without knowing the value committed
 * (register-sim.ts).
 */
export const BREAK_MODES = [
  "promise",
  "accepted",
  "quorum1",
  "warm-owner",
  "committed-read",
] as const;
export type BreakMode = (typeof BREAK_MODES)[number];

export type AcceptorHealth = "up" | "crashed" | "partitioned";

export class SimAcceptor {
  records = new Map<string, AcceptorRecord>();
  health: AcceptorHealth = "up";
  private snapshot: Map<string, AcceptorRecord> | null = null;

  constructor(
    readonly index: number,
    private readonly broken?: BreakMode,
  ) {}

  private get(key: string): AcceptorRecord {
    return this.records.get(key) ?? emptyRecord(key);
  }

  prepare(req: PrepareRequest): PrepareReply[] {
    return req.keys.map((key) => {
      const rec = this.get(key);
      if (this.broken === "promise") {
        // Broken: grant every prepare, whatever was promised before.
        this.records.set(key, { ...rec, promised: maxBallot(rec.promised, req.ballot) });
        return { ok: true, key, accepted: rec.accepted, value: rec.value };
      }
      const { reply, next } = applyPrepare(rec, req.ballot);
      this.records.set(key, next);
      return reply;
    });
  }

  accept(entries: readonly AcceptEntry[]): AcceptReply[] {
    return entries.map((e) => {
      const rec = this.get(e.key);
      if (this.broken === "promise") {
        // Broken: only the accepted ballot is compared, the promise is ignored.
        if (e.ballot <= rec.accepted) {
          return { ok: false, key: e.key, conflict: maxBallot(rec.promised, rec.accepted) };
        }
        this.records.set(e.key, { ...rec, accepted: e.ballot, value: e.value });
        return { ok: true, key: e.key };
      }
      if (this.broken === "accepted") {
        // Broken: accept at or below the accepted ballot, and do not let an accept move the
        // promise (so the piggy-backed `next` promise of the one-round-trip path is not kept).
        if (e.ballot < rec.promised) {
          return { ok: false, key: e.key, conflict: maxBallot(rec.promised, rec.accepted) };
        }
        this.records.set(e.key, { ...rec, accepted: e.ballot, value: e.value });
        return { ok: true, key: e.key };
      }
      const { reply, next } = applyAccept(rec, e);
      this.records.set(e.key, next);
      return reply;
    });
  }

  read(keys: readonly string[]): AcceptorRecord[] {
    return keys.map((k) => this.get(k));
  }

  scan(prefix: string, cursor: string | undefined, limit: number): ScanPage {
    const keys = [...this.records.keys()]
      .filter((k) => k.startsWith(prefix) && k > (cursor ?? ""))
      .sort();
    const page = keys.slice(0, limit).map((k) => this.get(k));
    const last = page.at(-1);
    return keys.length > limit && last ? { records: page, cursor: last.key } : { records: page };
  }

  /** Amnesia fault, part 1: remember the state as it is now. */
  takeSnapshot(): void {
    this.snapshot = new Map(this.records);
  }

  /** Amnesia fault, part 2: forget every write since the snapshot (a restore from backup). */
  rollBack(): void {
    if (this.snapshot) this.records = new Map(this.snapshot);
    this.snapshot = null;
  }
}

export interface NetConfig {
  delayMinMs: number;
  delayMaxMs: number;
  loss: number;
  duplicate: number;
}

export type KillPoint = "after-prepare" | "after-1-accept" | "after-2-accepts";

/** One proposer's attachment to the network: it can be killed, and it counts its round trips. */
export class SimNode {
  killed = false;
  prepareCalls = 0;
  acceptCalls = 0;
  private killAfterAccepts: number | null = null;
  private acceptsSinceArmed = 0;

  constructor(
    readonly id: string,
    private readonly sched: Scheduler,
  ) {}

  /** The next accept round is cut short: the process dies after sending `point`'s accepts. */
  armKill(point: KillPoint): void {
    this.killAfterAccepts = point === "after-prepare" ? 0 : point === "after-1-accept" ? 1 : 2;
    this.acceptsSinceArmed = 0;
  }

  disarm(): void {
    this.killAfterAccepts = null;
  }

  kill(): void {
    this.killed = true;
  }

  /** Whether an accept request may leave this node (and kills it once the budget is spent). */
  sendAccept(): boolean {
    if (this.killed) return false;
    if (this.killAfterAccepts === null) return true;
    this.acceptsSinceArmed++;
    if (this.acceptsSinceArmed > this.killAfterAccepts) {
      this.killed = true;
      return false;
    }
    if (this.acceptsSinceArmed === this.killAfterAccepts) this.killed = true;
    return true;
  }

  /** A killed process never wakes up again. */
  sleep = (ms: number): Promise<void> =>
    this.killed ? new Promise<void>(() => {}) : this.sched.sleep(ms).then(() => this.frozen());

  private frozen(): Promise<void> {
    return this.killed ? new Promise<void>(() => {}) : Promise.resolve();
  }
}

export class SimNetwork {
  messages = 0;

  constructor(
    private readonly sched: Scheduler,
    private readonly rng: Rng,
    readonly acceptors: readonly SimAcceptor[],
    public cfg: NetConfig,
  ) {}

  /** The AcceptorPort through which `node` reaches acceptor `index`. */
  port(node: SimNode, index: number): AcceptorPort {
    const acc = this.acceptors[index]!;
    return {
      prepare: (req) => {
        if (node.killed) return never();
        node.prepareCalls++;
        return this.send(node, acc, () => acc.prepare(clone(req)));
      },
      accept: (entries) => {
        if (!node.sendAccept()) return never();
        node.acceptCalls++;
        return this.send(node, acc, () => acc.accept(clone(entries)));
      },
      read: (keys) => this.send(node, acc, () => acc.read([...keys])),
      scan: (prefix, opts = {}) =>
        this.send(node, acc, () => acc.scan(prefix, opts.cursor, opts.limit ?? 100)),
      ping: () => this.send(node, acc, () => undefined),
    };
  }

  private delay(): number {
    return this.rng.int(this.cfg.delayMinMs, this.cfg.delayMaxMs);
  }

  private send<R>(node: SimNode, acc: SimAcceptor, handle: () => R): Promise<R> {
    this.messages++;
    return new Promise<R>((resolve, reject) => {
      const deliver = () => {
        if (acc.health === "partitioned" || this.rng.chance(this.cfg.loss)) return;
        if (acc.health === "crashed") {
          this.sched.after(this.delay(), () => {
            if (!node.killed) reject(new Error(`acceptor ${acc.index} is down`));
          });
          return;
        }
        const reply = clone(handle());
        if (this.rng.chance(this.cfg.loss)) return;
        this.sched.after(this.delay(), () => {
          if (!node.killed) resolve(reply);
        });
      };
      this.sched.after(this.delay(), deliver);
      if (this.rng.chance(this.cfg.duplicate)) this.sched.after(this.delay(), deliver);
    });
  }
}

function never<R>(): Promise<R> {
  return new Promise<R>(() => {});
}

function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}
