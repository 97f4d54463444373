import { isId } from "../domain/ids.ts";
import { pointer } from "../domain/result.ts";
import {
  Color,
  type SeatCategory,
  type SeatingPlan,
  type SeatRow,
  type Section,
} from "../domain/seating-plan.ts";
import { LABEL_MAX_LENGTH, NAME_MAX_LENGTH } from "../domain/text.ts";
import { PRETIX_DEFAULT_SEAT_RADIUS, PretixPlan } from "./pretix-schema.ts";
import { IdAllocator, slugify } from "./slug.ts";
import { IssueList, type PlanResult, validatePlan } from "./validate.ts";

/**
 * Colours for pretix categories that have none (or one our format cannot carry safely, such as
 * "rgb(…)"): distinct, readable on white, assigned in category order.
 */
export const IMPORT_PALETTE = [
  "#1f77b4",
  "#ff7f0e",
  "#2ca02c",
  "#d62728",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
] as const;

export interface ImportPretixOptions {
  /** Id of the resulting plan; defaults to a slug of the pretix plan's name. */
  readonly id?: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const arr = (v: unknown): readonly unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const pos = (v: unknown): { x: number; y: number } | undefined =>
  isObj(v) && Number.isFinite(v.x) && Number.isFinite(v.y)
    ? { x: v.x as number, y: v.y as number }
    : undefined;

/** pretix label templates put the number where "%s" stands. */
function label(template: unknown, value: string, fallback: string): string {
  const t = str(template);
  const text = (t ? t.replaceAll("%s", value) : value).trim();
  if (text.length > 0 && text.length <= LABEL_MAX_LENGTH) return text;
  const plain = value.trim();
  return plain.length > 0 ? plain : fallback;
}

/** Where each part of the converted plan came from in the pretix file, to report pretix paths. */
interface Origins {
  categories: string[];
  sections: string[];
  rows: string[][];
  seats: string[][][];
}

const SEAT_FIELDS: Record<string, string> = {
  id: "seat_guid",
  label: "seat_number",
  x: "position/x",
  y: "position/y",
  category: "category",
};
const ROW_FIELDS: Record<string, string> = { id: "row_number", label: "row_label" };
const SECTION_FIELDS: Record<string, string> = { id: "zone_id", name: "name" };

function toPretixPath(path: string, o: Origins): string {
  const field = (rest: string | undefined, names: Record<string, string>) => {
    if (!rest) return "";
    const [head, ...tail] = rest.slice(1).split("/");
    return `/${[names[head!] ?? head, ...tail].join("/")}`;
  };
  const s = /^\/sections\/(\d+)(?:\/rows\/(\d+)(?:\/seats\/(\d+))?)?(\/.*)?$/.exec(path);
  if (s) {
    const [, si, ri, ki, rest] = s;
    if (ki !== undefined) {
      const base = o.seats[Number(si)]?.[Number(ri)]?.[Number(ki)];
      return base === undefined ? path : base + field(rest, SEAT_FIELDS);
    }
    if (ri !== undefined) {
      const base = o.rows[Number(si)]?.[Number(ri)];
      return base === undefined ? path : base + field(rest, ROW_FIELDS);
    }
    const base = o.sections[Number(si)];
    return base === undefined ? path : base + field(rest, SECTION_FIELDS);
  }
  const c = /^\/categories\/(\d+)(\/.*)?$/.exec(path);
  if (c) {
    const base = o.categories[Number(c[1])];
    return base === undefined ? path : base + field(c[2], { id: "name" });
  }
  return path === "/id" ? "" : path;
}

/**
 * Converts a plan from pretix's seating plan editor into Tessera's format. Absolute seat
 * coordinates are zone + row + seat positions; categories get ids slugged from their names; each
 * seat keeps its `seat_guid` as id, so tickets can be matched with pretix records. Area shapes
 * (stage, labels) are decorations and are dropped. Every problem is reported with a path into the
 * pretix file, in the same form as validatePlan's. Extra codes: duplicate_category_name,
 * invalid_seat_guid.
 */
export function importPretixPlan(input: unknown, options: ImportPretixOptions = {}): PlanResult {
  const issues = new IssueList();
  reportSchemaIssues(input, issues);
  // Convert whatever is well-formed (the schema issues above cover the rest), so one answer lists
  // the structural problems and the cross-check problems together.
  const root = isObj(input) ? input : {};
  const origins: Origins = { categories: [], sections: [], rows: [], seats: [] };
  const { categories, categoryIds } = convertCategories(root, issues, origins);
  const { sections, extent } = convertZones(root, issues, origins, categoryIds);

  const name = (str(root.name) ?? "").trim().slice(0, NAME_MAX_LENGTH) || "Imported pretix plan";
  const size = isObj(root.size) ? root.size : undefined;
  const width = Number.isFinite(size?.width)
    ? (size!.width as number)
    : Math.max(1, Math.ceil(extent.maxX));
  const height = Number.isFinite(size?.height)
    ? (size!.height as number)
    : Math.max(1, Math.ceil(extent.maxY));

  const candidate: SeatingPlan = {
    id: options.id ?? (slugify(name) || "pretix-plan"),
    name,
    size: { width, height },
    categories,
    sections,
    generalAdmission: [],
  };
  const checked = validatePlan(candidate);
  if (checked.ok && issues.items.length === 0) return checked;

  const own = issues.items.length;
  if (!checked.ok) {
    for (const e of checked.errors) {
      // Seats dropped for their own errors could leave the plan empty: not a separate problem.
      if (e.code === "empty_plan" && own > 0) continue;
      issues.add(
        toPretixPath(e.path, origins),
        e.code,
        e.message.replace(/\/sections\/[\d/a-z]+/g, (p) => toPretixPath(p, origins)),
      );
    }
  }
  return { ok: false, errors: issues.items };
}

function reportSchemaIssues(input: unknown, issues: IssueList): void {
  const parsed = PretixPlan.safeParse(input);
  if (!parsed.success) {
    for (const i of parsed.error.issues) {
      const missingCategory = i.path[i.path.length - 1] === "category" && i.code === "invalid_type";
      issues.add(
        pointer(i.path),
        missingCategory ? "seat_without_category" : "invalid_schema",
        missingCategory ? "has no category" : i.message,
      );
    }
  }
}

/** Categories with ids slugged from their names; `categoryIds` maps a pretix name to its id. */
function convertCategories(
  root: Obj,
  issues: IssueList,
  origins: Origins,
): { categories: SeatCategory[]; categoryIds: Map<string, string> } {
  const categoryIds = new Map<string, string>();
  const categoryAlloc = new IdAllocator();
  const categories: SeatCategory[] = [];
  arr(root.categories).forEach((c, i) => {
    const name = isObj(c) ? str(c.name) : undefined;
    if (name === undefined || !isObj(c)) return;
    if (categoryIds.has(name)) {
      issues.add(
        `/categories/${i}/name`,
        "duplicate_category_name",
        `category ${name} is defined twice`,
      );
      return;
    }
    const id = categoryAlloc.take(slugify(name) || undefined, `category-${i + 1}`);
    categoryIds.set(name, id);
    const color = str(c.color);
    categories.push({
      id,
      name: name.trim().slice(0, NAME_MAX_LENGTH) || id,
      color:
        color !== undefined && Color.safeParse(color).success
          ? color
          : IMPORT_PALETTE[i % IMPORT_PALETTE.length]!,
    });
    origins.categories.push(`/categories/${i}`);
  });
  return { categories, categoryIds };
}

/** How far the seats reach (their radius included), for a plan without a size. */
interface Extent {
  maxX: number;
  maxY: number;
}

/** Zones become sections, their rows rows and their seats seats at absolute positions. */
function convertZones(
  root: Obj,
  issues: IssueList,
  origins: Origins,
  categoryIds: Map<string, string>,
): { sections: Section[]; extent: Extent } {
  const sectionAlloc = new IdAllocator();
  const sections: Section[] = [];
  const extent: Extent = { maxX: 0, maxY: 0 };
  arr(root.zones).forEach((z, zi) => {
    const zp = isObj(z) ? pos(z.position) : undefined;
    if (!zp || !isObj(z)) return;
    const zPath = `/zones/${zi}`;
    const rowAlloc = new IdAllocator();
    const rows: SeatRow[] = [];
    const rowOrigins: string[] = [];
    const seatOrigins: string[][] = [];
    arr(z.rows).forEach((r, ri) => {
      if (!isObj(r)) return;
      const rPath = `${zPath}/rows/${ri}`;
      const rowNumber = str(r.row_number) ?? "";
      const rp = pos(r.position) ?? { x: 0, y: 0 };
      const seats: SeatRow["seats"] = [];
      const origin: string[] = [];
      arr(r.seats).forEach((s, k) => {
        if (!isObj(s)) return;
        const sPath = `${rPath}/seats/${k}`;
        const at = { x: zp.x + rp.x, y: zp.y + rp.y };
        const seat = convertSeat(s, k, sPath, r, at, categoryIds, issues, extent);
        if (seat === undefined) return;
        seats.push(seat);
        origin.push(sPath);
      });
      rows.push({
        id: rowAlloc.take(rowNumber, `row-${ri + 1}`),
        label: label(r.row_label, rowNumber, String(ri + 1)),
        seats,
      });
      rowOrigins.push(rPath);
      seatOrigins.push(origin);
    });
    const zoneName = (str(z.name) ?? "").trim().slice(0, NAME_MAX_LENGTH);
    sections.push({
      id: sectionAlloc.take(str(z.zone_id), `zone-${zi + 1}`),
      name: zoneName || `Zone ${zi + 1}`,
      rows,
    });
    origins.sections.push(zPath);
    origins.rows.push(rowOrigins);
    origins.seats.push(seatOrigins);
  });
  return { sections, extent };
}

/**
 * One pretix seat (the `k`th of row `r`, whose zone and row put it at `at` plus its own position),
 * or undefined when it is incomplete or wrong (a problem reported in `issues`).
 */
function convertSeat(
  s: Obj,
  k: number,
  sPath: string,
  r: Obj,
  at: { x: number; y: number },
  categoryIds: Map<string, string>,
  issues: IssueList,
  extent: Extent,
): SeatRow["seats"][number] | undefined {
  const guid = str(s.seat_guid);
  const sp = pos(s.position);
  const categoryName = str(s.category);
  if (guid === undefined || sp === undefined || categoryName === undefined) return undefined;
  let ok = true;
  if (!isId(guid)) {
    issues.add(
      `${sPath}/seat_guid`,
      "invalid_seat_guid",
      `seat_guid ${JSON.stringify(guid)} must be 1-64 characters of A-Z, a-z, 0-9, '_' or '-'`,
    );
    ok = false;
  }
  const category = categoryIds.get(categoryName);
  if (categoryName === "") {
    issues.add(`${sPath}/category`, "seat_without_category", "has no category");
    ok = false;
  } else if (category === undefined) {
    issues.add(
      `${sPath}/category`,
      "unknown_category",
      `no category is named ${JSON.stringify(categoryName)}`,
    );
    ok = false;
  }
  if (!ok || category === undefined) return undefined;
  const x = at.x + sp.x;
  const y = at.y + sp.y;
  const radius = typeof s.radius === "number" ? s.radius : PRETIX_DEFAULT_SEAT_RADIUS;
  extent.maxX = Math.max(extent.maxX, x + radius);
  extent.maxY = Math.max(extent.maxY, y + radius);
  const seatNumber = str(s.seat_number) ?? "";
  return {
    id: guid,
    label: label(r.seat_label, seatNumber, String(k + 1)),
    x,
    y,
    category,
  };
}
