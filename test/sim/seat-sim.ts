import { type SeatOutcome, SeatService } from "../../shared/seats/service.ts";
import type { HoldRecord, IdemRecord, SeatValue } from "../../shared/seats/types.ts";
import type { SimNode } from "./network.ts";
import type { SimRunResult } from "./register-sim.ts";
import { type FaultOptions, makeWorld, type World } from "./world.ts";

/**
 * The seat workload: customers hold 1-3 of six seats (two sections), then confirm, release or walk
 * away, through three coordinators (one per provider) whose clocks are skewed and which may be
 * killed mid-change (a killed one is replaced by a fresh instance). Requests that time out or come
 * back unknown are retried with the same idempotency key on another coordinator, and some are sent
 * twice at once. After the run heals, a sweeper settles every hold and the seat invariants are
 * checked on the quorum state.
 */

/** Virtual hold lifetime: short, so expiry and takeover happen within a run. */
const SIM_HOLD_TTL_MS = 400;
/** How long a customer waits for a coordinator before retrying elsewhere. */
const CUSTOMER_TIMEOUT_MS = 3_000;
const REQUEST_TRIES = 3;
const SECTIONS = ["A", "B"];
const SEATS_PER_SECTION = 3;
const EVENT = "e1";

interface Coordinator {
  svc: SeatService;
  node: SimNode;
}

export interface SeatSimOptions extends FaultOptions {
  seed: number;
  customers?: number;
  /** Largest clock offset of a coordinator (virtual ms); the default stays within the margin. */
  maxSkewMs?: number;
}

