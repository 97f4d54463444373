import { h, s } from "./dom.ts";
import { formatMoney, type Money } from "./money.ts";

/**
 * The interactive seat map: an SVG drawn from the seating plan, one focusable button per seat.
 *
 * Keyboard: the map is ONE tab stop (roving tabindex, WAI-ARIA APG "grid"-like navigation): Tab
 * enters at the last focused seat, arrow keys move to the nearest seat in that direction, Enter or
 * Space toggles, Home/End jump to the first/last seat of the row. Availability is told by colour
 * AND by shape (taken seats are crossed out, chosen ones carry a tick) AND in each aria-label.
 */

export interface PlanSeat {
  id: string;
  label: string;
  x: number;
  y: number;
  category: string;
}
export interface PlanLike {
  size?: { width: number; height: number };
  categories: { id: string; name: string; color: string }[];
  sections: {
    id: string;
    name: string;
    rows: { id: string; label: string; seats: PlanSeat[] }[];
  }[];
}

export type SeatState = "available" | "held" | "sold";

export interface MapSeat {
  /** "<sectionId>/<seatId>": the seat's key within the event. */
  key: string;
  sectionId: string;
  seatId: string;
  sectionName: string;
  rowLabel: string;
  label: string;
  categoryId: string;
  x: number;
  y: number;
  /** Index within its row, for Home/End. */
  rowKey: string;
}

export interface SeatMapOptions {
  /** False for a read-only preview (theater plan import). */
  selectable: boolean;
  prices?: ReadonlyMap<string, Money>;
  /** Most seats one hold takes (MAX_SEATS_PER_HOLD on the server). */
  maxSelected?: number;
  onChange?: (selected: MapSeat[]) => void;
  onLimit?: () => void;
}

/** Seats closer than this (plan units) to each other are drawn smaller so they never overlap. */
const SEAT_RADIUS_MAX = 10;
const SEAT_RADIUS_MIN = 2;
/** How strongly sideways distance counts against a candidate when moving with arrow keys. */
const SIDEWAYS_WEIGHT = 3;
export const ZOOM_LEVELS = [1, 1.5, 2, 3, 4] as const;

const seatKey = (sectionId: string, seatId: string) => `${sectionId}/${seatId}`;

export class SeatMap {
  readonly seats: MapSeat[] = [];
  private readonly byKey = new Map<string, MapSeat>();
  private readonly nodes = new Map<string, SVGGElement>();
  private readonly states = new Map<string, SeatState>();
  private readonly chosen = new Set<string>();
  private readonly categories: Map<string, { name: string; color: string }>;
  private focusKey: string | undefined;
  private zoomIndex = 0;
  readonly svg: SVGSVGElement;
  private readonly radius: number;

  constructor(
    readonly plan: PlanLike,
    private readonly opts: SeatMapOptions,
  ) {
    this.categories = new Map(plan.categories.map((c) => [c.id, c]));
    for (const sec of plan.sections) {
      for (const row of sec.rows) {
        for (const seat of row.seats) {
          const m: MapSeat = {
            key: seatKey(sec.id, seat.id),
            sectionId: sec.id,
            seatId: seat.id,
            sectionName: sec.name,
            rowLabel: row.label,
            label: seat.label,
            categoryId: seat.category,
            x: seat.x,
            y: seat.y,
            rowKey: `${sec.id}/${row.id}`,
          };
          this.seats.push(m);
          this.byKey.set(m.key, m);
        }
      }
    }
    this.radius = seatRadius(this.seats);
    this.svg = this.draw();
  }

