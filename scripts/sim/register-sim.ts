import type { PromiseCache } from "../../shared/quorum/cache.ts";
import type { QuorumClient } from "../../shared/quorum/client.ts";
import { type ChangeOutcome, serialize } from "../../shared/quorum/proposer.ts";
import type { AcceptorPort } from "../../shared/storage/ports.ts";
import { ClockPlan } from "./clock.ts";
import { ChosenValues } from "./committed-reads.ts";
import { GcSim, isGcBreak, simLifetimes } from "./gc-sim.ts";
import { countKills } from "./kills.ts";
import {
  checkHistory,
  type Operation,
  type RegisterInput,
  type RegisterOutput,
  registerModel,
} from "./linearizability.ts";
import type { BreakMode, SimAcceptor, SimNode } from "./network.ts";
import { Rng } from "./random.ts";
import { type FaultOptions, makeWorld, type World } from "./world.ts";

/**
 * The register workload: a few proposers run reads, blind writes, compare-and-sets and two-key
 * writes against three keys while the world injects faults (in half of the runs each proposer
 * instance serves 2-3 operations at once through its one QuorumClient, as a deployed instance
 * serves concurrent requests; clocks are skewed by ±20 ms, by seconds in a quarter of the runs,
 * and stepped once in 30 % of them); the client-visible history is then
 * checked for linearizability, including final quorum reads after every fault healed (so a write
 * that was acknowledged and later lost shows up as a stale read).
 */

export interface RegisterSimOptions extends FaultOptions {
  seed: number;
  clients?: number;
  opsPerClient?: number;
  keys?: number;
  /** Concurrent operation streams per coordinator instance (one QuorumClient, one cache). */
  lanes?: number;
  /** Tombstone writes, a garbage collector and frozen coordinators (gc-sim.ts); on under the gc
   * break modes too. */
  gc?: boolean;
}

/** Share of runs whose coordinators each serve 2-3 operations at once (the rest serve one). */
const LANE_SHARE = 0.5;
/** With lanes: share of compare-and-sets sent twice at once (different new values). */
const TWIN_CAS = 0.25;
/** Seeds the lanes' own random stream (any constant apart from the world's). */
const LANE_STREAM = 0x5bd1e995;
/** Seeds the local reads' own stream. */
const LOCAL_READ_STREAM = 0x85ebca6b;
/** Share of operations followed by a local (committed-only) read of a random key. */
const LOCAL_READ_SHARE = 0.25;
/** Share of writes whose key is primed first (its prepare run ahead: QuorumClient.prime), as a
 * confirm primes its keys while the card is authorised; the change then only accepts. */
const PRIME_SHARE = 0.3;

export interface SimRunResult {
  seed: number;
  ok: boolean;
  violation?: string;
  /** The run could not be checked (search cut off, or a final read failed): a failure too. */
  inconclusive?: boolean;
  /** Linearizability search steps over all keys (registers only). */
  searchSteps?: number;
  faults: string[];
  ops: number;
  unknown: number;
  killed: number;
  messages: number;
  events: number;
  /** Outcomes by status (and reason, for the ones that did not succeed). */
  outcomes: Record<string, number>;
  /** Outcomes of the proposer's changes (reads included), by status and reason. */
  changes: Record<string, number>;
  /** How often each rule under test was reached in this run (printed as "rules exercised"). */
  exercised?: Record<string, number>;
}

type Op = Operation<RegisterInput, RegisterOutput>;

export async function runRegisterSim(o: RegisterSimOptions): Promise<SimRunResult> {
  const run = new RegisterRun(o);
  const { world, clocks, gc, bump } = run;
  const { sched } = world;
  const loops: Promise<void>[] = [];
  for (let c = 0; c < run.nClients; c++) startInstance(run, c, loops);
  const sweeper = gc?.sweep("reg/");
  await sched.run();
  await Promise.race([Promise.all(loops), Promise.resolve()]);
  await Promise.race([sweeper, Promise.resolve()]);

  // Every fault is over: one fresh proposer reads every key through a quorum.
  world.heal();
  // A final read that fails leaves lost writes unseen, so it makes the run inconclusive.
  const unread: string[] = [];
  const finals = readFinalValues(run, unread);
  await sched.run();
  await finals;

  countKills(world.kills, bump);
  for (const st of clocks.stepped) {
    bump("clock steps");
    world.faults.push(st);
  }
  if (clocks.bigSkew) bump("runs with clocks skewed by seconds");
  for (const [k, n] of Object.entries(gc?.counts ?? {})) run.exercised[k] = n;
  return registerResult(run, unread);
}