export async function runSeatSim(o: SeatSimOptions): Promise<SimRunResult> {
  const world = makeWorld(o.seed, o);
  const { rng, sched } = world;
  const maxSkew = o.maxSkewMs ?? 2_000;
  const coords: Coordinator[] = [];
  let generation = 0;
  const spawn = (i: number): Coordinator => {
    const { client, node } = world.client(`c${i}g${generation++}`, 0);
    const skew = rng.int(-maxSkew, maxSkew);
    const r = rng.fork();
    const svc = new SeatService(client, {
      now: () => sched.now + skew,
      randomBytes: (n) => r.bytes(n),
      holdTtlMs: SIM_HOLD_TTL_MS,
    });
    return { svc, node };
  };
  for (let i = 0; i < 3; i++) coords.push(spawn(i));
  const coordinator = (i: number): Coordinator => {
    if (coords[i]!.node.killed) coords[i] = spawn(i);
    return coords[i]!;
  };

  const outcomes: Record<string, number> = {};
  let killed = 0;
  const holdsOk: { key: string; holdId: string }[] = [];
  const confirmsOk: { key: string; holdId: string; orderId: string }[] = [];

  /** One customer request: retried on other coordinators, sometimes duplicated concurrently. */
  async function request<T>(
    wl: typeof rng,
    run: (svc: SeatService) => Promise<SeatOutcome<T>>,
    onOk: (value: T) => void = () => {},
  ): Promise<SeatOutcome<T> | null> {
    let last: SeatOutcome<T> | null = null;
    for (let t = 0; t < REQUEST_TRIES; t++) {
      const attempt = async (): Promise<SeatOutcome<T> | null> => {
        const c = coordinator(wl.int(0, 2));
        if (world.maybeKill(c.node)) killed++;
        const timeout = sched.sleep(CUSTOMER_TIMEOUT_MS).then(() => null);
        const r = await Promise.race([run(c.svc), timeout]);
        c.node.disarm();
        return r;
      };
      const tries = wl.chance(0.15) ? [attempt(), attempt()] : [attempt()];
      for (const r of await Promise.all(tries)) {
        const k = r === null ? "timeout" : r.ok ? "ok" : r.code;
        outcomes[k] = (outcomes[k] ?? 0) + 1;
        if (r?.ok) {
          onOk(r.value);
          last = r;
        } else if (r && !last?.ok) last = r;
      }
      if (last && (last.ok || (last.code !== "unknown" && last.code !== "unavailable"))) break;
    }
    return last;
  }

  const nCustomers = o.customers ?? rng.int(3, 6);
  const loops: Promise<void>[] = [];
  for (let c = 0; c < nCustomers; c++) {
    const wl = rng.fork();
    loops.push(
      (async () => {
        await sched.sleep(wl.int(0, 200));
        const want = wl.int(1, 3);
        const seats = new Map<string, { section: string; seatId: string }>();
        while (seats.size < want) {
          const section = wl.pick(SECTIONS);
          const seatId = `s${wl.int(1, SEATS_PER_SECTION)}`;
          seats.set(`${section}/${seatId}`, { section, seatId });
        }
        const caller = `u${c}`;
        const hold = await request(
          wl,
          (svc) => svc.hold(caller, "h", { eventId: EVENT, seats: [...seats.values()] }),
          (v) => holdsOk.push({ key: `${caller}/h`, holdId: v.holdId }),
        );
        if (!hold?.ok) return;
        const next = wl.next();
        await sched.sleep(wl.int(0, Math.floor(SIM_HOLD_TTL_MS * 1.5)));
        if (next < 0.65) {
          await request(
            wl,
            (svc) => svc.confirm(caller, "c", { holdId: hold.value.holdId }),
            (v) => confirmsOk.push({ key: `${caller}/c`, holdId: v.holdId, orderId: v.orderId }),
          );
        } else if (next < 0.85) {
          await request(wl, (svc) => svc.release(caller, hold.value.holdId));
        }
      })(),
    );
  }
  await sched.run();

  // Heal, then a sweeper far in the future settles every hold (all have expired by then).
  world.heal();
  const { client: sweeperClient } = world.client("sweeper", 0);
  const sweeper = new SeatService(sweeperClient, {
    now: () => sched.now + 10_000_000,
    randomBytes: (n) => new Uint8Array(n).fill(0x80),
    holdTtlMs: SIM_HOLD_TTL_MS,
  });
  const violations: string[] = [];
  const audit = (async () => {
    const all = new Set<string>();
    for (const a of world.acceptors) for (const k of a.records.keys()) all.add(k);
    const seatKeys = [...all].filter((k) => k.startsWith("seat/")).sort();
    const read = async <T>(keys: string[]): Promise<Map<string, T | null>> => {
      const m = new Map<string, T | null>();
      for (const k of keys) {
        const g = await sweeperClient.get<T>([k], { consistency: "quorum" });
        if (g.status !== "ok") throw new Error(`final read of ${k} failed`);
        m.set(k, g.values[0] ?? null);
      }
      return m;
    };
    // Holds whose record was never written are found through the seats that point at them.
    const hints = new Map<string, { seats: string[]; expiresAtMs: number }>();
    for (const [k, s] of await read<SeatValue>(seatKeys)) {
      if (s?.state === "held") {
        const h = hints.get(s.holdId) ?? { seats: [], expiresAtMs: s.expiresAtMs };
        h.seats.push(k);
        hints.set(s.holdId, h);
      }
    }
    const holdIds = new Set([...all].filter((k) => k.startsWith("hold/")).map((k) => k.slice(5)));
    for (const id of hints.keys()) holdIds.add(id);
    for (const id of [...holdIds].sort()) {
      const r = await sweeper.settle(id, hints.get(id));
      if (!r.ok && r.code !== "not-found") violations.push(`settle ${id} failed: ${r.code}`);
    }
    const holds = await read<HoldRecord>([...holdIds].sort().map((id) => `hold/${id}`));
    const seatsNow = await read<SeatValue>(seatKeys);
    const idems = await read<IdemRecord>([...all].filter((k) => k.startsWith("idem/")).sort());
    violations.push(...checkSeatInvariants(holds, seatsNow, idems, holdsOk, confirmsOk));
  })();
  await sched.run();
  try {
    await audit;
  } catch (e) {
    violations.push(String(e));
  }
  void loops;

  return {
    seed: o.seed,
    ok: violations.length === 0,
    violation: violations.length > 0 ? violations.join("; ") : undefined,
    faults: world.faults,
    ops: Object.values(outcomes).reduce((a, b) => a + b, 0),
    unknown: (outcomes.unknown ?? 0) + (outcomes.timeout ?? 0),
    killed,
    messages: world.net.messages,
    events: sched.events,
    outcomes,
    changes: world.changes,
  };
}

