import { RemoteAcceptor } from "../../functions/peers/remote-acceptor.ts";
import { PROVIDERS, type ProviderId } from "../../shared/config.ts";
import { holdKey, idOfKey, type SeatRef, scanPrefix, seatKey } from "../../shared/domain/keys.ts";
import type { QuorumClient } from "../../shared/quorum/client.ts";
import type { AcceptorRecord } from "../../shared/quorum/messages.ts";
import type { SeatService } from "../../shared/seats/service.ts";
import type { HoldRecord, SeatValue } from "../../shared/seats/types.ts";
import { type AcceptorPort, BATCH_KEYS_MAX, SCAN_LIMIT_MAX } from "../../shared/storage/ports.ts";
import type { SaleLog } from "./sale.ts";
import type { WanCluster } from "./wan-cluster.ts";

/**
 * After a run: what the stores actually hold. Every seat register and every hold record is read
 * from each store directly (not through a quorum), compared, and checked against what buyers were
 * told: no seat sold twice, every confirmed order's seats sold to it, nothing left unsold while
 * buyers were still trying.
 */

/** Direct readers of each provider's store (its signed acceptor endpoint, no WAN proxy). */
export function storeReaders(wan: WanCluster): Record<ProviderId, AcceptorPort> {
  const readers: Record<string, AcceptorPort> = Object.fromEntries(
    PROVIDERS.map((p) => [
      p,
      new RemoteAcceptor({
        to: p,
        url: wan.direct[p],
        key: wan.signerFor(p).key,
        now: Date.now,
        // Scans of a thousand records from a busy store can take a while on two cores.
        timeoutMs: 30_000,
      }),
    ]),
  );
  return readers as Record<ProviderId, AcceptorPort>;
}

/** Reads in parallel, this many batches at a time: quick, without starving the stores. */
const READ_PARALLEL = 8;

export async function inBatches<T>(
  keys: readonly string[],
  fn: (batch: string[]) => Promise<T[]>,
): Promise<T[]> {
  const batches: string[][] = [];
  for (let i = 0; i < keys.length; i += BATCH_KEYS_MAX)
    batches.push(keys.slice(i, i + BATCH_KEYS_MAX));
  const out: T[][] = new Array(batches.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: READ_PARALLEL }, async () => {
      for (;;) {
        const i = next++;
        if (i >= batches.length) return;
        out[i] = await fn(batches[i] as string[]);
      }
    }),
  );
  return out.flat();
}

export async function scanAll(store: AcceptorPort, prefix: string): Promise<AcceptorRecord[]> {
  const out: AcceptorRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.scan(prefix, {
      limit: SCAN_LIMIT_MAX,
      ...(cursor === undefined ? {} : { cursor }),
    });
    out.push(...page.records);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return out;
}

const sameRecord = (a: AcceptorRecord | undefined, b: AcceptorRecord | undefined) =>
  (a?.accepted ?? "") === (b?.accepted ?? "") && (a?.value ?? null) === (b?.value ?? null);

export interface Correctness {
  /** Seats sold to more than one order (by records, by seat registers or by what buyers were told). */
  doubleSold: number;
  /** Orders buyers were told are confirmed whose hold record or seats do not say so. */
  lostOrders: number;
  /** Seats still free (or freeable at once) at the end. */
  seatsLeftAvailable: number;
  /** The first of those seats, with what left them free: the case to look at when a sale that
   * should sell out does not. */
  leftAvailable: LeftSeat[];
  /** Seats still held by customers who walked away (their holds run out later). */
  heldByAbandoned: number;
  /** Seats held by holds no buyer was told about (outcome unknown, never retried to the end). */
  heldByUnknown: number;
  seatsSold: number;
  /** Keys whose stores disagreed when read after the run (repaired by a quorum read). */
  disagreeingAtEnd: number;
  /** Confirmed orders whose seats the verification had to settle (the sweeper's job). */
  settledAfterRun: number;
}

export interface LeftSeat {
  readonly seat: string;
  /** free (never taken, or taken back), or the state of the hold record its lock names. */
  readonly why: "free" | "released" | "expired";
  readonly holdId?: string;
  /** What the buyer of that hold was told, when a buyer was told anything. */
  readonly fate?: string;
}

/** Left seats listed in a report: enough to see a pattern, not a dump. */
const LEFT_LISTED_MAX = 10;

export interface VerifyInput {
  readonly eventId: string;
  readonly seats: readonly SeatRef[];
  readonly log: SaleLog;
  /** The stores to compare (three for the quorum, one for the baseline). */
  readonly readers: readonly AcceptorPort[];
  /** Quorum reads (repairs) and settling, as any coordinator would. */
  readonly client: QuorumClient;
  readonly service: SeatService;
}

