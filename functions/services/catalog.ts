import { z } from "@hono/zod-openapi";
import { fromBase64Url, toBase64Url } from "../../shared/crypto/base64.ts";
import { int32 } from "../../shared/domain/bounds.ts";
import type { Event } from "../../shared/domain/event.ts";
import { Id } from "../../shared/domain/ids.ts";
import { eventKey, planChunkKey, planKey, scanPrefix } from "../../shared/domain/keys.ts";
import type { SeatIndex, SeatLocation } from "../../shared/domain/seat-index.ts";
import {
  GeneralAdmissionArea,
  gaPlaceId,
  PlanSize,
  SeatCategory,
  type SeatingPlan,
  type SeatRow,
} from "../../shared/domain/seating-plan.ts";
import { Name } from "../../shared/domain/text.ts";
import {
  MAX_PLAN_CATEGORIES,
  MAX_PLAN_SECTIONS,
  MAX_SEATS,
  MAX_SECTION_ROWS,
} from "../../shared/plans/limits.ts";
import { SKEW_MARGIN_MS } from "../../shared/seats/changes.ts";
import type { SeatValue } from "../../shared/seats/types.ts";
import { BATCH_KEYS_MAX, SCAN_LIMIT_MAX } from "../../shared/storage/ports.ts";
import { ProblemError } from "../problem.ts";
import type { Services } from "./index.ts";
import type { ScanConsistency, Update } from "./store.ts";

/**
 * Catalog reads shared by the management and buyer routes: events, their list index entries, and
 * seating plans stored in chunks.
 *
 * A plan of a stadium is megabytes of JSON, far beyond one register value, so it is stored as a
 * small metadata record `plan/<pid>` plus its seats in chunks `plansec/<pid>/<section>/<n>`. Plans
 * never change once stored (events pin them by id), so chunks are read from the local store and
 * only fetched through the quorum when this store has not received them yet.
 */

/** Most seats one chunk holds (api-common layout): keeps a chunk well inside one register value. */
export const PLAN_CHUNK_SEATS = 1000;
/**
 * Most bytes of JSON one chunk holds: below the peers' register value limit (VALUE_LENGTH_MAX,
 * 64 KiB in functions/peers/wire.ts) with room for the envelope, so long ids and labels split a
 * section into more chunks instead of producing a value the peers refuse.
 */
export const PLAN_CHUNK_BYTES_MAX = 60_000;

export const PlanSectionMeta = z
  .object({
    id: Id,
    name: Name,
    rows: int32(0, MAX_SECTION_ROWS),
    seatCount: int32(0, MAX_SEATS),
    chunks: int32(0, MAX_SEATS),
  })
  .openapi("PlanSectionMeta");

export const PlanMeta = z
  .object({
    id: Id,
    theaterId: Id,
    name: Name,
    size: PlanSize,
    categories: z.array(SeatCategory).max(MAX_PLAN_CATEGORIES),
    sections: z.array(PlanSectionMeta).max(MAX_PLAN_SECTIONS),
    generalAdmission: z.array(GeneralAdmissionArea).max(MAX_PLAN_SECTIONS),
    seatCount: int32(0, MAX_SEATS).meta({ description: "Sellable places (seats + GA capacity)." }),
  })
  .openapi("PlanMeta");
export type PlanMeta = {
  id: string;
  theaterId: string;
  name: string;
  size: SeatingPlan["size"];
  categories: SeatCategory[];
  sections: { id: string; name: string; rows: number; seatCount: number; chunks: number }[];
  generalAdmission: GeneralAdmissionArea[];
  seatCount: number;
};

export interface PlanChunk {
  sectionId: string;
  /** Rows (or parts of a row, when one row is longer than a chunk) in plan order. */
  rows: SeatRow[];
}

