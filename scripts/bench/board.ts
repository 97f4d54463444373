import type { SeatRef } from "../../shared/domain/keys.ts";
import { zipfPick, zipfWeight } from "./stats.ts";

/**
 * The venue of the benchmark and the seat map its buyers look at. Sections are ranked by quality
 * (S01 best), rows front to back; buyers pick the best section and row they can get with a Zipf
 * skew, and adjacent seats when they want several. The board is what a live seat map shows: seats
 * move to held/sold when a hold or sale commits, back to free when a hold is released, and a seat
 * a buyer was refused (409) is shown as taken from then on.
 */

/** Seats per row: a typical theatre row. */
export const SEATS_PER_ROW = 25;
/** Sections of a small or medium venue; bigger venues get sections of SECTION_SEATS_LARGE. */
const SECTIONS_DEFAULT = 10;
/** One section of a large venue: also one plan chunk (PLAN_CHUNK_SEATS). */
const SECTION_SEATS_LARGE = 1000;
/** Section skew (Zipf exponent): the best sections draw most of the demand. */
const SECTION_SKEW = 1.1;
/** Row skew inside a section: front rows first, less pronounced than between sections. */
const ROW_SKEW = 0.8;
/** How stale the buyers' seat map is: a typical seat map polls about every half second. */
export const MAP_REFRESH_MS = 500;

const FREE = 0;
const HELD = 1;
const SOLD = 2;
type State = typeof FREE | typeof HELD | typeof SOLD;

export interface Layout {
  readonly sections: readonly {
    readonly id: string;
    readonly rows: number;
    readonly seats: number;
  }[];
  readonly total: number;
}

export function layoutFor(totalSeats: number): Layout {
  const sectionSeats =
    totalSeats <= SECTIONS_DEFAULT * SECTION_SEATS_LARGE
      ? Math.ceil(totalSeats / SECTIONS_DEFAULT)
      : SECTION_SEATS_LARGE;
  const sections: { id: string; rows: number; seats: number }[] = [];
  let left = totalSeats;
  for (let i = 0; left > 0; i++) {
    const seats = Math.min(sectionSeats, left);
    sections.push({
      id: `S${String(i + 1).padStart(2, "0")}`,
      rows: Math.ceil(seats / SEATS_PER_ROW),
      seats,
    });
    left -= seats;
  }
  return { sections, total: totalSeats };
}

export const seatIdOf = (row: number, n: number): string => `r${row + 1}s${n + 1}`;

export class SeatBoard {
  /** Per section, per row: seat states. */
  private readonly state: State[][][];
  private readonly rowFree: number[][];
  private readonly sectionFree: number[];
  private free: number;
  private readonly index = new Map<string, [number, number, number]>();
  /** Seats in someone's hold request right now, with how many requests. */
  private readonly pending = new Map<string, { count: number; sinceMs: number }>();

  constructor(readonly layout: Layout) {
    this.state = layout.sections.map((s) => {
      const rows: State[][] = [];
      for (let r = 0; r < s.rows; r++) {
        const n = Math.min(SEATS_PER_ROW, s.seats - r * SEATS_PER_ROW);
        rows.push(new Array<State>(n).fill(FREE));
      }
      return rows;
    });
    this.rowFree = this.state.map((rows) => rows.map((r) => r.length));
    this.sectionFree = layout.sections.map((s) => s.seats);
    this.free = layout.total;
    layout.sections.forEach((s, si) => {
      this.state[si]?.forEach((row, ri) => {
        for (let n = 0; n < row.length; n++)
          this.index.set(`${s.id}/${seatIdOf(ri, n)}`, [si, ri, n]);
      });
    });
  }

  get freeSeats(): number {
    return this.free;
  }

  /** Every seat of the venue, for verification. */
  *all(): Generator<SeatRef> {
    for (const [si, s] of this.layout.sections.entries()) {
      for (const [ri, row] of (this.state[si] ?? []).entries()) {
        for (let n = 0; n < row.length; n++) yield { section: s.id, seatId: seatIdOf(ri, n) };
      }
    }
  }

  /**
   * Seats in another buyer's hold request show as unavailable on the map once the map has
   * refreshed (MAP_REFRESH_MS later), as they do on most ticket sites. Within that window two
   * buyers can pick the same seats: that is the contention the benchmark measures. Past it,
   * buyers do not pile onto seats the map already shows as taken.
   */
  selecting(seats: readonly SeatRef[], on: boolean, nowMs: number): void {
    for (const s of seats) {
      const k = `${s.section}/${s.seatId}`;
      const cur = this.pending.get(k);
      const n = (cur?.count ?? 0) + (on ? 1 : -1);
      if (n > 0) this.pending.set(k, { count: n, sinceMs: cur?.sinceMs ?? nowMs });
      else this.pending.delete(k);
    }
  }