/** What the instances and lanes of one register run share: the world, the run's draws, the
 * history they record and what they tally. */
class RegisterRun {
  readonly world: World;
  readonly keys: string[];
  readonly history: Op[] = [];
  private clock = 0;
  private nextId = 0;
  killed = 0;
  readonly outcomes: Record<string, number> = {};
  readonly nClients: number;
  readonly opsPer: number;
  readonly laneRng: Rng;
  readonly lanes: number;
  readonly exercised: Record<string, number> = {};
  readonly chosen: ChosenValues;
  readonly localRng: Rng;
  readonly uncommitted: string[] = [];
  readonly clocks: ClockPlan;
  readonly gc: GcSim | null;

  constructor(readonly o: RegisterSimOptions) {
    const gcOn = o.gc === true || isGcBreak(o.break);
    const world = makeWorld(o.seed, gcOn ? { ...o, lifetimes: simLifetimes(o.break) } : o);
    this.world = world;
    const { rng, sched } = world;
    this.keys = Array.from({ length: o.keys ?? 3 }, (_, i) => `reg/k${i}`);
    this.nClients = o.clients ?? rng.int(2, 4);
    this.opsPer = o.opsPerClient ?? rng.int(6, 14);
    // Drawn from a stream of their own so that single-lane runs replay what they ran before.
    this.laneRng = new Rng(o.seed ^ LANE_STREAM);
    this.lanes = o.lanes ?? (this.laneRng.chance(LANE_SHARE) ? this.laneRng.int(2, 3) : 1);
    if (this.lanes > 1) world.faults.push(`${this.lanes} concurrent operations per coordinator`);
    // Local reads are not linearizable (they may be stale), so they stay out of the history and are
    // checked against every value ever chosen instead: they must never serve an uncommitted one.
    this.chosen = new ChosenValues(world.acceptors);
    this.localRng = new Rng(o.seed ^ LOCAL_READ_STREAM);
    this.clocks = new ClockPlan(o.seed, sched);
    if (this.clocks.bigSkew) world.faults.push("coordinator clocks skewed by up to ±3 s");
    this.gc = gcOn ? new GcSim(o.seed, world, this.clocks, o.break) : null;
  }

  readonly tallyOutcome = (out: ChangeOutcome<unknown> | { status: string; reason?: string }) => {
    const k =
      "reason" in out && out.status !== "aborted" ? `${out.status}: ${out.reason}` : out.status;
    this.outcomes[k] = (this.outcomes[k] ?? 0) + 1;
  };

  readonly record = (key: string, input: RegisterInput) => {
    const op = { id: this.nextId++, key, input, call: this.clock++, ret: Number.POSITIVE_INFINITY };
    this.history.push(op);
    return op;
  };

  readonly complete = (op: Op, output: RegisterOutput | "fail" | "unknown") => {
    const i = this.history.indexOf(op);
    if (output === "fail") this.history.splice(i, 1);
    else if (output !== "unknown") this.history[i] = { ...op, ret: this.clock++, output };
  };

  readonly bump = (k: string) => {
    this.exercised[k] = (this.exercised[k] ?? 0) + 1;
  };
}

/** One coordinator instance: one QuorumClient (its ballots, its warm promise cache) shared by its
 * lanes, the port to its own store for local reads, and the keys its lanes have changes on. */
interface Instance {
  readonly client: QuorumClient;
  readonly node: SimNode;
  readonly cache: PromiseCache;
  readonly localPort: AcceptorPort;
  readonly enter: (ks: readonly string[], isChange: boolean) => void;
  readonly leave: (ks: readonly string[]) => void;
}

