import { z } from "zod";

/**
 * pretix's seating plan format: the JSON its seating plan editor writes and pretix validates
 * against `src/pretix/static/seating/seating-plan.schema.json` (draft-07). Mirrored here for
 * import only, so unknown fields are ignored (a newer editor may add some) while every field we
 * read is checked. Positions of rows are relative to their zone, seats to their row.
 */

const Position = z.object({ x: z.number(), y: z.number() });

const PretixSeat = z.object({
  /** Globally unique seat id; pretix orders refer to seats by it. */
  seat_guid: z.string(),
  seat_number: z.string(),
  uuid: z.string().optional(),
  start_direction: z.string().nullable().optional(),
  /** Seat circle radius; pretix's default is 10. */
  radius: z.number().int().optional(),
  position: Position,
  /** Name of one of the top-level categories. */
  category: z.string(),
});

const PretixRow = z.object({
  row_number: z.string(),
  /** "%s" stands for row_number, e.g. "Row %s". */
  row_label: z.string().nullable().optional(),
  /** "%s" stands for seat_number, e.g. "Seat %s". */
  seat_label: z.string().nullable().optional(),
  uuid: z.string().optional(),
  seats: z.array(PretixSeat),
  row_number_position: z.enum(["start", "end", "both"]).nullable().optional(),
  number_of_seats: z.number().int().optional(),
  seats_spacing: z.number().int().optional(),
  position: Position.optional(),
});

const PretixZone = z.object({
  name: z.string().optional(),
  zone_id: z.string().optional(),
  uuid: z.string().optional(),
  displayed: z.boolean().optional(),
  position: Position,
  rows: z.array(PretixRow),
  /** Decorations (stage, bar, text); they sell nothing, so the import drops them. */
  areas: z.array(z.unknown()).optional(),
});

const PretixCategory = z.object({ name: z.string(), color: z.string().optional() });

export const PretixPlan = z.object({
  name: z.string(),
  categories: z.array(PretixCategory),
  zones: z.array(PretixZone),
  /** Required by current pretix; optional in its first schema version. */
  size: z.object({ width: z.number().int(), height: z.number().int() }).optional(),
});
export type PretixPlan = z.infer<typeof PretixPlan>;

/** pretix draws seats with this radius when a seat gives none. */
export const PRETIX_DEFAULT_SEAT_RADIUS = 10;
