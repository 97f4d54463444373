import { PromiseCache, type WarmEntry } from "../../shared/quorum/cache.ts";
import {
  type ChangeOutcome,
  QuorumClient,
  type QuorumClientOptions,
} from "../../shared/quorum/client.ts";
import type { ChangeFn } from "../../shared/quorum/proposer.ts";
import { SimStore, startSweeper } from "./anti-entropy-sim.ts";
import { BallotLedger } from "./ballot-check.ts";
import type { SimClock } from "./clock.ts";
import type { LandedKill } from "./kills.ts";
import { type BreakMode, type KillPoint, type NetConfig, SimNetwork, SimNode } from "./network.ts";
import { Rng } from "./random.ts";
import { Scheduler } from "./scheduler.ts";

/**
 * Builds one seeded world (clock, acceptors, network, proposers) and schedules its faults. Both
 * workloads (registers and seats) run in such a world; everything random is drawn from the seed.
 */

/** A store call that has not answered in this long is given up on (virtual ms; ≈ 4 slow RTTs). */
export const SIM_TIMEOUT_MS = 80;

/** Seeds the kill points' own random stream (any constant apart from the world's). */
const KILL_STREAM = 0x1b873593;
/** Share of kills that land at any await point rather than in the next accept round. */
const ANYWHERE_SHARE = 0.6;
/** A kill "anywhere" lands on one of this many await points from when it is armed: a cold
 * change has about 18 (3 prepares, 3 accepts, 6 replies, 6 timeouts), so a register operation
 * is covered, with retries; seat operations (several changes) pass a larger span. */
export const KILL_SPAN_POINTS = 24;
/** The `ballot-unique` break gives every coordinator this one proposer id. */
const SHARED_PROPOSER_ID = "shared";

export interface FaultOptions {
  /** One acceptor loses every write made after a snapshot in every run (not only in a share of
   * them), and rejoins through the membership rule (anti-entropy-sim.ts). */
  amnesia?: boolean;
  break?: BreakMode;
  /** Probability that an operation's proposer is killed mid-change. */
  killRate?: number;
  /** Lifetimes of a change and of a warm promise (gc-sim.ts scales them to virtual time). */
  lifetimes?: { changeLifetimeMs: number; warmTtlMs: number };
}

export interface World {
  readonly seed: number;
  readonly rng: Rng;
  readonly sched: Scheduler;
  readonly acceptors: SimStore[];
  readonly net: SimNetwork;
  /** What was drawn for this run (printed with a failing seed). */
  readonly faults: string[];
  /** Outcomes of every change (quorum reads included) that returned, by status and reason. */
  readonly changes: Record<string, number>;
  /** What the sweeper did (anti-entropy repairs, rejoins), for the workloads' "rules exercised". */
  readonly sweeps: Record<string, number>;
  /** One coordinator instance: one QuorumClient (one promise cache) on one node. `clock`: a fixed
   * offset from virtual time (ms), or a clock that may step (clock.ts). */
  client(
    id: string,
    clock?: number | SimClock,
  ): { client: QuorumClient; node: SimNode; cache: PromiseCache };
  /** Maybe arms a kill for the node's next change (or, "anywhere", at one of its next `spanPoints`
   * await points); returns the point chosen, if any. */
  maybeKill(node: SimNode, spanPoints?: number): KillPoint | null;
  /** Every kill that landed, in order, with where (for "rules exercised"). */
  readonly kills: LandedKill[];
  /** Every accept sent, by (key, ballot): a ballot that carried two values is a violation. */
  readonly ballots: BallotLedger;
  /** Ends every fault (acceptors back up, network calm) for the final checking reads. */
  heal(): void;
}

