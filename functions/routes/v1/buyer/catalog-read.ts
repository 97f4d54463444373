import type { Event } from "../../../../shared/domain/event.ts";
import { eventKey, planChunkKey, planKey } from "../../../../shared/domain/keys.ts";
import type { SeatIndex, SeatLocation } from "../../../../shared/domain/seat-index.ts";
import {
  type GeneralAdmissionArea,
  gaPlaceId,
  type SeatCategory,
  type SeatRow,
} from "../../../../shared/domain/seating-plan.ts";
import { ProblemError } from "../../../problem.ts";
import type { Services } from "../../../services/index.ts";

/**
 * What the purchase flow reads of the catalog (written by the management API, layout in
 * docs/api-common: `plan/<pid>` metadata plus `plansec/<pid>/<section>/<chunk>` seat chunks). Only
 * the sections a request touches are loaded, so a hold on a 50,000-seat plan reads one or two
 * chunks, not the plan.
 */

export interface PlanMeta {
  readonly id: string;
  readonly theaterId: string;
  readonly name: string;
  readonly categories: readonly SeatCategory[];
  readonly sections: readonly {
    readonly id: string;
    readonly name: string;
    readonly seatCount: number;
    readonly chunks: number;
  }[];
  readonly generalAdmission: readonly GeneralAdmissionArea[];
}

interface PlanChunk {
  readonly sectionId: string;
  readonly rows: readonly SeatRow[];
}

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