/** Splits a validated plan into its metadata and seat chunks (pure; same plan → same chunks). */
export function chunkPlan(
  plan: SeatingPlan,
  theaterId: string,
): { meta: PlanMeta; chunks: { key: string; value: PlanChunk }[] } {
  const chunks: { key: string; value: PlanChunk }[] = [];
  const sections: PlanMeta["sections"] = [];
  let seatCount = 0;
  for (const section of plan.sections) {
    let n = 0;
    let rows: SeatRow[] = [];
    let seats = 0;
    let bytes = 0;
    const flush = () => {
      if (rows.length === 0) return;
      chunks.push({
        key: planChunkKey(plan.id, section.id, n),
        value: { sectionId: section.id, rows },
      });
      n++;
      rows = [];
      seats = 0;
      bytes = 0;
    };
    let sectionSeats = 0;
    for (const row of section.rows) {
      const head = { id: row.id, label: row.label };
      let part: SeatRow = { ...head, seats: [] };
      rows.push(part);
      bytes += JSON.stringify(head).length + 16;
      for (const seat of row.seats) {
        const size = JSON.stringify(seat).length + 1;
        if (seats + 1 > PLAN_CHUNK_SEATS || bytes + size > PLAN_CHUNK_BYTES_MAX) {
          flush();
          part = { ...head, seats: [] };
          rows.push(part);
          bytes = JSON.stringify(head).length + 16;
        }
        part.seats.push(seat);
        seats++;
        bytes += size;
      }
      sectionSeats += row.seats.length;
    }
    flush();
    sections.push({
      id: section.id,
      name: section.name,
      rows: section.rows.length,
      seatCount: sectionSeats,
      chunks: n,
    });
    seatCount += sectionSeats;
  }
  for (const g of plan.generalAdmission) seatCount += g.capacity;
  return {
    meta: {
      id: plan.id,
      theaterId,
      name: plan.name,
      size: plan.size,
      categories: plan.categories,
      sections,
      generalAdmission: plan.generalAdmission,
      seatCount,
    },
    chunks,
  };
}

/** Reassembles a plan from its metadata and chunks (in key order), merging split rows. */
export function assemblePlan(meta: PlanMeta, chunks: readonly PlanChunk[]): SeatingPlan {
  const bySection = new Map<string, SeatRow[]>();
  for (const c of chunks) {
    const rows = bySection.get(c.sectionId) ?? [];
    for (const r of c.rows) {
      const last = rows.at(-1);
      if (last && last.id === r.id) last.seats.push(...r.seats);
      else rows.push({ id: r.id, label: r.label, seats: [...r.seats] });
    }
    bySection.set(c.sectionId, rows);
  }
  return {
    id: meta.id,
    name: meta.name,
    size: meta.size,
    categories: meta.categories,
    sections: meta.sections.map((s) => ({
      id: s.id,
      name: s.name,
      rows: bySection.get(s.id) ?? [],
    })),
    generalAdmission: meta.generalAdmission,
  };
}

export type Consistency = "local" | "quorum";

/**
 * One record: "quorum" is linearizable; "local" is this provider's copy, or a quorum read when it
 * has none yet (a record written while this store was behind), so a fresh record never 404s.
 */
export async function readOne<T>(s: Services, key: string, consistency: Consistency) {
  if (consistency === "quorum") return await s.store.get<T>(key);
  return (await s.store.localGet<T>(key)) ?? (await s.store.get<T>(key));
}

/** Many records, batched to the store's limit; "local" falls back to the quorum per missing key. */
export async function readMany<T>(
  s: Services,
  keys: readonly string[],
  consistency: Consistency,
): Promise<(T | null)[]> {
  const out: (T | null)[] = [];
  for (let i = 0; i < keys.length; i += BATCH_KEYS_MAX) {
    const batch = keys.slice(i, i + BATCH_KEYS_MAX);
    if (consistency === "quorum") {
      out.push(...(await s.store.getMany<T>(batch)));
      continue;
    }
    const local = await s.store.localGetMany<T>(batch);
    const missing = batch.filter((_, j) => local[j] === null);
    if (missing.length > 0) {
      const remote = await s.store.getMany<T>(missing);
      let k = 0;
      for (let j = 0; j < local.length; j++) if (local[j] === null) local[j] = remote[k++] ?? null;
    }
    out.push(...local);
  }
  return out;
}

