import { z } from "@hono/zod-openapi";
import {
  MAX_PLAN_CATEGORIES,
  MAX_PLAN_SECTIONS,
  MAX_ROW_SEATS,
  MAX_SEATS,
  MAX_SECTION_ROWS,
} from "../plans/limits.ts";
import { int32 } from "./bounds.ts";
import { Id } from "./ids.ts";
import { Label, Name } from "./text.ts";

/**
 * Tessera's own seating plan format. Structure only: the cross-checks (unique ids, known
 * categories, seats inside the plan, size limits) live in shared/plans/validate.ts, which reports
 * every problem at once. docs/formats/seating-plan.schema.json is generated from `SeatingPlanInput`.
 */

/** Largest plan side in plan units (pixels at 1:1): room for a stadium drawn at 1 unit per 10 cm. */
export const PLAN_DIMENSION_MAX = 100_000;

/**
 * A colour safe to put into SVG/CSS as-is: #rgb, #rrggbb or a CSS colour keyword ("red"). Nothing
 * else, so a plan can never smuggle markup or url(...) into the rendered page.
 */
export const Color = z
  .string()
  .max(20)
  .regex(
    /^(#[0-9A-Fa-f]{3}|#[0-9A-Fa-f]{6}|[A-Za-z]{3,20})$/,
    "must be #rgb, #rrggbb or a CSS colour name",
  )
  .meta({ description: "#rgb, #rrggbb or a CSS colour name." });

const coordinate = z.number().meta({ description: "Plan units from the top-left corner." });

export const PlanSize = z
  .object({
    width: z.number().positive().max(PLAN_DIMENSION_MAX),
    height: z.number().positive().max(PLAN_DIMENSION_MAX),
  })
  .strict();

export const SeatCategory = z
  .object({
    id: Id,
    name: Name,
    color: Color,
  })
  .strict()
  .openapi("SeatCategory");
export type SeatCategory = z.infer<typeof SeatCategory>;

export const Seat = z
  .object({
    id: Id.meta({
      description: "Unique in the whole plan: orders, holds and tickets name a seat by it alone.",
    }),
    label: Label.meta({ description: "Seat number as printed on the ticket, e.g. 12." }),
    x: coordinate,
    y: coordinate,
    category: Id.meta({ description: "Id of one of the plan's categories." }),
  })
  .strict()
  .openapi("Seat");
export type Seat = z.infer<typeof Seat>;

export const SeatRow = z
  .object({
    id: Id.meta({ description: "Unique within its section." }),
    label: Label.meta({ description: "Row name as printed on the ticket, e.g. A." }),
    seats: z.array(Seat).max(MAX_ROW_SEATS),
  })
  .strict()
  .openapi("SeatRow");
export type SeatRow = z.infer<typeof SeatRow>;

export const Section = z
  .object({
    id: Id.meta({ description: "Unique among sections and general-admission areas." }),
    name: Name,
    rows: z.array(SeatRow).max(MAX_SECTION_ROWS),
  })
  .strict()
  .openapi("Section");
export type Section = z.infer<typeof Section>;

export const GeneralAdmissionArea = z
  .object({
    id: Id.meta({
      description:
        "Unique among sections and general-admission areas; its places are <id>-1 … <id>-<capacity>.",
    }),
    name: Name,
    category: Id.meta({ description: "Id of one of the plan's categories." }),
    capacity: int32(1, MAX_SEATS).meta({ description: "Places sold without a seat number." }),
  })
  .strict()
  .openapi("GeneralAdmissionArea");
export type GeneralAdmissionArea = z.infer<typeof GeneralAdmissionArea>;

const planFields = {
  name: Name,
  size: PlanSize,
  categories: z.array(SeatCategory).max(MAX_PLAN_CATEGORIES),
  sections: z.array(Section).max(MAX_PLAN_SECTIONS),
  generalAdmission: z.array(GeneralAdmissionArea).max(MAX_PLAN_SECTIONS),
};

/** A stored, validated plan. */
export const SeatingPlan = z
  .object({ id: Id, ...planFields })
  .strict()
  .openapi("SeatingPlan");
export type SeatingPlan = z.infer<typeof SeatingPlan>;

/**
 * What a client uploads: `id` may be left to the server, `generalAdmission` may be omitted, and a
 * `$schema` reference (for editor completion) is tolerated and dropped.
 */
export const SeatingPlanInput = z
  .object({
    $schema: z
      .string()
      .max(1024)
      .optional()
      .meta({ description: "Ignored; lets editors find this schema." }),
    id: Id.optional().meta({ description: "Plan id; may be left to the server." }),
    ...planFields,
    generalAdmission: planFields.generalAdmission.optional(),
  })
  .strict()
  .openapi("SeatingPlanInput");
export type SeatingPlanInput = z.infer<typeof SeatingPlanInput>;

/**
 * Ids of the places of a general-admission area: `<areaId>-1` … `<areaId>-<capacity>`. Each place is
 * held and sold as its own key `seat/<event>/<areaId>/<placeId>`, exactly like a numbered seat, so
 * the quorum never serialises a whole area's sales on one hot counter.
 */
export function gaPlaceId(areaId: string, n: number): string {
  return `${areaId}-${n}`;
}

/**
 * The area and place number a general-admission place id names, or undefined when `placeId` is
 * not `<area>-<n>` of one of `areas` with 1 ≤ n ≤ its capacity (in canonical form: no leading
 * zeros, so one place has one id and one seat key).
 */
export function parseGaPlace<A extends { readonly id: string; readonly capacity: number }>(
  placeId: string,
  areas: ReadonlyMap<string, A>,
): { readonly area: A; readonly n: number } | undefined {
  const m = /^(.+)-([1-9]\d{0,8})$/.exec(placeId);
  const area = m ? areas.get(m[1]!) : undefined;
  const n = Number(m?.[2]);
  if (!area || n > area.capacity || gaPlaceId(area.id, n) !== placeId) return undefined;
  return { area, n };
}

/** Number of sellable places: numbered seats plus general-admission capacity. */
export function placeCount(plan: Pick<SeatingPlan, "sections" | "generalAdmission">): number {
  let n = 0;
  for (const s of plan.sections) for (const r of s.rows) n += r.seats.length;
  for (const g of plan.generalAdmission) n += g.capacity;
  return n;
}

/** Seat (or general-admission place) id → its section or area id, for every place of the plan. */
export function seatSections(plan: SeatingPlan): Map<string, string> {
  const out = new Map<string, string>();
  for (const sec of plan.sections) {
    for (const row of sec.rows) for (const seat of row.seats) out.set(seat.id, sec.id);
  }
  for (const ga of plan.generalAdmission) {
    for (let n = 1; n <= ga.capacity; n++) out.set(gaPlaceId(ga.id, n), ga.id);
  }
  return out;
}
