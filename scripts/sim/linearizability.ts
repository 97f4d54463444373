/**
 * Linearizability checker for histories of independent registers (Wing & Gong's search with
 * Lowe's memoisation, the algorithm Porcupine and Knossos use), split per key: registers are
 * independent objects, so a history is linearizable iff each key's sub-history is (locality).
 *
 * Operations that never returned (the client crashed or the outcome was "unknown") may take effect
 * at any time after their call, or never: they get a return time of +infinity and their output is
 * unconstrained, which is the standard encoding (placing one after everything else is the same as
 * it never happening). Operations known not to have happened ("fail") must be left out.
 */

export interface Model<S, I, O> {
  readonly init: S;
  /** Deterministic: the state after `input` and the output it produces. */
  step(state: S, input: I): { state: S; output: O };
  equalOutput(a: O, b: O): boolean;
  /** A string that identifies the state for memoisation. */
  hash(state: S): string;
  /**
   * Optional: a coarser hash for one key's history, equal for states no operation of it can tell
   * apart. Merging them in the memo is sound and keeps the search small.
   */
  hashFor?(ops: readonly Operation<I, O>[]): (state: S) => string;
  /**
   * Optional: a class for an unknown-outcome operation such that any two of a class have the same
   * effect on every state as the search's hash (hashFor's, else hash) sees it (e.g. two blind
   * writes of values nobody observed); undefined when it has no such twin.
   */
  twinClass?(op: Operation<I, O>, hash: (state: S) => string): string | undefined;
  /**
   * Optional: for one key's history, whether an unknown-outcome operation with this input can
   * change nothing (as hash sees it) from this state on, whatever the history's other operations
   * do first. The search then keys it as done, so reaching the same state with and without it is
   * one node.
   */
  inertFor?(ops: readonly Operation<I, O>[]): (state: S, input: I) => boolean;
}

export interface Operation<I, O> {
  readonly id: number;
  readonly key: string;
  readonly input: I;
  /** Logical times; an operation that returned before another was called precedes it. */
  readonly call: number;
  /** Infinity for an operation whose outcome is unknown. */
  readonly ret: number;
  /** Observed output; undefined for an unknown outcome (any output is allowed). */
  readonly output?: O;
}

export interface CheckResult {
  /** True only when every key's history was proven linearizable. */
  readonly ok: boolean;
  /** The first key whose history is not linearizable (or whose search was cut off). */
  readonly key?: string;
  /** Ids of the longest linearizable prefix found for that key (for debugging). */
  readonly longestPrefix?: number[];
  /**
   * The search for `key` hit the step limit before it found a linearization or exhausted every
   * order. Not a pass: ok is false, because a checker that passes on doubt hides exactly the
   * histories that are hardest to linearize.
   */
  readonly inconclusive?: boolean;
  /** Search steps taken over all keys (to watch the margin below the limit). */
  readonly steps: number;
}

/** Stops a pathological search; a simulator run takes far fewer steps (the largest of 2,000
 * register runs, 550), and a search cut off here fails its run. */
export const SEARCH_STEP_LIMIT = 2_000_000;

export function checkHistory<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
  limit = SEARCH_STEP_LIMIT,
): CheckResult {
  const byKey = new Map<string, Operation<I, O>[]>();
  for (const op of ops) {
    const list = byKey.get(op.key) ?? [];
    list.push(op);
    byKey.set(op.key, list);
  }
  let steps = 0;
  for (const key of [...byKey.keys()].sort()) {
    const r = checkOne(model, byKey.get(key)!, limit);
    steps += r.steps;
    if (r.inconclusive) return { ok: false, key, inconclusive: true, steps };
    if (!r.ok) return { ok: false, key, longestPrefix: r.longestPrefix, steps };
  }
  return { ok: true, steps };
}