export async function getEvent(
  s: Services,
  eventId: string,
  consistency: Consistency,
): Promise<Event | null> {
  return await readOne<Event>(s, eventKey(eventId), consistency);
}

export async function getPlanMeta(
  s: Services,
  planId: string,
  consistency: Consistency = "local",
): Promise<PlanMeta | null> {
  return await readOne<PlanMeta>(s, planKey(planId), consistency);
}

/** The full plan, or null when it does not exist (or a chunk is missing everywhere). */
export async function getPlan(
  s: Services,
  planId: string,
  consistency: Consistency = "local",
): Promise<SeatingPlan | null> {
  const meta = await getPlanMeta(s, planId, consistency);
  if (meta === null) return null;
  return await getPlanOf(s, meta, consistency);
}

export async function getPlanOf(
  s: Services,
  meta: PlanMeta,
  consistency: Consistency = "local",
  sectionIds?: ReadonlySet<string>,
): Promise<SeatingPlan | null> {
  const keys: string[] = [];
  for (const sec of meta.sections) {
    if (sectionIds && !sectionIds.has(sec.id)) continue;
    for (let n = 0; n < sec.chunks; n++) keys.push(planChunkKey(meta.id, sec.id, n));
  }
  const chunks = await readMany<PlanChunk>(s, keys, consistency);
  if (chunks.some((c) => c === null)) return null;
  const plan = assemblePlan(meta, chunks as PlanChunk[]);
  if (sectionIds) plan.sections = plan.sections.filter((x) => sectionIds.has(x.id));
  return plan;
}

/*
 * What the purchase flow reads of the catalog. Only the sections a request touches are loaded, so
 * a hold on a 50,000-seat plan reads one or two chunks, not the plan.
 */

/** A seat as the buyer flow needs it: where it is, what it costs, how a ticket prints it. */
export interface SeatInfo extends SeatLocation {
  readonly sectionName: string;
  readonly categoryName: string;
}

export interface SeatLookup extends SeatIndex {
  get(seatId: string): SeatInfo | undefined;
}

const notFound = (what: string) =>
  new ProblemError(
    404,
    "not-found",
    "Not Found",
    `${what} does not exist or is not visible to you`,
  );

/**
 * The event, linearizably: what a buyer pays for must not be a stale copy (a cancelled event, a
 * closed sale). Read-only: every hold and confirm of an onsale reads it.
 */
export async function readEvent(s: Services, eventId: string): Promise<Event> {
  const ev = await s.store.read<Event>(eventKey(eventId));
  if (ev === null) throw notFound(`event ${eventId}`);
  return ev;
}

/**
 * Records that never change once sales started (plans) are read from this provider's own store
 * first; only keys it lacks (a write it missed) cost a quorum read, which also repairs them here.
 */
async function readStable<T>(s: Services, keys: readonly string[]): Promise<(T | null)[]> {
  if (keys.length === 0) return [];
  const local = await s.store.localGetMany<T>(keys);
  const missing = keys.filter((_, i) => local[i] === null);
  if (missing.length === 0) return local;
  const fetched = await s.store.getMany<T>(missing);
  const byKey = new Map(missing.map((k, i) => [k, fetched[i] ?? null]));
  return keys.map((k, i) => local[i] ?? byKey.get(k) ?? null);
}

