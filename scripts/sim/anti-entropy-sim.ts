import { antiEntropy, disagreeingKeys } from "../../shared/quorum/anti-entropy.ts";
import { QuorumClient } from "../../shared/quorum/client.ts";
import { asMember, MEMBER, type Membership } from "../../shared/quorum/membership.ts";
import type {
  AcceptEntry,
  AcceptorRecord,
  AcceptReply,
  PrepareReply,
  PrepareRequest,
  ScanPage,
} from "../../shared/quorum/messages.ts";
import {
  type MembershipAccess,
  type RejoinProgress,
  rejoinStep,
} from "../../shared/quorum/rejoin.ts";
import type { AcceptorPort } from "../../shared/storage/ports.ts";
import { type BreakMode, SimAcceptor, SimNetwork, SimNode } from "./network.ts";
import { Rng } from "./random.ts";
import type { Scheduler } from "./scheduler.ts";

/**
 * Anti-entropy inside the simulation, and amnesia handled by the membership rule
 * (shared/quorum/membership.ts, rejoin.ts). A sweeper coordinator runs the real anti-entropy pass
 * at random times during the workload; a run with amnesia rolls one store back and marks it
 * rejoining at the same instant, and the sweeper then runs the real rejoin walk until the store is
 * a member again. Everything here draws from streams of its own, so the workloads' and faults'
 * draws keep their meaning.
 */

/** Share of runs in which one store is rolled back (unless `--amnesia` forces it in every run). */
export const AMNESIA_SHARE = 0.25;
/** Seeds the amnesia fault's own random stream. */
const AMNESIA_STREAM = 0x9e3779b9;
/** Seeds the sweeper's own stream (its schedule and its messages' delays). */
const SWEEP_STREAM = 0x165667b1;
/** Routine passes run in this window of virtual time (the workloads' busy part). */
const SWEEP_WINDOW_MS = 800;
/** Walk steps before the sweeper gives up (a voting store down for the rest of the run). */
const REJOIN_STEPS_MAX = 40;
/** Pause between rejoin steps that did not end the walk. */
const REJOIN_PAUSE_MS = 20;

export const AE_REPAIRED = "anti-entropy keys repaired";
export const REJOINING = "stores rejoining after amnesia";
export const REJOIN_MOVED = "keys moved by the rejoin sweep";
export const REJOINED = "stores back to member";
export const BROKEN_COPIES = "repairs copied without comparing ballots";

/**
 * A simulated store with a membership: while rejoining its replies say it does not vote (the same
 * pure `asMember` the production decorator applies), unless the rule is broken
 * (`amnesia-rejoin`: the rolled-back store keeps voting). The membership is not in `records`: the
 * simulator marks the store in the same instant it rolls it back.
 */
export class SimStore extends SimAcceptor {
  membership: Membership = MEMBER;

  constructor(
    index: number,
    private readonly mode?: BreakMode,
  ) {
    super(index, mode);
  }

  private tag<R extends object>(r: R): R {
    return this.mode === "amnesia-rejoin" ? r : asMember(r, this.membership);
  }

  override prepare(req: PrepareRequest): PrepareReply[] {
    return super.prepare(req).map((r) => this.tag(r));
  }

  override accept(entries: readonly AcceptEntry[]): AcceptReply[] {
    return super.accept(entries).map((r) => this.tag(r));
  }

  override read(keys: readonly string[]): AcceptorRecord[] {
    return super.read(keys).map((r) => this.tag(r));
  }

  override scan(prefix: string, cursor: string | undefined, limit: number): ScanPage {
    return this.tag(super.scan(prefix, cursor, limit));
  }

  /** The broken repair's write: the record replaced whole, no ballot compared. */
  overwrite(rec: AcceptorRecord): void {
    this.records.set(rec.key, {
      key: rec.key,
      promised: rec.promised,
      accepted: rec.accepted,
      value: rec.value,
    });
  }

  /** The membership record as the rejoin walk reaches it (on the store itself, no network). */
  access(): MembershipAccess {
    return {
      read: async () => this.membership,
      markMember: async (epoch) => {
        if (this.membership.state !== "rejoining" || this.membership.epoch !== epoch) return false;
        this.membership = { state: "member", epoch };
        return true;
      },
    };
  }
}

export interface SweepWorld {
  readonly seed: number;
  readonly sched: Scheduler;
  readonly acceptors: readonly SimStore[];
  readonly net: SimNetwork;
  readonly faults: string[];
}

export interface SweepOptions {
  amnesia?: boolean;
  break?: BreakMode;
  timeoutMs: number;
}

/**
 * Schedules the amnesia fault (when drawn) and the sweeper; returns the counts it keeps, which
 * the workloads report as "rules exercised".
 */