function checkOne<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
  limit: number,
): { ok: boolean; longestPrefix?: number[]; inconclusive?: boolean; steps: number } {
  const sorted = [...ops].sort((a, b) => a.call - b.call || a.id - b.id);
  const search = new KeySearch(model, sorted);
  let steps = 0;
  // Explicit stack of (state, next candidate index to try) so deep histories do not overflow.
  const stack: SearchFrame<S>[] = [{ state: model.init, cursor: 0, chosen: -1 }];
  while (stack.length > 0) {
    if (search.finished === search.mustFinish) return { ok: true, steps };
    if (++steps > limit) return { ok: false, inconclusive: true, steps };
    const frame = stack[stack.length - 1]!;
    const next = search.advance(frame);
    if (next) {
      stack.push(next);
      continue;
    }
    // Dead end: undo this frame's choice and let the parent try its next candidate.
    const dead = stack.pop()!;
    if (dead.chosen >= 0) search.undo(dead.chosen);
  }
  return { ok: false, longestPrefix: search.longest, steps };
}

interface SearchFrame<S> {
  readonly state: S;
  cursor: number;
  readonly chosen: number;
}

/** One key's search: which operations are linearized so far (split, for the memo, into those
 * that must finish and the unknown-outcome ones), the path that placed them, and the memo. */
class KeySearch<S, I, O> {
  private readonly n: number;
  private readonly hash: (state: S) => string;
  private readonly isOpen: boolean[];
  private readonly earlierTwins: number[][];
  readonly mustFinish: number;
  private readonly done: Uint8Array;
  // The linearized set, split: operations that must finish, and unknown-outcome ones.
  private readonly closed: Uint32Array;
  private readonly open: Uint32Array;
  /** (closed set, state) → the open sets it was reached with. */
  private readonly seen = new Map<string, Uint32Array[]>();
  private readonly inert: ((state: S, input: I) => boolean) | undefined;
  private readonly openIdx: number[];
  private readonly path: number[] = [];
  longest: number[] = [];
  finished = 0;

  constructor(
    private readonly model: Model<S, I, O>,
    private readonly sorted: readonly Operation<I, O>[],
  ) {
    const n = sorted.length;
    this.n = n;
    this.hash = model.hashFor?.(sorted) ?? model.hash;
    this.isOpen = sorted.map((o) => o.ret === Number.POSITIVE_INFINITY);
    this.earlierTwins = earlierTwinsOf(model, sorted, this.isOpen, this.hash);
    this.mustFinish = sorted.filter((o) => o.ret !== Number.POSITIVE_INFINITY).length;
    this.done = new Uint8Array(n);
    const size = Math.ceil(n / 32) || 1;
    this.closed = new Uint32Array(size);
    this.open = new Uint32Array(size);
    this.inert = model.inertFor?.(sorted);
    this.openIdx = sorted.flatMap((_, i) => (this.isOpen[i] ? [i] : []));
  }

  private flip(i: number): void {
    this.done[i] = this.done[i] ? 0 : 1;
    (this.isOpen[i] ? this.open : this.closed)[i >>> 5]! ^= 1 << (i & 31);
  }

  // Subsumption: a node (closed set C, state s, open set O) is pruned when a node (C, s, O') with
  // O' ⊆ O was pushed before. The unknown-outcome operations are optional and bound no return
  // time, so every completion from the later node (which uses none of O \ O') also completes
  // the earlier one, in as many steps (a twin's place taken by an earlier twin still unused).
  // Sound: were a linearization missed, take a pushed node with the shortest completion; its
  // first step leads to a node pushed (a shorter completion) or pruned by a node pushed before
  // (again a shorter completion), so none is shortest. Pruning only ever drops witnesses, so a
  // wrong prune could fail a correct history, never pass a wrong one.
  private subsumed(state: S): boolean {
    const { inert, done, sorted } = this;
    const key = `${this.closed.join(",")}|${this.hash(state)}`;
    const mask = this.open.slice();
    // An inert operation still pending has the completions it would have had done.
    if (inert) {
      for (const i of this.openIdx) {
        if (!done[i] && inert(state, sorted[i]!.input)) mask[i >>> 5]! |= 1 << (i & 31);
      }
    }
    const list = this.seen.get(key);
    if (list?.some((m) => m.every((w, k) => (w & ~mask[k]!) === 0))) return true;
    if (list) list.push(mask);
    else this.seen.set(key, [mask]);
    return false;
  }