/** The seats of `sectionIds` in the event's plan (sections and general-admission areas). */
export async function lookupSeats(
  s: Services,
  planId: string,
  sectionIds: readonly string[],
): Promise<SeatLookup> {
  const [meta] = await readStable<PlanMeta>(s, [planKey(planId)]);
  if (!meta) {
    throw new ProblemError(
      503,
      "plan-unavailable",
      "Seating plan not readable",
      `plan ${planId}`,
      {},
      {
        "retry-after": "2",
      },
    );
  }
  const categories = new Map(meta.categories.map((c) => [c.id, c.name]));
  const wanted = new Set(sectionIds);
  const sections = meta.sections.filter((sec) => wanted.has(sec.id));
  const chunkKeys = sections.flatMap((sec) =>
    Array.from({ length: sec.chunks }, (_, n) => planChunkKey(planId, sec.id, n)),
  );
  const chunks = await readStable<PlanChunk>(s, chunkKeys);
  const seats = new Map<string, SeatInfo>();
  const sectionName = new Map(meta.sections.map((sec) => [sec.id, sec.name]));
  for (const chunk of chunks) {
    if (!chunk) continue;
    const name = sectionName.get(chunk.sectionId) ?? chunk.sectionId;
    for (const row of chunk.rows) {
      for (const seat of row.seats) {
        seats.set(seat.id, {
          seatId: seat.id,
          sectionId: chunk.sectionId,
          sectionName: name,
          categoryId: seat.category,
          categoryName: categories.get(seat.category) ?? seat.category,
          rowLabel: row.label,
          label: seat.label,
        });
      }
    }
  }
  const areas = new Map(meta.generalAdmission.map((g) => [g.id, g]));
  return {
    get(seatId) {
      const seat = seats.get(seatId);
      if (seat) return seat;
      const m = /^(.+)-([1-9]\d{0,8})$/.exec(seatId);
      const area = m ? areas.get(m[1]!) : undefined;
      const n = Number(m?.[2]);
      if (!area || !wanted.has(area.id) || n > area.capacity || gaPlaceId(area.id, n) !== seatId) {
        return undefined;
      }
      return {
        seatId,
        sectionId: area.id,
        sectionName: area.name,
        categoryId: area.category,
        categoryName: categories.get(area.category) ?? area.category,
        label: String(n),
      };
    },
  };
}

/** Every page of a scan, `pageSize` records at a time (memory stays at one page). */
export async function* scanPages<T>(
  s: Services,
  prefix: string,
  pageSize = SCAN_LIMIT_MAX,
  consistency: ScanConsistency = "majority",
): AsyncGenerator<{ key: string; value: T }[]> {
  let cursor: string | undefined;
  do {
    const page = await s.store.scan<T>(
      prefix,
      { limit: pageSize, ...(cursor !== undefined ? { cursor } : {}) },
      consistency,
    );
    if (page.items.length > 0) yield page.items;
    cursor = page.cursor;
  } while (cursor !== undefined);
}

/** The public list entry of an event (`events/<eid>`, and the theatre's `theater/<tid>/event/<eid>`). */
export interface EventListEntry {
  id: string;
  theaterId: string;
  title: string;
  startsAt: string;
  status: Event["status"];
  visibility: Event["visibility"];
}

export function eventListEntry(e: Event): EventListEntry {
  return {
    id: e.id,
    theaterId: e.theaterId,
    title: e.title,
    startsAt: e.startsAt,
    status: e.status,
    visibility: e.visibility,
  };
}

/** A fresh entity id: a prefix naming the kind plus 96 random bits (base64url), never reused. */
export function newEntityId(prefix: string): string {
  return `${prefix}${toBase64Url(crypto.getRandomValues(new Uint8Array(12)))}`;
}

/** What a buyer sees of one seat: free to take, in someone's checkout, or gone. */
export type Availability = "available" | "held" | "sold";

/**
 * A register's availability at `now`. A hold past its expiry plus the skew margin no longer keeps
 * the seat (the next hold rolls it back, shared/seats/changes.ts), so it shows as available.
 * A seat has exactly one register, so it can never show as sold twice.
 */
export function availabilityOf(v: SeatValue | null, now: number): Availability {
  if (v === null || v.state === "free") return "available";
  if (v.state === "sold") return "sold";
  return now <= v.expiresAtMs + SKEW_MARGIN_MS ? "held" : "available";
}

/**
 * Taken seats of an event, as "<section>/<seatId>" → held | sold (seats never written, or free,
 * are absent). Paged: memory holds one page plus the taken seats. The public seat map reads this
 * provider's store only (`local`: a hold is the real check); management decisions read all
 * committed seats.
 */
