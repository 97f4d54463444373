import { holdKey } from "../../shared/domain/keys.ts";
import type { QuorumClient } from "../../shared/quorum/client.ts";
import { collectGarbage } from "../../shared/quorum/gc.ts";
import type { ChangeResult } from "../../shared/quorum/proposer.ts";
import { RECORD_RETENTION_MS, type SeatTimings } from "../../shared/seats/changes.ts";
import { type SeatService, STEP_RETRIES } from "../../shared/seats/service.ts";
import { SWEEP_PREFIXES, sweepSeats } from "../../shared/seats/sweep.ts";
import type { HoldRecord, IdemRecord } from "../../shared/seats/types.ts";
import { withTimeout } from "./gc-sim.ts";
import type { SimNode } from "./network.ts";
import type { Rng } from "./random.ts";
import type { ClaimSeen, SeatHistory } from "./seat-model.ts";
import type { World } from "./world.ts";

/**
 * The seat sweep in the seat workload (shared/seats/sweep.ts, docs/quorum.md "The seat sweep"): a
 * sweeper coordinator with its own skewed clock runs sweepSeats over hold/ and idem/ during the
 * run with a scaled retention, and under --gc a collector deletes what it wrote null. Every sweep
 * that commits is checked as it commits (never a held or sold hold, never a record within its
 * retention on any clock the skew allows, never a swept hold alive again) and becomes an
 * operation of the seat model; every hold claim a committed change read or wrote is logged, so
 * that a request claimed again after its claim was swept is a new hold to the model.
 */

export const HOLDS_SWEPT = "unsold hold records swept (written null)";
export const CLAIMS_SWEPT = "idempotency claims swept (written null)";
export const SWEEP_ROLLBACKS = "holds past expiry rolled back by the seat sweep";
export const COLLECTED = "swept seat records deleted by the collector";
export const RECLAIMED = "hold requests claimed again after their claim was swept";
export const SWEEP_SETTLED = "ended holds whose seats the seat sweep settled";
export const SWEEP_BUDGET = "seat sweep passes cut short by their action budget";

type Sweep = { readonly key: string; readonly before: unknown };

/** The record a change function run writes null, if that run is a sweep. */
export function sweepOf<T>(
  keys: readonly string[],
  cur: readonly (T | null)[],
  r: ChangeResult<T>,
): Sweep | undefined {
  const k = keys[0];
  if (keys.length !== 1 || !k || !("values" in r)) return undefined;
  if (r.values[0] !== null || cur[0] === null || cur[0] === undefined) return undefined;
  return k.startsWith("hold/") || k.startsWith("idem/") ? { key: k, before: cur[0] } : undefined;
}

export class SweepWatch {
  /** Every hold claim seen, in the order first seen. */
  readonly claims: ClaimSeen[] = [];
  /** Claimed hold id → its claim's start. */
  private readonly ids = new Map<string, number>();
  private readonly sweptHolds = new Set<string>();

  constructor(
    private readonly o: {
      readonly history: SeatHistory;
      readonly vnow: () => number;
      readonly timings: SeatTimings;
      readonly maxSkewMs: number;
      /** A change's lifetime (seat coordinators). */
      readonly lifetimeMs: number;
      readonly early: string[];
      readonly bump: (rule: string) => void;
    },
  ) {}

  /** A value a committed change read or wrote on `key`: logged if it is a new hold claim. */
  claim(key: string, v: unknown): void {
    const c = v as IdemRecord | null | undefined;
    if (!key.startsWith("idem/") || c?.op !== "hold") return;
    const was = this.ids.get(c.id);
    if (was !== undefined) {
      // One id, one claim: a hold id claimed again (after a sweep) would revive that hold.
      if (was !== c.startedAtMs) this.o.early.push(`hold id ${c.id} claimed again on ${key}`);
      return;
    }
    this.ids.set(c.id, c.startedAtMs);
    const req = key.slice("idem/".length);
    if (this.claims.some((x) => x.key === req)) this.o.bump(RECLAIMED);
    this.claims.push({
      key: req,
      id: c.id,
      startedAtMs: c.startedAtMs,
      ...(c.expiresAtMs === undefined ? {} : { expiresAtMs: c.expiresAtMs }),
    });
  }

