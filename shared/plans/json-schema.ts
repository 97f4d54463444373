import { z } from "zod";
import { SeatingPlanInput } from "../domain/seating-plan.ts";

/**
 * The JSON Schema of the seating plan upload format, derived from the zod schema so the two can
 * never disagree; docs/formats/seating-plan.schema.json is this object, checked by a test.
 * It describes structure only: unique ids, known categories and seats inside the plan are checked
 * by validatePlan.
 */
export function seatingPlanJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(SeatingPlanInput, { io: "input", unrepresentable: "throw" });
  const { $schema, ...rest } = generated;
  return {
    $schema,
    title: "Tessera seating plan",
    description:
      "A venue's seating plan: categories, sections of rows of seats with coordinates, and " +
      "general-admission areas. Ids, categories and coordinates are cross-checked on upload " +
      "(see docs/formats/seating-plan.md).",
    ...rest,
  };
}