export async function takenSeats(
  s: Services,
  eventId: string,
  sectionId?: string,
  consistency: ScanConsistency = "majority",
): Promise<Map<string, Exclude<Availability, "available">>> {
  const prefix =
    sectionId === undefined
      ? scanPrefix.eventSeats(eventId)
      : scanPrefix.sectionSeats(eventId, sectionId);
  const base = scanPrefix.eventSeats(eventId).length;
  const now = s.now();
  const out = new Map<string, Exclude<Availability, "available">>();
  for await (const page of scanPages<SeatValue>(s, prefix, SCAN_LIMIT_MAX, consistency)) {
    for (const { key, value } of page) {
      const a = availabilityOf(value, now);
      if (a !== "available") out.set(key.slice(base), a);
    }
  }
  return out;
}

/**
 * Scan pages one list request may read before it returns what it found with a cursor: bounds the
 * work of a request whose filter drops most entries (a search matching little).
 */
export const LIST_SCAN_PAGES_MAX = 10;

/** API cursors are a position in key space (every driver's scan cursor is one), base64url-coded so
 * clients treat them as opaque; they work on any provider, which a client may switch to. */
export const encodeCursor = (key: string) => toBase64Url(new TextEncoder().encode(key));

export function decodeCursor(cursor: string, prefix: string): string {
  let key: string | undefined;
  try {
    key = new TextDecoder("utf-8", { fatal: true }).decode(fromBase64Url(cursor));
  } catch {
    key = undefined;
  }
  if (key === undefined || !key.startsWith(prefix)) {
    throw new ProblemError(400, "invalid-cursor", "Invalid cursor", "pass `nextCursor` unchanged");
  }
  return key;
}

/**
 * One page of a filtered, mapped local scan: `keep` returns the item to list or undefined to skip.
 * `nextCursor` is present whenever entries may follow.
 */
export async function listPage<T, R>(
  s: Services,
  prefix: string,
  page: { cursor?: string | undefined; limit: number },
  keep: (key: string, value: T) => R | undefined | Promise<R | undefined>,
  consistency: ScanConsistency = "local",
): Promise<{ items: R[]; nextCursor?: string }> {
  let after = page.cursor === undefined ? undefined : decodeCursor(page.cursor, prefix);
  const items: R[] = [];
  const scanLimit = Math.min(SCAN_LIMIT_MAX, Math.max(page.limit, 100));
  for (let p = 0; p < LIST_SCAN_PAGES_MAX; p++) {
    const got = await s.store.scan<T>(
      prefix,
      { limit: scanLimit, ...(after !== undefined ? { cursor: after } : {}) },
      consistency,
    );
    for (let i = 0; i < got.items.length; i++) {
      const it = got.items[i]!;
      const r = await keep(it.key, it.value);
      if (r !== undefined) items.push(r);
      after = it.key;
      if (items.length === page.limit) {
        const last = i === got.items.length - 1 && got.cursor === undefined;
        return last ? { items } : { items, nextCursor: encodeCursor(it.key) };
      }
    }
    if (got.cursor === undefined) return { items };
    after = got.cursor;
  }
  return after === undefined ? { items } : { items, nextCursor: encodeCursor(after) };
}

/**
 * Re-runs of a change whose outcome came back unknown. The quorum's one-round-trip fast path
 * reports "unknown" when a writer on another provider overtook an accept that may have landed on
 * one store; every change function of these services is idempotent (a re-run on its own earlier
 * effect writes the same or reports it as done), so re-running it settles the outcome.
 */
export const CHANGE_RETRIES = 3;

export async function retryingChange<T>(
  s: Services,
  keys: readonly string[],
  f: (cur: (T | null)[]) => Update<(T | null)[]>,
): Promise<{ ok: true; values: (T | null)[] } | { ok: false; reason: unknown }> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await s.store.change<T>(keys, f);
    } catch (e) {
      const unknown = e instanceof ProblemError && e.problem.type.endsWith("/outcome-unknown");
      if (!unknown || attempt >= CHANGE_RETRIES) throw e;
    }
  }
}
