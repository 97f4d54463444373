import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import Ajv2020 from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import smallPlan from "../../docs/examples/plan-small.json" with { type: "json" };
import { seatingPlanJsonSchema } from "../../shared/plans/json-schema.ts";

const SCHEMA_FILE = "docs/formats/seating-plan.schema.json";

/** The generated schema laid out as `biome format` lays out the committed file. */
function formatted(value: unknown): string {
  const biome = fileURLToPath(new URL("../../node_modules/.bin/biome", import.meta.url));
  return execFileSync(biome, ["format", `--stdin-file-path=${SCHEMA_FILE}`], {
    input: JSON.stringify(value, null, 2),
    encoding: "utf8",
  });
}

describe(SCHEMA_FILE, () => {
  it("is the schema generated from the zod schema (regenerate: npx vitest run -u)", async () => {
    await expect(formatted(seatingPlanJsonSchema())).toMatchFileSnapshot(`../../${SCHEMA_FILE}`);
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