export function makeWorld(seed: number, opts: FaultOptions = {}): World {
  const rng = new Rng(seed);
  const netRng = rng.fork();
  const faultRng = rng.fork();
  const sched = new Scheduler();
  const acceptors = [0, 1, 2].map((i) => new SimStore(i, opts.break));
  const cfg: NetConfig = {
    delayMinMs: 1,
    delayMaxMs: faultRng.pick([5, 10, 20]),
    loss: faultRng.pick([0, 0, 0.02, 0.08]),
    duplicate: faultRng.pick([0, 0.05, 0.15]),
  };
  const net = new SimNetwork(sched, netRng, acceptors, cfg);
  const faults = [`net delay 1-${cfg.delayMaxMs}ms loss ${cfg.loss} dup ${cfg.duplicate}`];

  if (faultRng.chance(0.6)) {
    const victim = faultRng.int(0, 2);
    const mode = faultRng.pick(["crashed", "partitioned"] as const);
    const from = faultRng.int(0, 150);
    const to = from + faultRng.int(20, 300);
    faults.push(`acceptor ${victim} ${mode} ${from}-${to}ms`);
    sched.at(from, () => {
      acceptors[victim]!.health = mode;
    });
    sched.at(to, () => {
      acceptors[victim]!.health = "up";
    });
  }
  const sweeps = startSweeper(
    { seed, sched, acceptors, net, faults },
    { amnesia: opts.amnesia, break: opts.break, timeoutMs: SIM_TIMEOUT_MS },
  );
  const killRate = opts.killRate ?? 0.05;
  const killRng = new Rng(seed ^ KILL_STREAM);
  const kills: LandedKill[] = [];
  const ballots = new BallotLedger();
  const changes: Record<string, number> = {};

  return {
    seed,
    rng,
    sched,
    acceptors,
    net,
    faults,
    changes,
    sweeps,
    kills,
    ballots,
    client(id, clock = 0) {
      const node = new SimNode(id, sched, (k) => kills.push(k));
      const clientRng = rng.fork();
      // Under `ballot-unique` every instance also reads one clock: their counters, floored by it,
      // then coincide as often as two instances start a change in the same millisecond.
      const now =
        opts.break === "ballot-unique"
          ? () => sched.now
          : typeof clock === "number"
            ? () => sched.now + clock
            : clock.now;
      const cache = opts.break === "warm-owner" ? new SharedTakeCache() : new PromiseCache();
      const client = new CountingClient(changes, {
        cache,
        acceptors: [0, 1, 2].map((i) => ballots.watch(net.port(node, i))),
        proposerId: opts.break === "ballot-unique" ? SHARED_PROPOSER_ID : id,
        now,
        random: () => clientRng.next(),
        // The client sleeps for two reasons: a store call's timeout, and backoff after a loss (a
        // backoff of exactly the timeout is labelled a timeout: it only names where kills land).
        sleep: (ms) => node.sleep(ms, ms === SIM_TIMEOUT_MS ? "timeout sleep" : "backoff sleep"),
        timeoutMs: SIM_TIMEOUT_MS,
        maxAttempts: 5,
        quorum: opts.break === "quorum1" ? 1 : undefined,
        adoptFirstRead: opts.break === "adopt-highest",
        primeForgets: opts.break === "prime-forgets",
        ...opts.lifetimes,
      });
      return { client, node, cache };
    },
    maybeKill(node, spanPoints = KILL_SPAN_POINTS) {
      if (!faultRng.chance(killRate)) return null;
      const point = faultRng.pick(["after-prepare", "after-1-accept", "after-2-accepts"] as const);
      // Drawn apart (a stream of its own): which share of kills keep their old point.
      if (killRng.chance(ANYWHERE_SHARE)) {
        node.armKillAt(killRng.int(1, spanPoints));
        return "anywhere";
      }
      node.armKill(point);
      return point;
    },
    heal() {
      for (const a of acceptors) a.health = "up";
      net.cfg = { delayMinMs: 1, delayMaxMs: 5, loss: 0, duplicate: 0 };
    },
  };
}

/**
 * The `warm-owner` break: `take` hands out the cached promise but leaves it in the cache, so a
 * second change of the same instance that starts before the first one ends takes the same
 * (ballot, value) and accepts at the same ballot: two values at one ballot, both computed from
 * the same stale read. Sequential changes behave exactly as with the real cache (a win replaces
 * the entry, a loss deletes it).
 */
class SharedTakeCache extends PromiseCache {
  override take(key: string): WarmEntry | undefined {
    const e = super.take(key);
    if (e) this.set(key, e);
    return e;
  }
}

/** A QuorumClient that tallies the outcome of every change it returns (proposer-level rates). */
class CountingClient extends QuorumClient {
  constructor(
    private readonly counts: Record<string, number>,
    o: QuorumClientOptions,
  ) {
    super(o);
  }

  override async change<T>(keys: readonly string[], f: ChangeFn<T>): Promise<ChangeOutcome<T>> {
    const out = await super.change(keys, f);
    const k =
      out.status === "unknown" || out.status === "unavailable"
        ? `${out.status}: ${out.reason}`
        : out.status;
    this.counts[k] = (this.counts[k] ?? 0) + 1;
    return out;
  }
}