  /** The frame of the next operation that can go after `frame`'s, placed on the path; undefined
   * at a dead end. */
  advance(frame: SearchFrame<S>): SearchFrame<S> | undefined {
    const { model, sorted, n, done, isOpen, hash } = this;
    // An operation can go next only if it was called before every pending operation returned.
    let minRet = Number.POSITIVE_INFINITY;
    for (let i = 0; i < n; i++) if (!done[i] && sorted[i]!.ret < minRet) minRet = sorted[i]!.ret;
    for (let i = frame.cursor; i < n; i++) {
      const op = sorted[i]!;
      if (op.call > minRet) break;
      if (done[i]) continue;
      if (this.earlierTwins[i]!.some((j) => !done[j])) continue;
      const { state, output } = model.step(frame.state, op.input);
      if (op.output !== undefined && !model.equalOutput(op.output, output)) continue;
      // An unknown-outcome operation that changes nothing here may as well never happen.
      if (isOpen[i] && hash(state) === hash(frame.state)) continue;
      this.flip(i);
      if (this.subsumed(state)) {
        this.flip(i);
        continue;
      }
      frame.cursor = i + 1;
      if (!isOpen[i]) this.finished++;
      this.path.push(op.id);
      if (this.path.length > this.longest.length) this.longest = this.path.slice();
      return { state, cursor: 0, chosen: i };
    }
    return undefined;
  }

  /** Takes operation i, the last placed, off the path. */
  undo(i: number): void {
    this.flip(i);
    if (!this.isOpen[i]) this.finished--;
    this.path.pop();
  }
}

// Unknown-outcome operations of one twin class are tried in call order only: using a later one
// where an earlier one is still unused is the same step (the earlier one was called first, so it
// may go wherever the later one may), and the earlier one may still go later in its place.
function earlierTwinsOf<S, I, O>(
  model: Model<S, I, O>,
  sorted: readonly Operation<I, O>[],
  isOpen: readonly boolean[],
  hash: (state: S) => string,
): number[][] {
  const earlierTwins: number[][] = sorted.map(() => []);
  const byClass = new Map<string, number[]>();
  for (let i = 0; i < sorted.length; i++) {
    const cls = isOpen[i] ? model.twinClass?.(sorted[i]!, hash) : undefined;
    if (cls === undefined) continue;
    const list = byClass.get(cls) ?? [];
    earlierTwins[i] = list.slice();
    list.push(i);
    byClass.set(cls, list);
  }
  return earlierTwins;
}

const UNOBSERVED = "\u0001unobserved";

/** Register operations the simulator issues. Values are unique strings; null = never written. */
export type RegisterInput =
  | { readonly f: "read" }
  | { readonly f: "write"; readonly value: string | null }
  | { readonly f: "cas"; readonly from: string | null; readonly to: string };

export type RegisterOutput =
  | { readonly f: "read"; readonly value: string | null }
  | { readonly f: "write" }
  | { readonly f: "cas"; readonly ok: boolean };

export const registerModel: Model<string | null, RegisterInput, RegisterOutput> = {
  init: null,
  step(state, input) {
    switch (input.f) {
      case "read":
        return { state, output: { f: "read", value: state } };
      case "write":
        return { state: input.value, output: { f: "write" } };
      case "cas":
        return state === input.from
          ? { state: input.to, output: { f: "cas", ok: true } }
          : { state, output: { f: "cas", ok: false } };
    }
  },
  equalOutput(a, b) {
    if (a.f !== b.f) return false;
    if (a.f === "read" && b.f === "read") return a.value === b.value;
    if (a.f === "cas" && b.f === "cas") return a.ok === b.ok;
    return true;
  },
  hash: (s) => (s === null ? "\u0000" : s),
  /**
   * Values are unique, so a value that no read returned and no compare-and-set expected behaves
   * like any other such value: reads and compare-and-sets fail on it alike, writes replace it. The
   * search then no longer tells apart which of many unknown-outcome writes nobody saw went last.
   */
  hashFor(ops) {
    const observed = new Set<string | null>();
    for (const op of ops) {
      if (op.output?.f === "read") observed.add(op.output.value);
      if (op.input.f === "cas") observed.add(op.input.from);
    }
    return (s) => (observed.has(s) ? registerModel.hash(s) : UNOBSERVED);
  },
  twinClass(op, hash) {
    const to =
      op.input.f === "read" ? undefined : op.input.f === "write" ? op.input.value : op.input.to;
    if (to === undefined || hash(to) !== UNOBSERVED) return undefined;
    return op.input.f === "cas" ? `cas from ${hash(op.input.from)}` : "write";
  },
};
