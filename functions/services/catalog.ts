import type { Event } from "../../shared/domain/event.ts";
import { eventKey, planChunkKey, planKey } from "../../shared/domain/keys.ts";
import type { SeatIndex, SeatLocation } from "../../shared/domain/seat-index.ts";
import { parseGaPlace, type SeatingPlan } from "../../shared/domain/seating-plan.ts";
import type { Consistency } from "../../shared/quorum/client.ts";
import { BATCH_KEYS_MAX } from "../../shared/storage/ports.ts";
import { ProblemError } from "../problem.ts";
import type { Services } from "./index.ts";
import { keepEventCopy, readImmutable } from "./instance-cache.ts";
import { assemblePlan, type PlanChunk, type StoredPlanMeta } from "./plan-chunks.ts";

/**
 * Catalog reads shared by the management and buyer flows: events, their list index entries, and
 * seating plans (stored in chunks, services/plan-chunks.ts). Plans never change once stored, so
 * chunks are read from the local store and only fetched through the quorum when this store has not
 * received them yet.
 */

/** The two of the quorum client's Consistency values a catalog read offers (see readOne). */
export type CatalogConsistency = Extract<Consistency, "local" | "quorum">;

/**
 * One record: "quorum" is linearizable; "local" is this provider's copy, or a quorum read when it
 * has none yet (a record written while this store was behind), so a fresh record never 404s.
 */
export async function readOne<T>(s: Services, key: string, consistency: CatalogConsistency) {
  if (consistency === "quorum") return await s.store.get<T>(key);
  return (await s.store.localGet<T>(key)) ?? (await s.store.get<T>(key));
}

/** Many records, batched to the store's limit; "local" falls back to the quorum per missing key. */
export async function readMany<T>(
  s: Services,
  keys: readonly string[],
  consistency: CatalogConsistency,
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
  consistency: CatalogConsistency,
): Promise<Event | null> {
  return await readOne<Event>(s, eventKey(eventId), consistency);
}

export async function getPlanMeta(
  s: Services,
  planId: string,
  consistency: CatalogConsistency = "local",
): Promise<StoredPlanMeta | null> {
  return await readOne<StoredPlanMeta>(s, planKey(planId), consistency);
}

/** The full plan, or null when it does not exist (or a chunk is missing everywhere). */
export async function getPlan(
  s: Services,
  planId: string,
  consistency: CatalogConsistency = "local",
): Promise<SeatingPlan | null> {
  const meta = await getPlanMeta(s, planId, consistency);
  if (meta === null) return null;
  return await getPlanOf(s, meta, consistency);
}

export async function getPlanOf(
  s: Services,
  meta: StoredPlanMeta,
  consistency: CatalogConsistency = "local",
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
  keepEventCopy(s.store, ev);
  return ev;
}

/** The seats of `sectionIds` in the event's plan (sections and general-admission areas). */
export async function lookupSeats(
  s: Services,
  planId: string,
  sectionIds: readonly string[],
): Promise<SeatLookup> {
  // Plans never change once stored: what this instance read before, or this provider's copy, will
  // do, and a key it lacks (a write it missed) costs a quorum read, which also repairs it here.
  const local = (keys: readonly string[]) => readMany<never>(s, keys, "local");
  const [meta] = await readImmutable<StoredPlanMeta>(s.store, [planKey(planId)], local);
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
  const chunks = await readImmutable<PlanChunk>(s.store, chunkKeys, local);
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
      const place = parseGaPlace(seatId, areas);
      if (!place || !wanted.has(place.area.id)) return undefined;
      const { area, n } = place;
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
