import { parseGaPlace, type SeatingPlan } from "./seating-plan.ts";

/** Where a seat (or general-admission place) sits and what it costs to sit there. */
export interface SeatLocation {
  readonly seatId: string;
  /** Section id, or general-admission area id: the middle segment of the seat key. */
  readonly sectionId: string;
  readonly categoryId: string;
  /** Row label for numbered seats; undefined for general admission. */
  readonly rowLabel?: string;
  /** Seat label for numbered seats, the place number for general admission. */
  readonly label: string;
}

export interface SeatIndex {
  /** The seat or place, or undefined when the plan has no such id. */
  get(seatId: string): SeatLocation | undefined;
}

/**
 * A lookup over a validated plan. Numbered seats go in a map; general-admission places are
 * resolved arithmetically (`<area>-<n>`, 1 ≤ n ≤ capacity) so a 50,000-place field costs nothing.
 */
export function indexSeats(plan: SeatingPlan): SeatIndex {
  const seats = new Map<string, SeatLocation>();
  for (const section of plan.sections) {
    for (const row of section.rows) {
      for (const seat of row.seats) {
        seats.set(seat.id, {
          seatId: seat.id,
          sectionId: section.id,
          categoryId: seat.category,
          rowLabel: row.label,
          label: seat.label,
        });
      }
    }
  }
  const areas = new Map(plan.generalAdmission.map((g) => [g.id, g]));
  return {
    get(seatId) {
      const seat = seats.get(seatId);
      if (seat) return seat;
      const place = parseGaPlace(seatId, areas);
      if (!place) return undefined;
      const { area, n } = place;
      return { seatId, sectionId: area.id, categoryId: area.category, label: String(n) };
    },
  };
}