export async function verifySale(v: VerifyInput): Promise<Correctness> {
  const seatKeys = v.seats.map((s) => seatKey(v.eventId, s.section, s.seatId));
  const holdKeysFound = new Set<string>();
  for (const r of v.readers) {
    for (const rec of await scanAll(r, scanPrefix.holds())) holdKeysFound.add(rec.key);
  }
  for (const h of v.log.holds) holdKeysFound.add(holdKey(h.holdId));

  let seatsRead = await readAgreed(v, seatKeys);
  const holdsRead = await readAgreed(v, [...holdKeysFound].sort());
  const before: Registers = { seats: seatsRead.values, holds: holdsRead.values };
  // Confirmed orders whose seats have not followed their record yet: settle them first, as the
  // sweeper would (a confirm cut off after its commit leaves exactly this).
  const toSettle = holdsToSettle(v.log, seatKeys, before);
  let settledAfterRun = 0;
  for (const id of toSettle) {
    const r = await v.service.settle(id);
    if (r.ok) settledAfterRun++;
  }
  if (toSettle.size > 0) seatsRead = await readAgreed(v, seatKeys);
  const now: Registers = { seats: seatsRead.values, holds: holdsRead.values };
  const seats = judgeSeats(v.log, seatKeys, now, before.seats, holdKeysFound);
  return {
    ...seats,
    lostOrders: lostOrders(v.log, now),
    disagreeingAtEnd: seatsRead.disagreeing + holdsRead.disagreeing,
    settledAfterRun,
  };
}

/** Raw register values by key, as read after the run. */
interface Registers {
  readonly seats: ReadonlyMap<string, string | null>;
  readonly holds: ReadonlyMap<string, string | null>;
}

const parse = <T>(raw: string | null | undefined): T | null =>
  raw === null || raw === undefined ? null : (JSON.parse(raw) as T);
const holdOf = (r: Registers, id: string) => parse<HoldRecord>(r.holds.get(holdKey(id)));
const seatOf = (r: Registers, k: string) => parse<SeatValue>(r.seats.get(k));

/** Every store's copy of `keys`; where they disagree, a quorum read (which repairs them). */
async function readAgreed(v: VerifyInput, keys: readonly string[]) {
  const perStore = await Promise.all(
    v.readers.map((r) => inBatches(keys, (b) => r.read(b)).catch(() => null)),
  );
  const values = new Map<string, string | null>();
  const disagreeing: string[] = [];
  keys.forEach((k, i) => {
    const recs = perStore.map((s) => s?.[i]);
    if (recs.every((r) => r !== undefined && sameRecord(r, recs[0]))) {
      values.set(k, recs[0]?.value ?? null);
    } else disagreeing.push(k);
  });
  if (disagreeing.length > 0) {
    const got = await inBatches(disagreeing, async (b) => {
      const out = await v.client.get<unknown>(b, { consistency: "quorum" });
      if (out.status !== "ok") throw new Error(`quorum read failed: ${out.reason}`);
      return out.values.map((x) => (x === null ? null : JSON.stringify(x)));
    });
    for (const [i, k] of disagreeing.entries()) values.set(k, got[i] ?? null);
  }
  return { values, disagreeing: disagreeing.length };
}

/** Holds whose seats have not followed their record: confirmed orders, and ended holds whose
 * seats still point at them (they are free). */
function holdsToSettle(log: SaleLog, seatKeys: readonly string[], r: Registers): Set<string> {
  const toSettle = new Set<string>();
  for (const o of log.orders) {
    if (o.seats.some((k) => seatOf(r, k)?.state !== "sold")) toSettle.add(o.holdId);
  }
  for (const k of seatKeys) {
    const s = seatOf(r, k);
    if (s?.state === "held") {
      const h = holdOf(r, s.holdId);
      if (h && (h.state === "released" || h.state === "expired" || h.state === "sold")) {
        toSettle.add(s.holdId);
      }
    }
  }
  return toSettle;
}

/** Who each seat was sold to, by the sold hold records and by what buyers were told. */
function soldTo(log: SaleLog, r: Registers, holdKeys: ReadonlySet<string>) {
  const add = (m: Map<string, Set<string>>, seat: string, who: string) => {
    const set = m.get(seat) ?? new Set<string>();
    set.add(who);
    m.set(seat, set);
  };
  const byRecords = new Map<string, Set<string>>();
  for (const k of holdKeys) {
    const h = parse<HoldRecord>(r.holds.get(k));
    if (h?.state === "sold") for (const s of h.seats) add(byRecords, s, idOfKey(k));
  }
  const byAnswers = new Map<string, Set<string>>();
  for (const o of log.orders) for (const s of o.seats) add(byAnswers, s, o.orderId);
  return { byRecords, byAnswers };
}

