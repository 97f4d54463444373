import { z } from "@hono/zod-openapi";
import { int32 } from "../../shared/domain/bounds.ts";
import { Id } from "../../shared/domain/ids.ts";
import { planChunkKey } from "../../shared/domain/keys.ts";
import {
  GeneralAdmissionArea,
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

/**
 * How a seating plan is stored. A plan of a stadium is megabytes of JSON, far beyond one register
 * value, so it is stored as a small metadata record `plan/<pid>` plus its seats in chunks
 * `plansec/<pid>/<section>/<n>`. Plans never change once stored (events pin them by id).
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

/** The metadata record `plan/<pid>`: the plan without its seats. The API answers it as is
 * (OpenAPI `PlanMeta`; the SDK's type is shared/client/types.ts PlanMeta). */
export const StoredPlanMeta = z
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
export type StoredPlanMeta = {
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
): { meta: StoredPlanMeta; chunks: { key: string; value: PlanChunk }[] } {
  const chunks: { key: string; value: PlanChunk }[] = [];
  const sections: StoredPlanMeta["sections"] = [];
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
export function assemblePlan(meta: StoredPlanMeta, chunks: readonly PlanChunk[]): SeatingPlan {
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