/** Instance c of the run, its lanes' loops pushed onto `loops`. */
function startInstance(run: RegisterRun, c: number, loops: Promise<void>[]): void {
  const { world, clocks, gc, bump } = run;
  const { rng } = world;
  const { client, node, cache } = world.client(`p${c}`, clocks.clock(`p${c}`, rng.int(-20, 20)));
  const localPort = world.net.port(node, 0);
  gc?.planFreeze(node);
  const firstLane = rng.fork();
  /** Keys this instance has a change in flight on, with how many. */
  const busy = new Map<string, number>();
  const enter = (ks: readonly string[], isChange: boolean) => {
    if (ks.some((k) => (busy.get(k) ?? 0) > 0)) {
      bump("same-instance overlaps on a key");
      if (isChange && ks.every((k) => cache.has(k))) bump("warm changes overlapping on a key");
    }
    for (const k of ks) busy.set(k, (busy.get(k) ?? 0) + 1);
  };
  const leave = (ks: readonly string[]) => {
    for (const k of ks) busy.set(k, busy.get(k)! - 1);
  };
  const inst: Instance = { client, node, cache, localPort, enter, leave };
  for (let lane = 0; lane < run.lanes; lane++) {
    // Each lane is one request stream of the instance (its own reads for compare-and-set); all
    // lanes share the instance's QuorumClient, so its ballots and its warm promise cache.
    const wl = lane === 0 ? firstLane : run.laneRng.fork();
    const tag = lane === 0 ? `${c}` : `${c}.${lane}`;
    loops.push(runLane(run, inst, wl, tag));
  }
}

/**
 * One lane: reads, blind writes, compare-and-sets and two-key writes on random keys, each maybe
 * followed by a local read, until its instance dies. Every await of an operation stays here (the
 * helpers around it are synchronous or hand back the very promise awaited), so lanes interleave
 * exactly as they are scheduled.
 */
async function runLane(run: RegisterRun, inst: Instance, wl: Rng, tag: string): Promise<void> {
  const { world, keys, gc } = run;
  const { client, node, enter, leave } = inst;
  const seen = new Map<string, string | null>();
  for (let n = 0; n < run.opsPer; n++) {
    if (node.killed) return;
    const key = wl.pick(keys);
    const roll = wl.next();
    const value = `${tag}.${n}`;
    // A kill takes the whole instance down, every lane's change in flight with it.
    if (world.maybeKill(node)) run.killed++;
    if (roll >= 0.3 && wl.chance(PRIME_SHARE)) {
      run.bump("writes primed first");
      await client.prime([key]);
    }
    if (roll < 0.3) {
      const op = run.record(key, { f: "read" });
      // Half the reads are read-only majority reads, half repairing quorum reads.
      const consistency = roll < 0.15 ? "majority" : "quorum";
      enter([key], consistency === "quorum");
      const out = await client.get<string>([key], { consistency });
      leave([key]);
      run.tallyOutcome(out);
      if (out.status === "ok") {
        seen.set(key, out.values[0] ?? null);
        run.complete(op, { f: "read", value: out.values[0] ?? null });
      } else run.complete(op, "fail");
    } else if (roll < 0.55) {
      // With the collector on, some writes delete: they write the tombstone null.
      const written = gc?.tombstone() ? null : value;
      const op = run.record(key, { f: "write", value: written });
      enter([key], true);
      const out = await client.change<string>([key], () => ({ values: [written] }));
      leave([key]);
      run.tallyOutcome(out);
      run.complete(op, verdict(out, { f: "write" }));
    } else if (roll < 0.85) {
      await compareAndSet(run, inst, seen, key, value);
    } else {
      const pair = startTwoKeyWrite(run, inst, key, value);
      const out = await client.change<string>(pair.keys, () => ({
        values: pair.keys.map(() => value),
      }));
      finishTwoKeyWrite(run, inst, pair, value, out);
    }
    node.disarm();
    if (run.localRng.chance(LOCAL_READ_SHARE)) {
      const k = run.localRng.pick(keys);
      checkLocalRead(run, k, await readLocal(run, inst, k));
    }
    await node.sleep(wl.int(0, 15));
  }
}