type SeatCounts = Pick<
  Correctness,
  | "doubleSold"
  | "seatsLeftAvailable"
  | "leftAvailable"
  | "heldByAbandoned"
  | "heldByUnknown"
  | "seatsSold"
>;

/** Each seat's fate: sold (once, under a sale of it), left available, or held by whom. */
function judgeSeats(
  log: SaleLog,
  seatKeys: readonly string[],
  r: Registers,
  firstSeats: ReadonlyMap<string, string | null>,
  holdKeys: ReadonlySet<string>,
): SeatCounts {
  const { byRecords, byAnswers } = soldTo(log, r, holdKeys);
  const out = {
    double: new Set<string>(),
    seatsSold: 0,
    seatsLeftAvailable: 0,
    leftAvailable: [] as LeftSeat[],
    heldByAbandoned: 0,
    heldByUnknown: 0,
  };
  const fateOf = new Map(log.holds.map((h) => [h.holdId, h.fate] as const));
  const leave = (seat: string, why: LeftSeat["why"], holdId?: string) => {
    out.seatsLeftAvailable++;
    if (out.leftAvailable.length >= LEFT_LISTED_MAX) return;
    const fate = holdId === undefined ? undefined : fateOf.get(holdId);
    out.leftAvailable.push({
      seat,
      why,
      ...(holdId === undefined ? {} : { holdId }),
      ...(fate === undefined ? {} : { fate }),
    });
  };
  for (const k of seatKeys) {
    if ((byRecords.get(k)?.size ?? 0) > 1 || (byAnswers.get(k)?.size ?? 0) > 1) out.double.add(k);
    const s = seatOf(r, k);
    if (s?.state === "sold") {
      out.seatsSold++;
      const h = holdOf(r, s.holdId);
      // A seat sold under a hold whose record is not a sale of it: sold without a commit.
      if (h?.state !== "sold" || !h.seats.includes(k) || h.orderId !== s.orderId) out.double.add(k);
    } else if (s === null || s.state === "free") {
      // Settled just now, or taken back earlier: the hold it had before the settle, if any.
      const was = parse<SeatValue>(firstSeats.get(k));
      const holdId = was && was.state !== "free" ? was.holdId : undefined;
      const h = holdId === undefined ? null : holdOf(r, holdId);
      leave(k, h?.state === "released" || h?.state === "expired" ? h.state : "free", holdId);
    } else {
      const h = holdOf(r, s.holdId);
      if (h && (h.state === "released" || h.state === "expired")) leave(k, h.state, s.holdId);
      else if (fateOf.get(s.holdId) === "walked") out.heldByAbandoned++;
      else if (!fateOf.has(s.holdId)) out.heldByUnknown++;
    }
  }
  const { double, ...rest } = out;
  return { doubleSold: double.size, ...rest };
}

/** Orders buyers were told are confirmed whose hold record or seats do not say so. */
function lostOrders(log: SaleLog, r: Registers): number {
  let lost = 0;
  for (const o of log.orders) {
    const h = holdOf(r, o.holdId);
    const ok =
      h?.state === "sold" &&
      h.orderId === o.orderId &&
      o.seats.every((k) => {
        const s = seatOf(r, k);
        return s?.state === "sold" && s.holdId === o.holdId && s.orderId === o.orderId;
      });
    if (!ok) lost++;
  }
  return lost;
}

export interface Convergence {
  converged: boolean;
  keys: number;
  /** Keys whose accepted ballot or value differ between stores (or that a store lacks). */
  disagreeing: number;
  /** A few of them, for the report. */
  examples: string[];
}

/** Compares every key on every store: converged when all hold the same accepted ballot and value. */
export async function compareStores(readers: readonly AcceptorPort[]): Promise<Convergence> {
  const scans = await Promise.all(readers.map((r) => scanAll(r, "")));
  const maps = scans.map((s) => new Map(s.map((r) => [r.key, r])));
  const keys = new Set<string>();
  for (const s of scans) for (const r of s) keys.add(r.key);
  const bad: string[] = [];
  for (const k of [...keys].sort()) {
    const recs = maps.map((m) => m.get(k));
    // A record that exists only as a promise (no accepted value) equals an absent one.
    const norm = recs.map((r) => (r && (r.accepted !== "" || r.value !== null) ? r : undefined));
    if (!norm.every((r) => sameRecord(r, norm[0]))) bad.push(k);
  }
  return {
    converged: bad.length === 0,
    keys: keys.size,
    disagreeing: bad.length,
    examples: bad.slice(0, 5),
  };
}