  /** A sweep change returned (committed or not): a model operation, and checked if it committed.
   * `at` is the sweeping clock when the committed run of the function read, `atSkew` its offset. */
  swept(s: Sweep, call: number, ok: boolean, at: number, atSkew: number): void {
    const hold = s.key.startsWith("hold/");
    const claim = s.before as IdemRecord;
    const id = hold ? s.key.slice("hold/".length) : claim.op === "hold" ? claim.id : undefined;
    const ret = ok ? this.o.vnow() : null;
    if (id !== undefined) this.o.history.swept({ kind: hold ? "hold" : "claim", id, call, ret });
    if (!ok) return;
    const t = this.o.timings;
    let ended: number | undefined;
    if (hold) {
      this.sweptHolds.add(s.key);
      this.o.bump(HOLDS_SWEPT);
      const h = s.before as HoldRecord;
      if (h.state === "held" || h.state === "sold") {
        this.o.early.push(`sweep wrote ${s.key} null while it was ${h.state}`);
      }
      ended = h.expiresAtMs;
    } else {
      this.o.bump(CLAIMS_SWEPT);
      ended = Math.max(claim.startedAtMs, claim.expiresAtMs ?? Number.NEGATIVE_INFINITY);
    }
    // The sweeper's clock reads at most maxSkew ahead of real time: a sweep no clock allowed by
    // the skew could have made past the retention ignored it (or the margin).
    const real = at - atSkew;
    const keep =
      (ended ?? Number.POSITIVE_INFINITY) + t.skewMarginMs + (t.retentionMs ?? RECORD_RETENTION_MS);
    if (real + this.o.maxSkewMs <= keep) {
      this.o.early.push(`${s.key} swept at ${real}, within its retention (kept until ${keep})`);
    }
  }

  /**
   * A committed change wrote `after` over `before` on `key`, its function run at real time `real`:
   * a swept hold never lives again (a rollback may write the "expired" tombstone over it once
   * more, which changes nothing), and step 2 creates no record once its hold is over on every
   * clock. Step 2 reads its clock (≤ expiry + margin) once, and its function runs within the
   * lifetimes of the step's changes (the first and STEP_RETRIES retries) of that on the same
   * clock, which a clock step may stretch by two offsets.
   */
  wrote(key: string, before: unknown, after: unknown, real: number): void {
    const h = after as HoldRecord | null;
    if (h !== null && h.state !== "expired" && this.sweptHolds.has(key)) {
      this.o.early.push(`${key} written ${h.state} after it was swept`);
    }
    if (key.startsWith("hold/") && before === null && h?.state === "held") {
      const latest = h.expiresAtMs + this.o.timings.skewMarginMs + 3 * this.o.maxSkewMs;
      if (real > latest + (STEP_RETRIES + 1) * this.o.lifetimeMs) {
        this.o.early.push(`${key} created at ${real}, its expiry ${h.expiresAtMs} long past`);
      }
    }
  }
}

/** Passes of sweepSeats over both prefixes until `done()`, every 100-300 ms. */
export async function runSeatSweeper(
  world: World,
  node: SimNode,
  svc: SeatService,
  o: {
    now: () => number;
    timings: SeatTimings;
    rng: Rng;
    done: () => boolean;
    bump: (rule: string) => void;
  },
): Promise<void> {
  const ports = [0, 1, 2].map((i) => withTimeout(world, world.net.port(node, i)));
  // Half the sweepers act on at most 1-3 records per pass, so passes resume mid-page.
  const maxActions = o.rng.int(0, 1) === 0 ? undefined : o.rng.int(1, 3);
  while (!o.done()) {
    await node.sleep(o.rng.int(100, 300));
    for (const prefix of SWEEP_PREFIXES) {
      let after: string | undefined;
      do {
        const r = await sweepSeats(svc, ports, prefix, {
          now: o.now(),
          limit: 20,
          timings: o.timings,
          ...(maxActions === undefined ? {} : { maxActions }),
          ...(after === undefined ? {} : { after }),
        });
        if (r.settled > 0) o.bump(SWEEP_SETTLED);
        // A short page with a cursor was cut by the budget (a full one may just end there).
        if (maxActions !== undefined && r.next !== undefined && r.scanned < 20) {
          o.bump(SWEEP_BUDGET);
        }
        after = r.scanned === 0 ? undefined : r.next;
      } while (after !== undefined);
    }
  }
}

/** The collector over hold/ and idem/ until `done()` and two retentions after (--gc). */
export async function runSeatCollector(
  world: World,
  o: {
    retentionMs: number;
    rng: Rng;
    done: () => boolean;
    bump: (rule: string, n: number) => void;
  },
): Promise<void> {
  const { client, node } = world.client("seat-gc", 0);
  const ports = [0, 1, 2].map((i) => withTimeout(world, world.net.port(node, i)));
  let until = Number.POSITIVE_INFINITY;
  while (world.sched.now < until) {
    if (o.done()) until = Math.min(until, world.sched.now + 2 * o.retentionMs);
    await node.sleep(o.rng.int(100, 300));
    for (const prefix of SWEEP_PREFIXES) {
      const r = await collectGarbage(client, ports, prefix, {
        now: world.sched.now,
        retentionMs: o.retentionMs,
      });
      if (r.deleted > 0) o.bump(COLLECTED, r.deleted);
    }
  }
}

/** The `sweep-live` break: the sweeper ignores the retention and writes null every hold it is
 * handed that is not sold, a hold still held past its expiry included (not rolled back first). */
export function sweepLive(svc: SeatService, client: QuorumClient): void {
  svc.sweepHold = async (holdId) => {
    const out = await client.change<unknown>([holdKey(holdId)], (cur) => {
      const h = cur[0] as HoldRecord | null;
      return h === null || h.state === "sold" ? { abort: { code: "kept" } } : { values: [null] };
    });
    return out.status === "ok" ? "swept" : out.status === "aborted" ? "kept" : "failed";
  };
}
