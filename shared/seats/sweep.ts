import { idOfKey, scanPrefix, THEATER_IDEM_PREFIX } from "../domain/keys.ts";
import { scanUpTo } from "../quorum/anti-entropy.ts";
import { type AcceptorPort, BATCH_KEYS_MAX } from "../storage/ports.ts";
import { claimEndedAt, pastRetention, SEAT_TIMINGS, type SeatTimings } from "./changes.ts";
import type { SeatService } from "./service.ts";
import type { HoldRecord, IdemRecord } from "./types.ts";

/**
 * The seat sweep: the scheduled pass that ends what no request ends. It rolls back holds past
 * their expiry (their seats come back on sale even if nobody asks for them), finishes the seats of
 * holds whose outcome committed but whose seats never followed (a coordinator that died right
 * after a sale's commit leaves them held; `followSold` finishes the app's own follow-ups of such
 * a sale), and writes null the
 * records past their retention (unsold holds, idempotency claims), which the garbage collector
 * (shared/quorum/gc.ts) deletes a day later. Candidates come from one store's raw scan, which may
 * hold values that never committed: they only choose which keys to look at, and every action is a
 * quorum change that re-reads committed state and re-checks its own rule (sweepHold, sweepClaim).
 */

export const SWEEP_PREFIXES = [scanPrefix.holds(), scanPrefix.idemClaims()] as const;
export type SweepPrefix = (typeof SWEEP_PREFIXES)[number];

export interface SweepResult {
  scanned: number;
  /** Holds rolled back (seats freed) by this pass. */
  expired: number;
  /** Ended holds (sold, released, expired) whose seats this pass moved where the record says. */
  settled: number;
  /** Records written null (collected later). */
  swept: number;
  /** Sold holds whose follow-ups beyond their seats `followSold` finished (their order recorded). */
  followed: number;
  /** Candidates the quorum said to keep (touched since the scan, or still within the rules). */
  kept: number;
  failed: number;
  /** Where the next pass resumes; absent when this one reached the end of the prefix. */
  next?: string;
}

export type SweepAction = "hold" | "claim" | null;

/** What the sweep does with one scanned record, from its raw value alone (a hint, see above). */
export function sweepAction(
  key: string,
  value: string | null,
  now: number,
  timings: SeatTimings = SEAT_TIMINGS,
): SweepAction {
  const v = parseObject(value);
  if (v === null) return null;
  if (key.startsWith(scanPrefix.holds())) {
    const h = v as Partial<HoldRecord>;
    const exp = typeof h.expiresAtMs === "number" ? h.expiresAtMs : undefined;
    if (exp === undefined) return null;
    if (h.state === "held") return now > exp + timings.skewMarginMs ? "hold" : null;
    if (h.state === "released" || h.state === "expired") {
      return pastRetention(now, exp, timings) ? "hold" : null;
    }
    return null;
  }
  // A theater's claims (functions/services/idempotency.ts) are few and guard creations that no
  // record would catch a second time (a venue, an event): they are kept for good.
  if (key.startsWith(THEATER_IDEM_PREFIX)) return null;
  if (key.startsWith(scanPrefix.idemClaims())) {
    const c = v as Partial<IdemRecord>;
    if (typeof c.startedAtMs !== "number") return null;
    const expiresAtMs = typeof c.expiresAtMs === "number" ? c.expiresAtMs : undefined;
    const ended = claimEndedAt({ startedAtMs: c.startedAtMs, expiresAtMs });
    return pastRetention(now, ended, timings) ? "claim" : null;
  }
  return null;
}

export interface SweepOptions {
  readonly now: number;
  readonly limit: number;
  readonly after?: string;
  readonly timings?: SeatTimings;
  /** Most records acted on (each a few quorum changes) in one pass; the pass stops after that
   * many and resumes at the next record. A scheduled call must end within its time limit even
   * after a flash sale left thousands of lapsed holds. Absent: no bound. */
  readonly maxActions?: number;
  /**
   * The follow-ups of a sale beyond its seats (the app records the order its record carries):
   * given the page's sold records as the scanned store holds them (hints: it re-reads what it acts
   * on), answers how many it finished.
   */
  readonly followSold?: (
    holds: readonly { readonly holdId: string; readonly record: HoldRecord }[],
  ) => Promise<number>;
}

/**
 * One pass over up to `limit` records of `prefix`, read from the first store that answers
 * (`stores` in preference order: this provider's own first).
 */
