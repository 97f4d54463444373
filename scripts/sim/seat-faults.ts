import type { PromiseCache } from "../../shared/quorum/cache.ts";
import type { ChangeOutcome, QuorumClient } from "../../shared/quorum/client.ts";
import type { ChangeFn } from "../../shared/quorum/proposer.ts";
import { type SeatTimings, seatIsFreeFor } from "../../shared/seats/changes.ts";
import type { SeatValue } from "../../shared/seats/types.ts";

/**
 * Seat-workload faults and broken controls that live outside the seat core: naming the step a
 * kill cut short, and the two takeover rules switched off (`takeover-rollback`, `claim-takeover`).
 */

const HOLD_STEP_1 = "hold or confirm (claim + record + seats)";

/** The seat change a store call belongs to, from its keys (every seat change has its own shape). */
export function seatStep(keys: readonly string[]): string {
  const has = (p: string) => keys.some((k) => k.startsWith(p));
  if (keys.length === 0) return "before any store call";
  // A hold and a confirm both run over claim + record + seats (a hold may add foreign records
  // and the quota): one class.
  if (has("idem/") && has("seat/")) return HOLD_STEP_1;
  if (has("idem/")) return "claim alone (sweep)";
  if (has("seat/")) return "settle seats";
  if (has("hold/")) return "rollback or release (one hold record)";
  return "other";
}

/** Calls `died` after every change over claim + record + seats that committed (the workload arms
 * it for a hold's attempt only): the seat workload kills an armed coordinator there, the point
 * that leaves an abandoned claim behind. */
export function dieAfterClaim(client: QuorumClient, died: () => void): QuorumClient {
  const dying = Object.create(client) as QuorumClient;
  dying.change = async <T>(keys: readonly string[], f: ChangeFn<T>): Promise<ChangeOutcome<T>> => {
    const out = await client.change(keys, f);
    if (out.status === "ok" && seatStep(keys) === HOLD_STEP_1) died();
    return out;
  };
  return dying;
}

/**
 * The `takeover-rollback` break: a hold's lock step sees every seat held by an expired hold (past
 * expiry plus the margin, on this coordinator's clock) as free, so it takes the seat at once
 * instead of first rolling the old hold back (making its record "expired" by its own change).
 * The old hold's record then stays "held": its owner can still confirm it after its seats went to
 * someone else.
 */
export function noRollbackClient(
  client: QuorumClient,
  now: () => number,
  timings: SeatTimings,
): QuorumClient {
  const broken = Object.create(client) as QuorumClient;
  broken.change = <T>(keys: readonly string[], f: ChangeFn<T>): Promise<ChangeOutcome<T>> => {
    const lock = keys[0]?.startsWith("idem/") && keys[1]?.startsWith("hold/");
    if (!lock || !keys.some((k) => k.startsWith("seat/"))) return client.change(keys, f);
    const own = keys[1]!.slice("hold/".length);
    return client.change(keys, (cur, view) => {
      const t = now();
      const seen = cur.map((v, j) => {
        if (!keys[j]!.startsWith("seat/")) return v;
        const s = v as SeatValue | null;
        const expired = seatIsFreeFor(s, own, t, undefined, timings.skewMarginMs) === "rollback";
        return expired ? null : v;
      });
      return f(seen as typeof cur, view);
    });
  };
  return broken;
}

/** The `claim-takeover` break: the service treats every idempotency claim as abandoned, so a
 * retry takes a request over at age 0 while its first attempt is still running. */
export function claimTakeoverTimings(t: SeatTimings): SeatTimings {
  return { ...t, claimInFlightMs: 0 };
}

/**
 * The `confirm-unproven` break: every change is told that every value it read is proven chosen,
 * so a confirm sells on seat locks that a single store reported (a hold change cut short) and a
 * later takeover, not seeing them, sells those seats again.
 */
export function unprovenClient(client: QuorumClient): QuorumClient {
  const broken = Object.create(client) as QuorumClient;
  broken.change = <T>(keys: readonly string[], f: ChangeFn<T>): Promise<ChangeOutcome<T>> =>
    client.change(keys, (cur) => f(cur, { chosen: cur.map(() => true) }));
  return broken;
}

/**
 * The `prime-chosen` break: a prime hands every value it read to the change as proven chosen
 * (its `chosen: false` mark dropped from the warm cache), so a confirm primed on a leaked hold's
 * keys can sell on seat locks that one store reported, as `confirm-unproven` does for all.
 */
export function primeChosenClient(client: QuorumClient, cache: PromiseCache): QuorumClient {
  const broken = Object.create(client) as QuorumClient;
  broken.prime = async (keys: readonly string[]) => {
    const out = await client.prime(keys);
    for (const k of keys) {
      const e = cache.take(k);
      if (e) cache.set(k, { ...e, chosen: undefined });
    }
    return out;
  };
  return broken;
}
