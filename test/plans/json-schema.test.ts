import { readFileSync, writeFileSync } from "node:fs";
import Ajv2020 from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import smallPlan from "../../docs/examples/plan-small.json" with { type: "json" };
import { seatingPlanJsonSchema } from "../../shared/plans/json-schema.ts";

const SCHEMA_FILE = "docs/formats/seating-plan.schema.json";

describe(SCHEMA_FILE, () => {
  it("is the schema generated from the zod schema (regenerate: TESSERA_REGENERATE=1)", () => {
    const path = new URL(`../../${SCHEMA_FILE}`, import.meta.url);
    if (process.env.TESSERA_REGENERATE) {
      writeFileSync(path, `${JSON.stringify(seatingPlanJsonSchema(), null, 2)}\n`);
    }
    // Compared as values, so formatting the committed file never breaks the test.
    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual(seatingPlanJsonSchema());
  });

  it("accepts the example plan and rejects a malformed one", () => {
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    // The generated schema: the test above pins it to the committed file.
    const validate = ajv.compile(seatingPlanJsonSchema());
    expect(validate(smallPlan), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ ...smallPlan, size: { width: -1, height: 10 } })).toBe(false);
    expect(validate({ ...smallPlan, extra: true })).toBe(false);
  });
});
