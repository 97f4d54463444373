// biome-ignore-all lint/suspicious/noExplicitAny: the tests bend valid JSON into invalid shapes
import { describe, expect, it } from "vitest";
import smallPlan from "../../docs/examples/plan-small.json" with { type: "json" };
import { indexSeats } from "../../shared/domain/seat-index.ts";
import { placeCount } from "../../shared/domain/seating-plan.ts";
import { MAX_PLAN_ERRORS, MAX_SEATS } from "../../shared/plans/limits.ts";
import { validatePlan } from "../../shared/plans/validate.ts";

const clone = <T>(v: T): T => structuredClone(v);

function codes(r: ReturnType<typeof validatePlan>): string[] {
  return r.ok ? [] : r.errors.map((e) => `${e.code} ${e.path}`);
}

describe("validatePlan", () => {
  it("accepts the small example plan", () => {
    const r = validatePlan(smallPlan);
    expect(codes(r)).toEqual([]);
    if (!r.ok) return;
    expect(r.plan.id).toBe("small-hall");
    expect(r.plan.sections).toHaveLength(2);
    expect(r.plan.categories).toHaveLength(2);
    expect(placeCount(r.plan)).toBe(40);
    expect("$schema" in r.plan).toBe(false);
    expect(r.plan.generalAdmission).toEqual([]);
  });

  it("lists every error of a broken plan at once", () => {
    const plan = clone(smallPlan) as Record<string, any>;
    const stalls = plan.sections[0];
    const balcony = plan.sections[1];
    stalls.rows[0].seats[1].id = stalls.rows[0].seats[0].id; // duplicate in one row
    balcony.rows[1].seats[0].id = stalls.rows[2].seats[3].id; // duplicate across sections
    delete stalls.rows[1].seats[2].category; // no category
    stalls.rows[1].seats[3].category = "vip"; // unknown category
    balcony.rows[1].id = "A"; // duplicate row id in a section
    plan.sections.push({ id: "stalls", name: "Stalls again", rows: [] }); // duplicate section id
    stalls.rows[2].seats[0].x = 401; // outside (width 400)
    stalls.rows[2].seats[1].y = -1; // outside
    plan.categories.push({ id: "premium", name: "Dup", color: "#000" }); // duplicate category
    stalls.rows[0].seats[4].id = "bad id"; // schema: id characters
    plan.colour = "red"; // schema: unknown field

    const r = validatePlan(plan);
    expect(r.ok).toBe(false);
    expect(codes(r).sort()).toEqual(
      [
        "duplicate_seat_id /sections/0/rows/0/seats/1/id",
        "duplicate_seat_id /sections/1/rows/1/seats/0/id",
        "seat_without_category /sections/0/rows/1/seats/2/category",
        "unknown_category /sections/0/rows/1/seats/3/category",
        "duplicate_row_id /sections/1/rows/1/id",
        "duplicate_section_id /sections/2/id",
        "seat_outside_plan /sections/0/rows/2/seats/0",
        "seat_outside_plan /sections/0/rows/2/seats/1",
        "duplicate_category_id /categories/2/id",
        "invalid_schema /sections/0/rows/0/seats/4/id",
        "invalid_schema ",
      ].sort(),
    );
    const dup = r.ok ? undefined : r.errors.find((e) => e.path.endsWith("/rows/1/seats/0/id"));
    expect(dup?.message).toContain("/sections/0/rows/2/seats/3");
  });

  it("reports an empty plan", () => {
    const r = validatePlan({ ...clone(smallPlan), sections: [] });
    expect(codes(r)).toEqual(["empty_plan "]);
  });

  it("counts general admission as seats and resolves its places", () => {
    const plan = {
      ...clone(smallPlan),
      sections: [],
      generalAdmission: [{ id: "floor", name: "Floor", category: "standard", capacity: 500 }],
    };
    const r = validatePlan(plan);
    expect(codes(r)).toEqual([]);
    if (!r.ok) return;
    const seats = indexSeats(r.plan);
    expect(seats.get("floor-1")).toMatchObject({ sectionId: "floor", categoryId: "standard" });
    expect(seats.get("floor-500")?.label).toBe("500");
    expect(seats.get("floor-501")).toBeUndefined();
    expect(seats.get("floor-0")).toBeUndefined();
    expect(seats.get("floor-01")).toBeUndefined();
  });

  it("keeps general-admission areas apart from sections and seat ids", () => {
    const plan = clone(smallPlan) as Record<string, any>;
    plan.sections[0].rows[0].seats[0].id = "pit-3";
    plan.generalAdmission = [
      { id: "pit", name: "Pit", category: "premium", capacity: 10 },
      { id: "balcony", name: "Standing balcony", category: "nope", capacity: 5 },
      { id: "x".repeat(60), name: "Long", category: "standard", capacity: 100_000 },
    ];
    expect(codes(validatePlan(plan)).sort()).toEqual(
      [
        "duplicate_seat_id /sections/0/rows/0/seats/0/id",
        "duplicate_section_id /generalAdmission/1/id",
        "unknown_category /generalAdmission/1/category",
        "ga_id_too_long /generalAdmission/2/id",
      ].sort(),
    );
  });

  it("refuses more than MAX_SEATS places", () => {
    const plan = {
      ...clone(smallPlan),
      generalAdmission: [
        { id: "field", name: "Field", category: "standard", capacity: MAX_SEATS - 40 + 1 },
      ],
    };
    expect(codes(validatePlan(plan))).toEqual(["too_many_seats "]);
    plan.generalAdmission[0]!.capacity = MAX_SEATS - 40;
    expect(validatePlan(plan).ok).toBe(true);
  });

  it("needs an id from the plan or the caller, and they must agree", () => {
    const { id: _id, ...noId } = clone(smallPlan);
    expect(codes(validatePlan(noId))).toEqual(["missing_id /id"]);
    const r = validatePlan(noId, { id: "from-url" });
    expect(r.ok && r.plan.id).toBe("from-url");
    expect(codes(validatePlan(smallPlan, { id: "other" }))).toEqual(["id_mismatch /id"]);
    expect(validatePlan(smallPlan, { id: "small-hall" }).ok).toBe(true);
  });

  it("answers non-objects with schema errors, never throws", () => {
    for (const input of [null, 42, "plan", [], { sections: "no" }]) {
      const r = validatePlan(input);
      expect(r.ok).toBe(false);
      expect(codes(r).some((c) => c.startsWith("invalid_schema"))).toBe(true);
    }
  });

  it("caps the error list", () => {
    const plan = clone(smallPlan) as Record<string, any>;
    const seats = Array.from({ length: MAX_PLAN_ERRORS + 50 }, (_, i) => ({
      id: `s${i}`,
      label: "1",
      x: 10,
      y: 10,
      category: "missing",
    }));
    plan.sections[0].rows[0].seats = seats;
    const r = validatePlan(plan);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toHaveLength(MAX_PLAN_ERRORS + 1);
    expect(r.errors.at(-1)?.code).toBe("too_many_errors");
  });

  it("validates a plan at the seat limit in reasonable time", () => {
    const rows = Array.from({ length: 400 }, (_, r) => ({
      id: `r${r}`,
      label: String(r + 1),
      seats: Array.from({ length: 500 }, (_, s) => ({
        id: `r${r}s${s}`,
        label: String(s + 1),
        x: s * 2,
        y: r * 2,
        category: "standard",
      })),
    }));
    const plan = {
      ...clone(smallPlan),
      size: { width: 1000, height: 800 },
      sections: [{ id: "all", name: "All", rows }],
    };
    const r = validatePlan(plan);
    expect(r.ok).toBe(true);
  });
});