/** A compare-and-set from the value this lane last saw: the promise of its one change, or of two
 * racing (not async itself, so the lane awaits exactly what it awaited inline). */
function compareAndSet(
  run: RegisterRun,
  inst: Instance,
  seen: Map<string, string | null>,
  key: string,
  value: string,
): Promise<unknown> {
  const from = seen.has(key) ? seen.get(key)! : null;
  // With lanes, sometimes two requests of the instance race the same compare-and-set
  // (at most one may win): the case a warm path that lets two changes spend one
  // cached promise gets wrong.
  if (run.lanes > 1 && run.laneRng.chance(TWIN_CAS)) {
    run.bump("twin compare-and-sets on one instance");
    return Promise.all([
      casChange(run, inst, seen, key, from, value),
      casChange(run, inst, seen, key, from, `${value}'`),
    ]);
  }
  return casChange(run, inst, seen, key, from, value);
}

async function casChange(
  run: RegisterRun,
  { client, enter, leave }: Instance,
  seen: Map<string, string | null>,
  key: string,
  from: string | null,
  to: string,
): Promise<void> {
  const op = run.record(key, { f: "cas", from, to });
  enter([key], true);
  const out = await client.change<string>([key], (cur) =>
    cur[0] === from ? { values: [to] } : { abort: "mismatch" },
  );
  leave([key]);
  run.tallyOutcome(out);
  if (out.status === "aborted") {
    seen.set(key, out.values[0] ?? null);
    run.complete(op, { f: "cas", ok: false });
  } else {
    // A lane that won its compare-and-set knows the value (and builds on it).
    if (out.status === "ok") seen.set(key, to);
    run.complete(op, verdict(out, { f: "cas", ok: true }));
  }
}

interface TwoKeyWrite {
  readonly keys: string[];
  readonly ops: Op[];
  readonly staleWarm: boolean;
}

/** Two keys in one change: one batch per acceptor per phase. Records it and notes whether it
 * starts warm on a stale cached value. */
function startTwoKeyWrite(
  run: RegisterRun,
  { cache, enter }: Instance,
  key: string,
  value: string,
): TwoKeyWrite {
  const { keys, world } = run;
  const k2 = keys[(keys.indexOf(key) + 1) % keys.length]!;
  const pair = key === k2 ? [key] : [key, k2];
  const ops = pair.map((k) => run.record(k, { f: "write", value }));
  enter(pair, true);
  const staleWarm = pair.length > 1 && staleCached(cache, pair, world.acceptors);
  if (staleWarm) run.bump("two-key changes started warm on a stale cached value");
  return { keys: pair, ops, staleWarm };
}

function finishTwoKeyWrite(
  run: RegisterRun,
  { leave }: Instance,
  { keys: pair, ops, staleWarm }: TwoKeyWrite,
  value: string,
  out: ChangeOutcome<string>,
): void {
  leave(pair);
  run.tallyOutcome(out);
  // Torn: not ok, and a quorum holds the new value on one key but not the other when it returns.
  const landed = pair.map(
    (k) =>
      run.world.acceptors.filter((a) => a.records.get(k)?.value === JSON.stringify(value)).length >=
      2,
  );
  if (out.status !== "ok" && landed.some((x) => x) && !landed.every((x) => x)) {
    run.bump("two-key changes torn (one key landed)");
    if (staleWarm) run.bump("two-key changes torn after a stale warm start");
  }
  for (const op of ops) run.complete(op, verdict(out, { f: "write" }));
}

