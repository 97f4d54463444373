import { ID_MAX_LENGTH } from "../domain/ids.ts";
import type { DomainIssue } from "../domain/result.ts";
import { pointer } from "../domain/result.ts";
import { gaPlaceId, type SeatingPlan, SeatingPlanInput } from "../domain/seating-plan.ts";
import { MAX_PLAN_ERRORS, MAX_SEATS } from "./limits.ts";

export type PlanIssue = DomainIssue;

export type PlanResult =
  | { readonly ok: true; readonly plan: SeatingPlan }
  | { readonly ok: false; readonly errors: readonly PlanIssue[] };

export interface ValidatePlanOptions {
  /** The plan's id when the caller assigns it (e.g. from the URL); must match `id` if both given. */
  readonly id?: string;
}

/**
 * Error codes validatePlan reports. `invalid_schema` covers every structural problem (wrong type,
 * bad id characters, unknown field…); the others are the cross-checks a schema cannot express.
 */
export const PLAN_ERROR_CODES = [
  "invalid_schema",
  "missing_id",
  "id_mismatch",
  "seat_without_category",
  "unknown_category",
  "duplicate_category_id",
  "duplicate_section_id",
  "duplicate_row_id",
  "duplicate_seat_id",
  "seat_outside_plan",
  "ga_id_too_long",
  "empty_plan",
  "too_many_seats",
  "too_many_errors",
] as const;
export type PlanErrorCode = (typeof PLAN_ERROR_CODES)[number];

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const arr = (v: unknown): readonly unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const num = (v: unknown): number | undefined =>
  typeof v === "number" && Number.isFinite(v) ? v : undefined;

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const p of path) {
    if (typeof v !== "object" || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

/** Collects issues up to MAX_PLAN_ERRORS, then one `too_many_errors` marker. */
export class IssueList {
  readonly items: PlanIssue[] = [];
  private overflow = false;
  add(path: string, code: PlanErrorCode | (string & {}), message: string): void {
    if (this.items.length < MAX_PLAN_ERRORS) {
      this.items.push({ path, code, message });
    } else if (!this.overflow) {
      this.overflow = true;
      this.items.push({
        path: "",
        code: "too_many_errors",
        message: `only the first ${MAX_PLAN_ERRORS} problems are listed`,
      });
    }
  }
  get full(): boolean {
    return this.overflow;
  }
}

/**
 * A missing or empty category on a seat or area is reported as `seat_without_category` rather than
 * a bare type error: it is the most common mistake in hand-written and converted plans.
 */
function isMissingCategory(input: unknown, path: readonly PropertyKey[]): boolean {
  if (path[path.length - 1] !== "category") return false;
  const v = valueAt(input, path);
  return v === undefined || v === null || v === "";
}

/**
 * Validates a plan in Tessera's format, listing every problem at once (up to MAX_PLAN_ERRORS):
 * schema errors, then cross-checks run over whatever parts are well-formed enough to check.
 */
export function validatePlan(input: unknown, options: ValidatePlanOptions = {}): PlanResult {
  const issues = new IssueList();
  const parsed = SeatingPlanInput.safeParse(input);
  if (!parsed.success) {
    for (const i of parsed.error.issues) {
      if (isMissingCategory(input, i.path)) {
        issues.add(pointer(i.path), "seat_without_category", "has no category");
      } else {
        issues.add(pointer(i.path), "invalid_schema", i.message);
      }
    }
  }
  const root = isObj(input) ? input : {};
  checkId(root, options, issues);
  crossCheck(root, issues);

  if (issues.items.length > 0 || !parsed.success) return { ok: false, errors: issues.items };
  const { $schema: _ignored, id, generalAdmission, ...rest } = parsed.data;
  return {
    ok: true,
    plan: { id: (id ?? options.id)!, ...rest, generalAdmission: generalAdmission ?? [] },
  };
}

function checkId(root: Obj, options: ValidatePlanOptions, issues: IssueList): void {
  const own = str(root.id);
  if (own === undefined && options.id === undefined) {
    issues.add("/id", "missing_id", "the plan needs an id");
  } else if (own !== undefined && options.id !== undefined && own !== options.id) {
    issues.add("/id", "id_mismatch", `the plan's id ${own} differs from ${options.id}`);
  }
}

/** Cross-checks on the raw input, tolerant of malformed parts (the schema reports those). */
function crossCheck(root: Obj, issues: IssueList): void {
  const checkCategory = categoryChecker(root, issues);
  const ids: PlaceIds = { areaIds: new Map(), seatIds: new Map() };
  let places = checkSections(root, issues, ids, checkCategory);
  places += checkGeneralAdmission(root, issues, ids, checkCategory);
  checkPlaceIdClashes(root, issues, ids.seatIds);

  if (places === 0) {
    issues.add("", "empty_plan", "the plan has no seats and no general-admission capacity");
  } else if (places > MAX_SEATS) {
    issues.add(
      "",
      "too_many_seats",
      `the plan has ${places} places; at most ${MAX_SEATS} are allowed`,
    );
  }
}

/** Where each section or area id and each seat id was first seen (a JSON pointer). */
interface PlaceIds {
  areaIds: Map<string, string>;
  seatIds: Map<string, string>;
}

type CategoryCheck = (owner: Obj, path: string) => void;

/** Reports duplicate category ids; returns the check that a seat or area names a known one. */
function categoryChecker(root: Obj, issues: IssueList): CategoryCheck {
  const categories = new Set<string>();
  arr(root.categories).forEach((c, i) => {
    const id = isObj(c) ? str(c.id) : undefined;
    if (id === undefined) return;
    if (categories.has(id)) {
      issues.add(`/categories/${i}/id`, "duplicate_category_id", `category ${id} is defined twice`);
    }
    categories.add(id);
  });
  return (owner: Obj, path: string) => {
    const cat = str(owner.category);
    if (cat && !categories.has(cat)) {
      issues.add(`${path}/category`, "unknown_category", `no category has the id ${cat}`);
    }
  };
}

/** Section, row and seat ids, seat categories and positions; returns the number of seats. */
function checkSections(
  root: Obj,
  issues: IssueList,
  { areaIds, seatIds }: PlaceIds,
  checkCategory: CategoryCheck,
): number {
  const size = isObj(root.size) ? root.size : {};
  const width = num(size.width);
  const height = num(size.height);
  let places = 0;
  arr(root.sections).forEach((s, si) => {
    if (!isObj(s)) return;
    const sPath = `/sections/${si}`;
    const sid = str(s.id);
    if (sid !== undefined) {
      const first = areaIds.get(sid);
      if (first !== undefined) {
        issues.add(
          `${sPath}/id`,
          "duplicate_section_id",
          `section id ${sid} is also used at ${first}`,
        );
      } else {
        areaIds.set(sid, sPath);
      }
    }
    const rowIds = new Set<string>();
    arr(s.rows).forEach((r, ri) => {
      if (!isObj(r)) return;
      const rPath = `${sPath}/rows/${ri}`;
      const rid = str(r.id);
      if (rid !== undefined) {
        if (rowIds.has(rid)) {
          issues.add(
            `${rPath}/id`,
            "duplicate_row_id",
            `row id ${rid} appears twice in this section`,
          );
        }
        rowIds.add(rid);
      }
      arr(r.seats).forEach((seat, k) => {
        if (!isObj(seat)) return;
        places++;
        if (issues.full) return;
        const path = `${rPath}/seats/${k}`;
        const id = str(seat.id);
        if (id !== undefined) {
          const first = seatIds.get(id);
          if (first !== undefined) {
            issues.add(`${path}/id`, "duplicate_seat_id", `seat id ${id} is also used at ${first}`);
          } else {
            seatIds.set(id, path);
          }
        }
        checkCategory(seat, path);
        const x = num(seat.x);
        const y = num(seat.y);
        if (
          x !== undefined &&
          y !== undefined &&
          width !== undefined &&
          height !== undefined &&
          (x < 0 || y < 0 || x > width || y > height)
        ) {
          issues.add(
            path,
            "seat_outside_plan",
            `seat at (${x}, ${y}) lies outside ${width}×${height}`,
          );
        }
      });
    });
  });
  return places;
}

/** Area ids (shared with sections), place id lengths and area categories; returns the capacity. */
function checkGeneralAdmission(
  root: Obj,
  issues: IssueList,
  { areaIds }: PlaceIds,
  checkCategory: CategoryCheck,
): number {
  let places = 0;
  arr(root.generalAdmission).forEach((g, gi) => {
    if (!isObj(g)) return;
    const path = `/generalAdmission/${gi}`;
    const gid = str(g.id);
    const capacity = num(g.capacity);
    if (capacity !== undefined && capacity > 0) places += Math.floor(capacity);
    if (gid !== undefined) {
      const first = areaIds.get(gid);
      if (first !== undefined) {
        issues.add(`${path}/id`, "duplicate_section_id", `area id ${gid} is also used at ${first}`);
      } else {
        areaIds.set(gid, path);
      }
      if (capacity !== undefined && capacity >= 1) {
        const longest = gaPlaceId(gid, Math.floor(capacity));
        if (longest.length > ID_MAX_LENGTH) {
          issues.add(
            `${path}/id`,
            "ga_id_too_long",
            `place ids such as ${longest} would exceed ${ID_MAX_LENGTH} characters; shorten the id`,
          );
        }
      }
    }
    checkCategory(g, path);
  });
  return places;
}

function checkPlaceIdClashes(root: Obj, issues: IssueList, seatIds: Map<string, string>): void {
  // General-admission place ids (`<area>-<n>`) share the namespace of numbered seat ids.
  const capacities = new Map<string, number>();
  for (const g of arr(root.generalAdmission)) {
    const gid = isObj(g) ? str(g.id) : undefined;
    if (gid !== undefined && isObj(g)) capacities.set(gid, num(g.capacity) ?? 0);
  }
  for (const [id, path] of seatIds) {
    const m = /^(.+)-([1-9]\d*)$/.exec(id);
    if (m && (capacities.get(m[1]!) ?? 0) >= Number(m[2])) {
      issues.add(
        `${path}/id`,
        "duplicate_seat_id",
        `seat id ${id} is also a place of area ${m[1]}`,
      );
    }
  }
}
