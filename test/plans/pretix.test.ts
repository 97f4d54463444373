// biome-ignore-all lint/suspicious/noExplicitAny: the tests bend valid JSON into invalid shapes
import { describe, expect, it } from "vitest";
import pretixPlan from "../../docs/examples/plan-pretix.json" with { type: "json" };
import { indexSeats } from "../../shared/domain/seat-index.ts";
import { placeCount } from "../../shared/domain/seating-plan.ts";
import { importPretixPlan } from "../../shared/plans/pretix.ts";
import { validatePlan } from "../../shared/plans/validate.ts";

const clone = <T>(v: T): T => structuredClone(v);
const codes = (r: ReturnType<typeof importPretixPlan>) =>
  r.ok ? [] : r.errors.map((e) => `${e.code} ${e.path}`);

describe("importPretixPlan", () => {
  it("converts the pretix example", () => {
    const r = importPretixPlan(pretixPlan);
    expect(codes(r)).toEqual([]);
    if (!r.ok) return;
    const plan = r.plan;
    expect(plan.id).toBe("kleiner-saal");
    expect(plan.name).toBe("Kleiner Saal");
    expect(plan.size).toEqual({ width: 400, height: 360 });
    expect(plan.categories).toEqual([
      { id: "parkett", name: "Parkett", color: "#3b6fb6" },
      { id: "loge", name: "Loge", color: "red" },
    ]);
    expect(plan.sections.map((s) => [s.id, s.name, s.rows.length])).toEqual([
      ["parkett", "Parkett", 3],
      ["loge", "Loge", 1],
    ]);
    expect(placeCount(plan)).toBe(22);
    expect(plan.generalAdmission).toEqual([]);
    // A converted plan is a valid plan in our own format.
    expect(validatePlan(plan).ok).toBe(true);
  });

  it("adds zone, row and seat positions into absolute coordinates", () => {
    const r = importPretixPlan(pretixPlan);
    if (!r.ok) throw new Error("import failed");
    const row2 = r.plan.sections[0]!.rows[1]!;
    expect(row2).toMatchObject({ id: "2", label: "Reihe 2" });
    // zone (100,150) + row (0,35) + seat 3 (60,0)
    expect(row2.seats[2]).toEqual({
      id: "parkett-2-3",
      label: "Platz 3",
      x: 160,
      y: 185,
      category: "parkett",
    });
    const loge = r.plan.sections[1]!.rows[0]!;
    expect(loge.label).toBe("L");
    expect(loge.seats[3]).toEqual({ id: "loge-L-4", label: "4", x: 130, y: 300, category: "loge" });
    expect(indexSeats(r.plan).get("loge-L-4")?.sectionId).toBe("loge");
  });

  it("takes the plan id from the caller", () => {
    const r = importPretixPlan(pretixPlan, { id: "p1" });
    expect(r.ok && r.plan.id).toBe("p1");
  });

  it("generates unique ids when names collide or are unusable", () => {
    const p = clone(pretixPlan) as Record<string, any>;
    p.categories = [
      { name: "Stalls (front)" },
      { name: "stalls-front", color: "rgb(1,2,3)" },
      { name: "★" },
    ];
    p.zones[0].zone_id = "same";
    p.zones[1].zone_id = "same";
    for (const z of p.zones) for (const row of z.rows) for (const s of row.seats) s.category = "★";
    p.zones[0].rows[0].seats[0].category = "Stalls (front)";
    p.zones[0].rows[0].seats[1].category = "stalls-front";
    const r = importPretixPlan(p);
    expect(codes(r)).toEqual([]);
    if (!r.ok) return;
    expect(r.plan.categories.map((c) => c.id)).toEqual([
      "stalls-front",
      "stalls-front-2",
      "category-3",
    ]);
    expect(r.plan.categories[0]!.color).toMatch(/^#/); // palette when none given
    expect(r.plan.categories[1]!.color).toMatch(/^#/); // palette when unusable
    expect(r.plan.sections.map((s) => s.id)).toEqual(["same", "same-2"]);
    expect(r.plan.sections[0]!.rows[0]!.seats[1]!.category).toBe("stalls-front-2");
  });

  it("computes the size when the file has none (first pretix schema version)", () => {
    const { size: _size, ...p } = clone(pretixPlan);
    const r = importPretixPlan(p);
    expect(r.ok && r.plan.size).toEqual({ width: 260, height: 312 });
  });

  it("lists every problem with paths into the pretix file", () => {
    const p = clone(pretixPlan) as Record<string, any>;
    const rows = p.zones[0].rows;
    rows[0].seats[1].seat_guid = rows[0].seats[0].seat_guid; // duplicate guid
    rows[0].seats[2].seat_guid = "has spaces"; // not usable as an id
    rows[1].seats[0].category = "Balkon"; // unknown category
    rows[1].seats[1].category = ""; // no category
    delete rows[1].seats[2].category; // no category (schema)
    rows[2].seats[0].position.x = 1000; // outside the 400-wide plan
    delete rows[2].seats[1].position; // schema
    p.categories.push({ name: "Loge" }); // duplicate category name
    p.zones[1].position = "top"; // schema: whole zone unusable

    const r = importPretixPlan(p);
    expect(codes(r).sort()).toEqual(
      [
        "duplicate_seat_id /zones/0/rows/0/seats/1/seat_guid",
        "invalid_seat_guid /zones/0/rows/0/seats/2/seat_guid",
        "unknown_category /zones/0/rows/1/seats/0/category",
        "seat_without_category /zones/0/rows/1/seats/1/category",
        "seat_without_category /zones/0/rows/1/seats/2/category",
        "seat_outside_plan /zones/0/rows/2/seats/0",
        "invalid_schema /zones/0/rows/2/seats/1/position",
        "duplicate_category_name /categories/2/name",
        "invalid_schema /zones/1/position",
      ].sort(),
    );
    const dup = r.ok ? undefined : r.errors.find((e) => e.code === "duplicate_seat_id");
    expect(dup?.message).toContain("/zones/0/rows/0/seats/0");
  });

  it("rejects what is not a pretix plan", () => {
    for (const input of [null, [], "x", { name: "n" }]) {
      const r = importPretixPlan(input);
      expect(r.ok).toBe(false);
      expect(codes(r).some((c) => c.startsWith("invalid_schema"))).toBe(true);
    }
    expect(codes(importPretixPlan({ name: "Empty", categories: [], zones: [] }))).toEqual([
      "empty_plan ",
    ]);
  });
});
