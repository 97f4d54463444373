import { applyAccept, applyPrepare } from "../../shared/quorum/acceptor.ts";
import { maxBallot } from "../../shared/quorum/ballot.ts";
import {
  type AcceptEntry,
  type AcceptorRecord,
  type AcceptReply,
  type DeleteEntry,
  type DeleteReply,
  emptyRecord,
  matchesDelete,
  type PrepareReply,
  type PrepareRequest,
  type ScanPage,
} from "../../shared/quorum/messages.ts";
import type { AcceptorPort } from "../../shared/storage/ports.ts";
import { type KillPointKind, KillSwitch, type LandedKill } from "./kills.ts";
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
 * (register-sim.ts);
 * `adopt-highest`, a prepare round adopting the lowest-indexed acceptor's value instead of the
 * highest ballot's (ProposerOptions.adoptFirstRead); `prime-forgets`, a prime (a change's prepare run
 * ahead of it) keeping its promise but not the value it read (ProposerOptions.primeForgets);
 * `ballot-unique`, every coordinator with one proposer
 * id (and one clock), so two can send equal ballots with different values (world.ts).
 * `amnesia-rejoin`, `rejoin-unswept` and `repair-ballot` are anti-entropy-sim.ts's: a rolled-back
 * store keeps voting; it is set back to member without the rejoin walk; a repair copies a record
 * between stores without comparing ballots.
 * Registers only, with the garbage collector on (gc-sim.ts): `gc-2of3`, tombstones deleted once two
 * acceptors hold them; `gc-lifetime`, changes and warm promises without a lifetime (the collector
 * still waits its retention); `gc-retention`, the collector deleting without waiting at all.
 */
export const BREAK_MODES = [
  "promise",
  "accepted",
  "quorum1",
  "warm-owner",
  "committed-read",
  "adopt-highest",
  "prime-forgets",
  "ballot-unique",
  "amnesia-rejoin",
  "rejoin-unswept",
  "repair-ballot",
  "gc-2of3",
  "gc-lifetime",
  "gc-retention",
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

  /** The collector's conditional delete (the DeleteEntry rule of every driver). */
  deleteIf(entries: readonly DeleteEntry[]): DeleteReply[] {
    return entries.map((e) => {
      const rec = this.records.get(e.key);
      if (rec === undefined) return { ok: true, key: e.key };
      if (!matchesDelete(rec, e)) return { ok: false, key: e.key };
      this.records.delete(e.key);
      return { ok: true, key: e.key };
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

/** Old points: the next accept round cut short after 0, 1 or 2 accepts left. "anywhere": at the
 * k-th await point from now, whatever it is (see kills.ts). */
export type KillPoint = "after-prepare" | "after-1-accept" | "after-2-accepts" | "anywhere";

/** One proposer's attachment to the network: it can be killed, and it counts its round trips. */
export class SimNode {
  killed = false;
  prepareCalls = 0;
  acceptCalls = 0;
  readonly kills = new KillSwitch();
  /** Virtual time until which the process is frozen (as AWS Lambda freezes an instance between
   * invocations; gc-sim.ts): whatever it awaits (a reply, a sleep) resumes only then. */
  frozenUntil = 0;
  private mourners: (() => void)[] = [];

  constructor(
    readonly id: string,
    private readonly sched: Scheduler,
    private readonly onLanded: (k: LandedKill) => void = () => {},
  ) {}

  /** An old point: the next accept round is cut short after `point`'s accepts left. */
  armKill(point: Exclude<KillPoint, "anywhere">): void {
    const sent = point === "after-prepare" ? 0 : point === "after-1-accept" ? 1 : 2;
    this.kills.arm(sent + 1, "accept sent");
  }

  /** Dies just before the `n`-th await point from now (any store call, reply, or sleep). */
  armKillAt(n: number): void {
    this.kills.arm(n);
  }

  disarm(): void {
    this.kills.disarm();
  }

  kill(): void {
    if (this.killed) return;
    this.killed = true;
    for (const m of this.mourners.splice(0)) m();
  }

  /** Resolves when the process dies (what a caller sees as a dropped connection). */
  died(): Promise<void> {
    return this.killed ? Promise.resolve() : new Promise((r) => this.mourners.push(r));
  }

  /** Whether the process is alive at this await point (and dies there if armed to). */
  alive(kind: KillPointKind, keys?: readonly string[]): boolean {
    if (this.killed) return false;
    if (this.kills.reached(kind, keys)) {
      if (this.kills.landed) this.onLanded(this.kills.landed);
      this.kill();
    }
    return !this.killed;
  }

  /** A killed process never wakes up again. */
  sleep = (ms: number, kind: KillPointKind = "pause"): Promise<void> =>
    this.killed ? new Promise<void>(() => {}) : this.sched.sleep(ms).then(() => this.frozen(kind));

  /** Runs `fn` now, or once the process thaws (synchronously when it is not frozen, so runs
   * without freezes schedule exactly what they did before freezes existed). */
  whenThawed(fn: () => void): void {
    if (this.frozenUntil > this.sched.now)
      this.sched.at(this.frozenUntil, () => this.whenThawed(fn));
    else fn();
  }

  private frozen(kind: KillPointKind): Promise<void> {
    if (this.frozenUntil > this.sched.now) {
      return new Promise<void>((r) => this.whenThawed(r)).then(() => this.frozen(kind));
    }
    return this.alive(kind) ? Promise.resolve() : new Promise<void>(() => {});
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
        if (!node.alive("prepare sent", req.keys)) return never();
        node.prepareCalls++;
        return this.send(node, acc, () => acc.prepare(clone(req)));
      },
      accept: (entries) => {
        const keys = entries.map((e) => e.key);
        if (!node.alive("accept sent", keys)) return never();
        node.acceptCalls++;
        return this.send(node, acc, () => acc.accept(clone(entries)));
      },
      // Only the garbage collector deletes; it is never killed (its deletes are conditional, so a
      // collector dying half-way leaves tombstones a later pass finishes).
      deleteIf: (entries) => this.send(node, acc, () => acc.deleteIf(clone(entries))),
      read: (keys) => {
        // A dead node's reads went out before kills could land here; they still do (their replies
        // are dropped), so that the network's random draws of older seeds stay where they were.
        if (!node.killed && !node.alive("read sent", keys)) return never();
        return this.send(node, acc, () => acc.read([...keys]));
      },
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
          this.sched.after(this.delay(), () =>
            node.whenThawed(() => {
              if (node.alive("reply received")) reject(new Error(`acceptor ${acc.index} is down`));
            }),
          );
          return;
        }
        const reply = clone(handle());
        if (this.rng.chance(this.cfg.loss)) return;
        this.sched.after(this.delay(), () =>
          node.whenThawed(() => {
            if (node.alive("reply received")) resolve(reply);
          }),
        );
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