  private draw(): SVGSVGElement {
    const r = this.radius;
    // Fit the drawing to the seats and their labels, not to the plan's canvas: a plan drawn with a
    // stage or foyer around the seats would otherwise leave the seats small on a phone.
    const xs = this.seats.map((x) => x.x);
    const ys = this.seats.map((x) => x.y);
    const longestRowLabel = Math.max(0, ...this.seats.map((x) => x.rowLabel.length));
    const minX = (xs.length ? Math.min(...xs) : 0) - r * 2.5 - longestRowLabel * r * 0.75;
    const minY = (ys.length ? Math.min(...ys) : 0) - r * 4;
    const maxX = (xs.length ? Math.max(...xs) : (this.plan.size?.width ?? 100)) + r * 2;
    const maxY = (ys.length ? Math.max(...ys) : (this.plan.size?.height ?? 100)) + r * 2;
    const svg = s("svg", {
      class: "seatmap",
      viewBox: `${minX} ${minY} ${maxX - minX} ${maxY - minY}`,
      role: "group",
      // The seats are the tab stop, not the drawing around them.
      tabindex: "-1",
      focusable: "false",
      "aria-label": this.opts.selectable
        ? "Seat map. Use the arrow keys to move between seats and Enter or Space to choose one."
        : "Seating plan preview",
      "aria-roledescription": "seat map",
    });
    // Section names above each section's seats and row labels left of each row: orientation for
    // sighted users; screen readers get the same in every seat's label.
    const labels = s("g", { class: "labels", "aria-hidden": "true" });
    for (const sec of this.plan.sections) {
      const seats = sec.rows.flatMap((row) => row.seats);
      if (seats.length === 0) continue;
      const top = Math.min(...seats.map((x) => x.y));
      const cx = (Math.min(...seats.map((x) => x.x)) + Math.max(...seats.map((x) => x.x))) / 2;
      labels.append(
        s(
          "text",
          { x: cx, y: top - r * 1.8, class: "section-label", "font-size": r * 1.4 },
          sec.name,
        ),
      );
      for (const row of sec.rows) {
        const first = row.seats.reduce<PlanSeat | undefined>(
          (a, b) => (a === undefined || b.x < a.x ? b : a),
          undefined,
        );
        if (!first) continue;
        labels.append(
          s(
            "text",
            {
              x: first.x - r * 1.8,
              y: first.y,
              class: "row-label",
              "font-size": r * 1.1,
              "dominant-baseline": "central",
              "text-anchor": "end",
            },
            row.label,
          ),
        );
      }
    }
    svg.append(labels);
    const group = s("g", { class: "seats" });
    for (const seat of this.seats) {
      const node = this.seatNode(seat);
      this.nodes.set(seat.key, node);
      group.append(node);
    }
    svg.append(group);
    if (this.opts.selectable) {
      svg.addEventListener("keydown", (ev) => this.onKey(ev));
      svg.addEventListener("click", (ev) => {
        const g = (ev.target as Element).closest("g.seat");
        const key = g?.getAttribute("data-key");
        if (key) {
          this.focus(key);
          this.toggle(key);
        }
      });
      svg.addEventListener("focusin", (ev) => {
        const key = (ev.target as Element).getAttribute?.("data-key");
        if (key) this.setTabStop(key);
      });
      const first = this.seats[0];
      if (first) this.setTabStop(first.key);
    }
    return svg;
  }

  private seatNode(seat: MapSeat): SVGGElement {
    const r = this.radius;
    const color = this.categories.get(seat.categoryId)?.color ?? "#888";
    const g = s(
      "g",
      {
        class: "seat",
        "data-key": seat.key,
        "data-category": seat.categoryId,
        "data-state": "available",
        transform: `translate(${seat.x} ${seat.y})`,
        ...(this.opts.selectable
          ? { role: "button", tabindex: "-1", "aria-pressed": "false" }
          : { role: "img" }),
      },
      s("circle", { r, fill: color, class: "dot" }),
      // A cross for taken seats and a tick for chosen ones: state is never told by colour alone.
      s("path", {
        class: "cross",
        d: `M${-r * 0.55} ${-r * 0.55}L${r * 0.55} ${r * 0.55}M${r * 0.55} ${-r * 0.55}L${-r * 0.55} ${r * 0.55}`,
        "stroke-width": r * 0.3,
      }),
      s("path", {
        class: "tick",
        d: `M${-r * 0.5} 0L${-r * 0.1} ${r * 0.45}L${r * 0.55} ${-r * 0.45}`,
        "stroke-width": r * 0.3,
        fill: "none",
      }),
    );
    g.setAttribute("aria-label", this.describe(seat));
    return g;
  }