export function startSweeper(w: SweepWorld, o: SweepOptions): Record<string, number> {
  const counts: Record<string, number> = {};
  const bump = (k: string, n = 1) => {
    counts[k] = (counts[k] ?? 0) + n;
  };
  const rng = new Rng(w.seed ^ SWEEP_STREAM);
  // Its own network (same stores, same conditions, own delays) so its draws shift nobody else's.
  const net = new SimNetwork(w.sched, rng.fork(), w.acceptors, w.net.cfg);
  Object.defineProperty(net, "cfg", { get: () => w.net.cfg });
  const node = new SimNode("ae", w.sched);
  const ports = [0, 1, 2].map((i) => timed(net.port(node, i), w.sched, o.timeoutMs));
  const client = new QuorumClient({
    acceptors: ports,
    proposerId: "ae",
    now: () => w.sched.now,
    random: () => rng.next(),
    sleep: node.sleep,
    timeoutMs: o.timeoutMs,
    maxAttempts: 5,
  });

  const passes = rng.int(1, 4);
  const limit = rng.int(4, 40);
  for (let i = 0; i < passes; i++) {
    w.sched.at(rng.int(0, SWEEP_WINDOW_MS), () => {
      if (o.break === "repair-ballot") void brokenRepair(ports, w, rng.fork(), bump);
      else
        void antiEntropy(client, ports, "", { limit }).then((r) => bump(AE_REPAIRED, r.repaired));
    });
  }

  const am = new Rng(w.seed ^ AMNESIA_STREAM);
  if (!(o.amnesia || am.chance(AMNESIA_SHARE))) return counts;
  const victim = am.int(0, 2);
  const snap = am.int(0, 100);
  const back = snap + am.int(20, 200);
  const store = w.acceptors[victim]!;
  w.faults.push(`acceptor ${victim} amnesia: snapshot ${snap}ms, rolled back and marked ${back}ms`);
  w.sched.at(snap, () => store.takeSnapshot());
  w.sched.at(back, () => {
    store.rollBack();
    store.membership = {
      state: "rejoining",
      epoch: store.membership.epoch + 1,
      markedAtMs: w.sched.now,
    };
    bump(REJOINING);
    void rejoin(store, victim);
  });

  // The walk may start once every message sent before the mark has landed or been given up on
  // (a proposer counts only replies within its timeout): the timeout plus the longest delay.
  const delayMs = o.timeoutMs + 20;
  async function rejoin(store: SimStore, index: number): Promise<void> {
    let progress: RejoinProgress | null = null;
    const access = store.access();
    if (o.break === "rejoin-unswept") {
      // Broken: back to member once in-flight messages are over, without the walk.
      await node.sleep(delayMs);
      store.membership = { state: "member", epoch: store.membership.epoch };
      bump(REJOINED);
      return;
    }
    for (let s = 0; s < REJOIN_STEPS_MAX; s++) {
      const step = await rejoinStep(client, ports, index, access, progress, {
        limit,
        now: w.sched.now,
        delayMs,
      });
      if (step.slice) bump(REJOIN_MOVED, step.slice.moved);
      if (step.rejoined) bump(REJOINED);
      if (step.progress === null) return;
      progress = step.progress;
      const wait = step.waiting ? (step.membership.markedAtMs ?? 0) + delayMs - w.sched.now : 0;
      await node.sleep(Math.max(REJOIN_PAUSE_MS, wait));
    }
  }
  return counts;
}

/**
 * The `repair-ballot` break: a repair that reads the stores and copies what it saw on one of them
 * onto the others, record and all, without comparing ballots (a backup-style copy instead of a
 * quorum change). A stale store's record then overwrites a newer chosen value.
 */
async function brokenRepair(
  ports: readonly AcceptorPort[],
  w: SweepWorld,
  rng: Rng,
  bump: (k: string, n?: number) => void,
): Promise<void> {
  const scans = await Promise.all(
    ports.map((p) =>
      p
        .scan("", { limit: 1000 })
        .then((s) => s.records)
        .catch(() => null),
    ),
  );
  for (const key of disagreeingKeys(scans)) {
    const seen = scans.flatMap((s, i) => {
      const r = s?.find((x) => x.key === key);
      return r ? [{ i, r }] : [];
    });
    if (seen.length === 0) continue;
    const src = rng.pick(seen);
    for (const [i, store] of w.acceptors.entries()) {
      if (i === src.i || scans[i] === null) continue;
      // Delivered like a message: after a delay, unless the store is unreachable.
      w.sched.after(rng.int(1, 20), () => {
        if (store.health === "up") store.overwrite(src.r);
      });
    }
    bump(BROKEN_COPIES);
  }
}

/** A port whose calls fail after `ms` instead of hanging (a partitioned store never answers). */
function timed(p: AcceptorPort, sched: Scheduler, ms: number): AcceptorPort {
  const race = <R>(call: Promise<R>): Promise<R> =>
    Promise.race([
      call,
      sched.sleep(ms).then(() => {
        throw new Error("timed out");
      }),
    ]);
  return {
    prepare: (req) => race(p.prepare(req)),
    accept: (entries) => race(p.accept(entries)),
    read: (keys) => race(p.read(keys)),
    scan: (prefix, opts) => race(p.scan(prefix, opts)),
    deleteIf: (entries) => race(p.deleteIf(entries)),
    ping: () => race(p.ping()),
  };
}