/** A local read of key k, as stored text: the promise the lane awaits (not async itself). */
function readLocal(run: RegisterRun, { client, localPort }: Instance, k: string) {
  // Broken control: the local store's record as it is, committed or not.
  return run.o.break === "committed-read"
    ? localPort.read([k]).then(
        (r) => ({ status: "ok" as const, raws: [r[0]?.value ?? null] }),
        () => ({ status: "unavailable" as const }),
      )
    : client
        .get<string>([k], { consistency: "local" })
        .then((g) =>
          g.status === "ok"
            ? { status: "ok" as const, raws: g.values.map((v) => serialize(v)) }
            : g,
        );
}

/** A local read must never serve a value that was not chosen. */
function checkLocalRead(
  run: RegisterRun,
  k: string,
  raw: Awaited<ReturnType<typeof readLocal>>,
): void {
  if (raw.status === "ok") {
    run.bump("local reads");
    if (!run.chosen.wasChosen(k, raw.raws[0] ?? null)) {
      run.uncommitted.push(`local read of ${k} served ${raw.raws[0]}, never chosen`);
    }
  }
}

/** Once every fault is over, one fresh proposer reads every key through a quorum; the keys whose
 * read failed go into `unread`. */
async function readFinalValues(run: RegisterRun, unread: string[]): Promise<void> {
  const { client: finalReader } = run.world.client("final", 0);
  for (const key of run.keys) {
    const op = run.record(key, { f: "read" });
    const out = await finalReader.get<string>([key], { consistency: "quorum" });
    if (out.status !== "ok") unread.push(key);
    run.complete(op, out.status === "ok" ? { f: "read", value: out.values[0] ?? null } : "fail");
  }
}

/** The run's history checked for linearizability, and the run's result. */
function registerResult(run: RegisterRun, unread: readonly string[]): SimRunResult {
  const { o, world, history } = run;
  const res = checkHistory(registerModel, history);
  if (process.env.SIM_DUMP)
    for (const h of history) if (h.key === process.env.SIM_DUMP) console.log(JSON.stringify(h));
  const inconclusive = res.inconclusive === true || unread.length > 0;
  const checked = res.inconclusive
    ? `inconclusive: the linearizability search for key ${res.key} hit its step limit`
    : !res.ok
      ? `key ${res.key} not linearizable; longest linearizable prefix ${JSON.stringify(res.longestPrefix)}`
      : unread.length > 0
        ? `inconclusive: the final quorum read of ${unread.join(", ")} failed`
        : undefined;
  const found = [...world.ballots.clashes, ...run.uncommitted, ...(checked ? [checked] : [])];
  return {
    seed: o.seed,
    ok: found.length === 0,
    violation: found.length > 0 ? found.join("; ") : undefined,
    ...(inconclusive ? { inconclusive } : {}),
    searchSteps: res.steps,
    faults: world.faults,
    ops: history.length,
    unknown: history.filter((h) => h.ret === Number.POSITIVE_INFINITY).length,
    killed: run.killed,
    messages: world.net.messages,
    events: world.sched.events,
    outcomes: run.outcomes,
    changes: world.changes,
    exercised: { ...run.exercised, ...world.sweeps },
  };
}

/** Whether every key is warm in the cache and some key's cached value is not what a quorum of
 * acceptors holds now (the simulator sees the acceptors; a real instance cannot). */
function staleCached(
  cache: PromiseCache,
  keys: readonly string[],
  acceptors: readonly SimAcceptor[],
): boolean {
  const entries = keys.map((k) => cache.take(k));
  keys.forEach((k, j) => {
    const e = entries[j];
    if (e) cache.set(k, e);
  });
  if (entries.some((e) => e === undefined)) return false;
  return keys.some((k, j) => {
    const held = acceptors.map((a) => a.records.get(k)?.value ?? null);
    const majority = held.find((v, i) => held.indexOf(v) !== i) ?? null;
    return entries[j]!.value !== majority;
  });
}

function verdict(
  out: ChangeOutcome<string>,
  ok: RegisterOutput,
): RegisterOutput | "fail" | "unknown" {
  switch (out.status) {
    case "ok":
      return ok;
    case "unavailable":
      // Nothing of this change can have landed anywhere: it did not happen.
      return "fail";
    default:
      return "unknown";
  }
}

export type { BreakMode };