  describe(seat: MapSeat): string {
    const cat = this.categories.get(seat.categoryId)?.name ?? seat.categoryId;
    const price = this.opts.prices?.get(seat.categoryId);
    const state = this.states.get(seat.key) ?? "available";
    const where = seatWhere(seat);
    const what = price ? `${cat}, ${formatMoney(price)}` : cat;
    const status =
      state === "available"
        ? this.chosen.has(seat.key)
          ? "selected"
          : "available"
        : state === "held"
          ? "held by someone else"
          : "sold";
    return this.opts.selectable ? `${where}, ${what}, ${status}` : `${where}, ${what}`;
  }

  /** New availability from the server; seats not listed are available. */
  setStates(taken: ReadonlyMap<string, SeatState>): MapSeat[] {
    const lost: MapSeat[] = [];
    for (const seat of this.seats) {
      const next = taken.get(seat.key) ?? "available";
      const prev = this.states.get(seat.key) ?? "available";
      if (next === prev) continue;
      if (next === "available") this.states.delete(seat.key);
      else this.states.set(seat.key, next);
      if (next !== "available" && this.chosen.delete(seat.key)) lost.push(seat);
      this.paint(seat);
    }
    if (lost.length > 0) this.opts.onChange?.(this.selected());
    return lost;
  }

  stateOf(key: string): SeatState {
    return this.states.get(key) ?? "available";
  }

  selected(): MapSeat[] {
    return [...this.chosen].map((k) => this.byKey.get(k)!).filter(Boolean);
  }

  clearSelection(): void {
    const was = this.selected();
    this.chosen.clear();
    for (const seat of was) this.paint(seat);
    this.opts.onChange?.([]);
  }

  /** Marks `keys` as chosen (restoring a selection after sign-in); taken seats are skipped. */
  select(keys: readonly string[]): void {
    for (const k of keys) {
      const seat = this.byKey.get(k);
      if (seat && this.stateOf(k) === "available") {
        this.chosen.add(k);
        this.paint(seat);
      }
    }
    this.opts.onChange?.(this.selected());
  }

  toggle(key: string): void {
    const seat = this.byKey.get(key);
    if (!seat || !this.opts.selectable) return;
    if (this.chosen.has(key)) this.chosen.delete(key);
    else {
      if (this.stateOf(key) !== "available") return;
      if (this.opts.maxSelected !== undefined && this.chosen.size >= this.opts.maxSelected) {
        this.opts.onLimit?.();
        return;
      }
      this.chosen.add(key);
    }
    this.paint(seat);
    this.opts.onChange?.(this.selected());
  }

  private paint(seat: MapSeat): void {
    const g = this.nodes.get(seat.key);
    if (!g) return;
    const state = this.stateOf(seat.key);
    g.setAttribute("data-state", state);
    g.classList.toggle("chosen", this.chosen.has(seat.key));
    if (this.opts.selectable) {
      g.setAttribute("aria-pressed", String(this.chosen.has(seat.key)));
      if (state === "available") g.removeAttribute("aria-disabled");
      else g.setAttribute("aria-disabled", "true");
    }
    g.setAttribute("aria-label", this.describe(seat));
  }

  private setTabStop(key: string): void {
    if (this.focusKey === key) return;
    if (this.focusKey) this.nodes.get(this.focusKey)?.setAttribute("tabindex", "-1");
    this.focusKey = key;
    this.nodes.get(key)?.setAttribute("tabindex", "0");
  }

  focus(key: string): void {
    this.setTabStop(key);
    const node = this.nodes.get(key);
    node?.focus({ preventScroll: true });
    node?.scrollIntoView?.({ block: "nearest", inline: "nearest" });
  }