export async function sweepSeats(
  service: SeatService,
  stores: readonly AcceptorPort[],
  prefix: SweepPrefix,
  o: SweepOptions,
): Promise<SweepResult> {
  const result: SweepResult = {
    scanned: 0,
    expired: 0,
    settled: 0,
    swept: 0,
    followed: 0,
    kept: 0,
    failed: 0,
  };
  let page: Awaited<ReturnType<typeof scanUpTo>> | null = null;
  let source: AcceptorPort | undefined;
  for (const store of stores) {
    page = await scanUpTo(store, prefix, Math.max(1, o.limit), o.after).catch(() => null);
    source = store;
    if (page) break;
  }
  if (!page) return { ...result, failed: 1, ...(o.after ? { next: o.after } : {}) };
  result.scanned = page.records.length;
  const budget = Math.max(1, o.maxActions ?? Number.POSITIVE_INFINITY);
  let actions = 0;
  let done = page.records.length;
  for (const [i, r] of page.records.entries()) {
    const action = sweepAction(r.key, r.value, o.now, o.timings);
    if (action === null) continue;
    if (actions >= budget) {
      done = i;
      break;
    }
    actions++;
    const out =
      action === "hold" ? await service.sweepHold(idOfKey(r.key)) : await service.sweepClaim(r.key);
    result[out]++;
  }
  const looked = page.records.slice(0, done);
  if (prefix === scanPrefix.holds() && source) {
    for (const holdId of await unsettled(source, looked)) {
      const out = await service.settle(holdId);
      if (out.ok && out.value.changed > 0) result.settled++;
      else if (!out.ok) result.failed++;
    }
    if (o.followSold) result.followed = await o.followSold(soldOf(looked)).catch(() => 0);
  }
  if (done < page.records.length) {
    const at = looked.at(-1)?.key ?? o.after;
    return at === undefined ? result : { ...result, next: at };
  }
  const last = page.records.at(-1)?.key;
  return page.complete || last === undefined ? result : { ...result, next: last };
}

/**
 * Ended holds of a scanned page whose seats, as the same store holds them, do not follow their
 * record yet: a seat still held by it. A store
 * that lags only costs an idempotent settle; one that shows a seat settled that is not is caught
 * by another provider's sweep, which reads its own store.
 */
async function unsettled(
  store: AcceptorPort,
  records: readonly { readonly key: string; readonly value: string | null }[],
): Promise<string[]> {
  const ended: { holdId: string; seats: readonly string[] }[] = [];
  for (const r of records) {
    const h = parseObject(r.value) as Partial<HoldRecord> | null;
    if (!h || !Array.isArray(h.seats) || h.seats.length === 0) continue;
    if (h.state !== "sold" && h.state !== "released" && h.state !== "expired") continue;
    const seats = h.seats.filter((k): k is string => typeof k === "string");
    ended.push({ holdId: idOfKey(r.key), seats });
  }
  const keys = [...new Set(ended.flatMap((h) => h.seats))];
  const seatValues = new Map<string, { state?: unknown; holdId?: unknown } | null>();
  for (let i = 0; i < keys.length; i += BATCH_KEYS_MAX) {
    const batch = keys.slice(i, i + BATCH_KEYS_MAX);
    const got = await store.read(batch).catch(() => null);
    if (!got) return [];
    for (const [j, rec] of got.entries()) seatValues.set(batch[j]!, parseObject(rec.value));
  }
  // Only a seat still HELD by an ended hold is behind: a sold hold's seat that is free or someone
  // else's was refunded (refunds free seats and keep the record sold), never skipped by settle.
  return ended
    .filter((h) =>
      h.seats.some((k) => {
        const seat = seatValues.get(k) ?? null;
        return seat !== null && seat.holdId === h.holdId && seat.state === "held";
      }),
    )
    .map((h) => h.holdId);
}

/** The sold hold records of a scanned page, as that store holds them. */
function soldOf(
  records: readonly { readonly key: string; readonly value: string | null }[],
): { holdId: string; record: HoldRecord }[] {
  return records.flatMap((r) => {
    const h = parseObject(r.value) as HoldRecord | null;
    return h?.state === "sold" ? [{ holdId: idOfKey(r.key), record: h }] : [];
  });
}

function parseObject(value: string | null): Record<string, unknown> | null {
  if (value === null) return null;
  try {
    const v: unknown = JSON.parse(value);
    return typeof v === "object" && v !== null ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