  /**
   * Up to `k` free seats as a buyer would choose them from the map at `nowMs`: a section by rank
   * (Zipf), a row by rank, adjacent seats in it when possible, else the nearest free seats in that
   * section. Fewer than `k` only when the map shows fewer. Empty when nothing is free; "wait" when
   * every free seat is in someone's checkout (it may come back).
   */
  choose(k: number, random: () => number, nowMs: number): SeatRef[] | "wait" {
    if (this.free === 0) return [];
    const hidden: SeatRef[] = [];
    for (const [key, p] of this.pending) {
      if (nowMs - p.sinceMs < MAP_REFRESH_MS) continue;
      const [section, seatId] = key.split("/") as [string, string];
      if (this.stateOf({ section, seatId }) === FREE) hidden.push({ section, seatId });
    }
    if (hidden.length === 0) return this.pick(k, random);
    if (hidden.length >= this.free) return "wait";
    // Take the seats shown as selected off the map for this choice, then put them back.
    for (const h of hidden) this.set(h, HELD);
    try {
      return this.pick(k, random);
    } finally {
      for (const h of hidden) this.set(h, FREE);
    }
  }

  private pick(k: number, random: () => number): SeatRef[] {
    const want = Math.min(k, this.free);
    const sections = this.sectionFree.map((f, i) => (f >= want ? zipfWeight(i, SECTION_SKEW) : 0));
    let si = zipfPick(sections, random);
    if (si < 0)
      si = zipfPick(
        this.sectionFree.map((f, i) => (f > 0 ? zipfWeight(i, SECTION_SKEW) : 0)),
        random,
      );
    if (si < 0) return [];
    const rowsFree = this.rowFree[si] as number[];
    const rowsWithK = rowsFree.map((f, i) => (f >= want ? zipfWeight(i, ROW_SKEW) : 0));
    let ri = zipfPick(rowsWithK, random);
    if (ri < 0)
      ri = zipfPick(
        rowsFree.map((f, i) => (f > 0 ? zipfWeight(i, ROW_SKEW) : 0)),
        random,
      );
    const section = this.layout.sections[si]?.id as string;
    const picked: SeatRef[] = [];
    const row = this.state[si]?.[ri] as State[];
    // A run of `want` adjacent free seats, starting at a random one of the possible starts.
    const starts: number[] = [];
    for (let n = 0; n + want <= row.length; n++) {
      let ok = true;
      for (let j = 0; j < want && ok; j++) ok = row[n + j] === FREE;
      if (ok) starts.push(n);
    }
    if (starts.length > 0) {
      const n0 = starts[Math.floor(random() * starts.length)] as number;
      for (let j = 0; j < want; j++) picked.push({ section, seatId: seatIdOf(ri, n0 + j) });
      return picked;
    }
    // No run: free seats of this row first, then the section's front rows onwards.
    const rows = this.state[si] as State[][];
    const order = [ri, ...rows.keys()].filter((r, i, a) => a.indexOf(r) === i);
    for (const r of order) {
      const st = rows[r] as State[];
      for (let n = 0; n < st.length && picked.length < want; n++) {
        if (st[n] === FREE) picked.push({ section, seatId: seatIdOf(r, n) });
      }
      if (picked.length === want) return picked;
    }
    // This section ran out: take the rest from any section.
    for (const seat of this.all()) {
      if (picked.length === want) break;
      if (this.stateOf(seat) === FREE && !picked.some((p) => same(p, seat))) picked.push(seat);
    }
    return picked;
  }

  private stateOf(s: SeatRef): State | undefined {
    const at = this.index.get(`${s.section}/${s.seatId}`);
    return at ? this.state[at[0]]?.[at[1]]?.[at[2]] : undefined;
  }

  private set(s: SeatRef, to: State): void {
    const at = this.index.get(`${s.section}/${s.seatId}`);
    if (!at) return;
    const [si, ri, n] = at;
    const row = this.state[si]?.[ri];
    const from = row?.[n];
    if (row === undefined || from === undefined || from === to) return;
    // Sold is final on the board: a late "held" or "free" from a slower path never undoes it.
    if (from === SOLD) return;
    row[n] = to;
    const delta = (to === FREE ? 1 : 0) - (from === FREE ? 1 : 0);
    (this.rowFree[si] as number[])[ri] = ((this.rowFree[si] as number[])[ri] as number) + delta;
    this.sectionFree[si] = (this.sectionFree[si] as number) + delta;
    this.free += delta;
  }

  held(seats: readonly SeatRef[]): void {
    for (const s of seats) this.set(s, HELD);
  }
  sold(seats: readonly SeatRef[]): void {
    for (const s of seats) this.set(s, SOLD);
  }
  released(seats: readonly SeatRef[]): void {
    for (const s of seats) this.set(s, FREE);
  }
  /**
   * The live map's view of seats this board shows as taken but not sold: those it shows free
   * become free again. Returns how many came back.
   */
  refresh(freeOnMap: ReadonlySet<string>): number {
    let back = 0;
    for (const key of freeOnMap) {
      const [section, seatId] = key.split("/") as [string, string];
      if (this.stateOf({ section, seatId }) !== HELD) continue;
      this.set({ section, seatId }, FREE);
      back++;
    }
    return back;
  }

  /** Seats a refusal named as someone else's. */
  takenBySomeoneElse(seats: readonly SeatRef[]): void {
    for (const s of seats) if (this.stateOf(s) === FREE) this.set(s, HELD);
  }
}

const same = (a: SeatRef, b: SeatRef) => a.section === b.section && a.seatId === b.seatId;

/** Seat key → ref, for refusals that list seat keys (`seat/<event>/<section>/<seat>`). */
export function refOfKey(key: string): SeatRef | null {
  const parts = key.split("/");
  return parts.length === 4 && parts[0] === "seat"
    ? { section: parts[2] as string, seatId: parts[3] as string }
    : null;
}