  private onKey(ev: KeyboardEvent): void {
    const current = this.focusKey ? this.byKey.get(this.focusKey) : undefined;
    if (!current) return;
    const dirs: Record<string, [number, number]> = {
      ArrowRight: [1, 0],
      ArrowLeft: [-1, 0],
      ArrowDown: [0, 1],
      ArrowUp: [0, -1],
    };
    const dir = dirs[ev.key];
    if (dir) {
      ev.preventDefault();
      const next = this.neighbour(current, dir);
      if (next) this.focus(next.key);
      return;
    }
    if (ev.key === "Home" || ev.key === "End") {
      ev.preventDefault();
      const row = this.seats.filter((x) => x.rowKey === current.rowKey);
      const sorted = row.sort((a, b) => a.x - b.x);
      const target = ev.key === "Home" ? sorted[0] : sorted.at(-1);
      if (target) this.focus(target.key);
      return;
    }
    if (ev.key === "Enter" || ev.key === " ") {
      ev.preventDefault();
      this.toggle(current.key);
    }
  }

  /** The closest seat in direction `d`, preferring seats in line over seats off to the side. */
  private neighbour(from: MapSeat, d: [number, number]): MapSeat | undefined {
    let best: MapSeat | undefined;
    let bestScore = Number.POSITIVE_INFINITY;
    for (const seat of this.seats) {
      if (seat === from) continue;
      const vx = seat.x - from.x;
      const vy = seat.y - from.y;
      const along = vx * d[0] + vy * d[1];
      if (along <= 0) continue;
      const side = Math.abs(vx * d[1] - vy * d[0]);
      const score = along + SIDEWAYS_WEIGHT * side;
      if (score < bestScore) {
        bestScore = score;
        best = seat;
      }
    }
    return best;
  }

  /** Wraps the SVG with zoom controls in a scrollable frame (for phones and large halls). */
  mount(into: HTMLElement): void {
    const frame = h("div", { class: "seatmap-frame" }, this.svg);
    const level = h("span", { class: "zoom-level", "aria-live": "polite" }, "100%");
    const setZoom = (i: number) => {
      this.zoomIndex = Math.max(0, Math.min(ZOOM_LEVELS.length - 1, i));
      const z = ZOOM_LEVELS[this.zoomIndex]!;
      this.svg.style.width = `${z * 100}%`;
      level.textContent = `${Math.round(z * 100)}%`;
    };
    const controls = h(
      "div",
      { class: "zoom", role: "group", "aria-label": "Zoom" },
      h("button", { type: "button", onclick: () => setZoom(this.zoomIndex - 1) }, "Zoom out"),
      level,
      h("button", { type: "button", onclick: () => setZoom(this.zoomIndex + 1) }, "Zoom in"),
    );
    into.replaceChildren(controls, frame);
  }
}

/**
 * "Stalls, row A, seat 5". Plans imported from pretix often carry the words already ("Reihe 1",
 * "Platz 3"): a label with a space in it is used as it is.
 */
export function seatWhere(seat: Pick<MapSeat, "sectionName" | "rowLabel" | "label">): string {
  const row = seat.rowLabel.includes(" ") ? seat.rowLabel : `row ${seat.rowLabel}`;
  const place = seat.label.includes(" ") ? seat.label : `seat ${seat.label}`;
  return `${seat.sectionName}, ${row}, ${place}`;
}

/** Seat radius from the closest pair of seats (sampled), so neighbours never overlap. */
function seatRadius(seats: readonly MapSeat[]): number {
  if (seats.length < 2) return SEAT_RADIUS_MAX;
  // Sort by x and compare each seat with the next few: close to the true nearest neighbour for
  // row-shaped plans, O(n log n) even for a stadium.
  const sorted = [...seats].sort((a, b) => a.x - b.x || a.y - b.y);
  let min = Number.POSITIVE_INFINITY;
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i + 1; j < Math.min(sorted.length, i + 8); j++) {
      const a = sorted[i]!;
      const b = sorted[j]!;
      const d = Math.hypot(a.x - b.x, a.y - b.y);
      if (d > 0 && d < min) min = d;
    }
  }
  if (!Number.isFinite(min)) return SEAT_RADIUS_MAX;
  return Math.max(SEAT_RADIUS_MIN, Math.min(SEAT_RADIUS_MAX, min * 0.42));
}
