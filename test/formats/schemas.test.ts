import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { formatSchemas } from "../../shared/formats/schemas.ts";

describe("committed JSON Schemas", () => {
  // Compared as JSON values: the committed files are formatted by biome.
  it.each(Object.keys(formatSchemas()))("docs/formats/%s is up to date", async (name) => {
    const text = await readFile(new URL(`../../docs/formats/${name}`, import.meta.url), "utf8");
    // Regenerate: npx tessera backup schema --all --out-dir docs/formats, then biome-format only
    // these four files (docs/formats also holds seating-plan.schema.json, pinned byte for byte).
    expect(JSON.parse(text)).toEqual(formatSchemas()[name]);
  });
});