/** The seat invariants, on the final quorum state after every hold was settled. */
export function checkSeatInvariants(
  holds: Map<string, HoldRecord | null>,
  seats: Map<string, SeatValue | null>,
  idems: Map<string, IdemRecord | null>,
  holdsOk: readonly { key: string; holdId: string }[],
  confirmsOk: readonly { key: string; holdId: string; orderId: string }[],
): string[] {
  const v: string[] = [];
  const owner = new Map<string, string>();
  for (const [k, h] of holds) {
    if (h?.state !== "sold") continue;
    const holdId = k.slice(5);
    for (const s of h.seats) {
      // No seat sold twice.
      const prev = owner.get(s);
      if (prev) v.push(`seat ${s} sold to both ${prev} and ${holdId}`);
      owner.set(s, holdId);
      // All or nothing: every seat of a sale is sold to it.
      const sv = seats.get(s);
      if (sv?.state !== "sold" || sv.holdId !== holdId || sv.orderId !== h.orderId) {
        v.push(`sale ${h.orderId} (${holdId}) is missing seat ${s}: ${JSON.stringify(sv)}`);
      }
    }
  }
  for (const [k, s] of seats) {
    if (s?.state === "sold") {
      const h = holds.get(`hold/${s.holdId}`);
      if (h?.state !== "sold" || h.orderId !== s.orderId) {
        v.push(`seat ${k} sold to ${s.orderId} without a matching sale`);
      }
    }
    // Every hold has expired by the sweep: nothing may stay held.
    if (s?.state === "held") v.push(`seat ${k} still held by ${s.holdId} after the sweep`);
  }
  // No confirmed sale lost.
  for (const c of confirmsOk) {
    const h = holds.get(`hold/${c.holdId}`);
    if (h?.state !== "sold" || h.orderId !== c.orderId) {
      v.push(`confirmed order ${c.orderId} lost: hold ${c.holdId} is ${JSON.stringify(h)}`);
    }
  }
  // Idempotent retries make one effect: one hold id per hold key, one order per confirm key,
  // and every hold record belongs to the id its idempotency claim pinned.
  const one = (list: readonly { key: string; id: string }[], what: string) => {
    const seen = new Map<string, string>();
    for (const x of list) {
      const p = seen.get(x.key);
      if (p && p !== x.id) v.push(`${what} key ${x.key} answered both ${p} and ${x.id}`);
      seen.set(x.key, x.id);
    }
  };
  one(
    holdsOk.map((h) => ({ key: h.key, id: h.holdId })),
    "hold",
  );
  one(
    confirmsOk.map((c) => ({ key: c.key, id: c.orderId })),
    "confirm",
  );
  const claimed = new Set([...idems.values()].filter((i) => i?.op === "hold").map((i) => i!.id));
  for (const [k, h] of holds) {
    if (h && h.state !== "expired" && !claimed.has(k.slice(5))) {
      v.push(`hold ${k} exists without an idempotency claim naming it`);
    }
  }
  const soldByKey = new Map<string, number>();
  for (const h of holds.values()) {
    if (h?.state === "sold") soldByKey.set(h.confirm.key, (soldByKey.get(h.confirm.key) ?? 0) + 1);
  }
  for (const [k, n] of soldByKey) if (n > 1) v.push(`confirm key ${k} sold ${n} holds`);
  return v;
}

export type { World };
