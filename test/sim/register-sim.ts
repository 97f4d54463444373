import type { ChangeOutcome } from "../../shared/quorum/proposer.ts";
import {
  checkHistory,
  type Operation,
  type RegisterInput,
  type RegisterOutput,
  registerModel,
} from "./linearizability.ts";
import type { BreakMode } from "./network.ts";
import { type FaultOptions, makeWorld } from "./world.ts";

/**
 * The register workload: a few proposers run reads, blind writes, compare-and-sets and two-key
 * writes against three keys while the world injects faults; the client-visible history is then
 * checked for linearizability, including final quorum reads after every fault healed (so a write
 * that was acknowledged and later lost shows up as a stale read).
 */

export interface RegisterSimOptions extends FaultOptions {
  seed: number;
  clients?: number;
  opsPerClient?: number;
  keys?: number;
}

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
}

type Op = Operation<RegisterInput, RegisterOutput>;

export async function runRegisterSim(o: RegisterSimOptions): Promise<SimRunResult> {
  const world = makeWorld(o.seed, o);
  const { rng, sched } = world;
  const keys = Array.from({ length: o.keys ?? 3 }, (_, i) => `reg/k${i}`);
  const history: Op[] = [];
  let clock = 0;
  let nextId = 0;
  let killed = 0;
  const outcomes: Record<string, number> = {};
  const tallyOutcome = (out: ChangeOutcome<unknown> | { status: string; reason?: string }) => {
    const k =
      "reason" in out && out.status !== "aborted" ? `${out.status}: ${out.reason}` : out.status;
    outcomes[k] = (outcomes[k] ?? 0) + 1;
  };

  const record = (key: string, input: RegisterInput) => {
    const op = { id: nextId++, key, input, call: clock++, ret: Number.POSITIVE_INFINITY };
    history.push(op);
    return op;
  };
  const complete = (op: Op, output: RegisterOutput | "fail" | "unknown") => {
    const i = history.indexOf(op);
    if (output === "fail") history.splice(i, 1);
    else if (output !== "unknown") history[i] = { ...op, ret: clock++, output };
  };

  const nClients = o.clients ?? rng.int(2, 4);
  const opsPer = o.opsPerClient ?? rng.int(6, 14);
  const loops: Promise<void>[] = [];
  for (let c = 0; c < nClients; c++) {
    const { client, node } = world.client(`p${c}`, rng.int(-20, 20));
    const wl = rng.fork();
    const seen = new Map<string, string | null>();
    loops.push(
      (async () => {
        for (let n = 0; n < opsPer; n++) {
          if (node.killed) return;
          const key = wl.pick(keys);
          const roll = wl.next();
          const value = `${c}.${n}`;
          if (world.maybeKill(node)) killed++;
          if (roll < 0.3) {
            const op = record(key, { f: "read" });
            // Half the reads are read-only majority reads, half repairing quorum reads.
            const consistency = roll < 0.15 ? "majority" : "quorum";
            const out = await client.get<string>([key], { consistency });
            tallyOutcome(out);
            if (out.status === "ok") {
              seen.set(key, out.values[0] ?? null);
              complete(op, { f: "read", value: out.values[0] ?? null });
            } else complete(op, "fail");
          } else if (roll < 0.55) {
            const op = record(key, { f: "write", value });
            const out = await client.change<string>([key], () => ({ values: [value] }));
            tallyOutcome(out);
            complete(op, verdict(out, { f: "write" }));
          } else if (roll < 0.85) {
            const from = seen.has(key) ? seen.get(key)! : null;
            const op = record(key, { f: "cas", from, to: value });
            const out = await client.change<string>([key], (cur) =>
              cur[0] === from ? { values: [value] } : { abort: "mismatch" },
            );
            tallyOutcome(out);
            if (out.status === "aborted") {
              seen.set(key, out.values[0] ?? null);
              complete(op, { f: "cas", ok: false });
            } else complete(op, verdict(out, { f: "cas", ok: true }));
          } else {
            // Two keys in one change: one batch per acceptor per phase.
            const k2 = keys[(keys.indexOf(key) + 1) % keys.length]!;
            const pair = key === k2 ? [key] : [key, k2];
            const ops = pair.map((k) => record(k, { f: "write", value }));
            const out = await client.change<string>(pair, () => ({
              values: pair.map(() => value),
            }));
            tallyOutcome(out);
            for (const op of ops) complete(op, verdict(out, { f: "write" }));
          }
          node.disarm();
          await node.sleep(wl.int(0, 15));
        }
      })(),
    );
  }
  await sched.run();
  await Promise.race([Promise.all(loops), Promise.resolve()]);

  // Every fault is over: one fresh proposer reads every key through a quorum.
  world.heal();
  const { client: finalReader } = world.client("final", 0);
  // A final read that fails leaves lost writes unseen, so it makes the run inconclusive.
  const unread: string[] = [];
  const finals = (async () => {
    for (const key of keys) {
      const op = record(key, { f: "read" });
      const out = await finalReader.get<string>([key], { consistency: "quorum" });
      if (out.status !== "ok") unread.push(key);
      complete(op, out.status === "ok" ? { f: "read", value: out.values[0] ?? null } : "fail");
    }
  })();
  await sched.run();
  await finals;

  const res = checkHistory(registerModel, history);
  if (process.env.SIM_DUMP)
    for (const h of history) if (h.key === process.env.SIM_DUMP) console.log(JSON.stringify(h));
  const inconclusive = res.inconclusive === true || unread.length > 0;
  return {
    seed: o.seed,
    ok: res.ok && unread.length === 0,
    violation: res.inconclusive
      ? `inconclusive: the linearizability search for key ${res.key} hit its step limit`
      : !res.ok
        ? `key ${res.key} not linearizable; longest linearizable prefix ${JSON.stringify(res.longestPrefix)}`
        : unread.length > 0
          ? `inconclusive: the final quorum read of ${unread.join(", ")} failed`
          : undefined,
    ...(inconclusive ? { inconclusive } : {}),
    searchSteps: res.steps,
    faults: world.faults,
    ops: history.length,
    unknown: history.filter((h) => h.ret === Number.POSITIVE_INFINITY).length,
    killed,
    messages: world.net.messages,
    events: sched.events,
    outcomes,
    changes: world.changes,
  };
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
