/**
 * A virtual clock and event queue. Callbacks run in (time, insertion) order; after each one the
 * scheduler lets every promise chain it started settle before advancing, so an async client runs
 * on virtual time exactly as it would on a real one, but deterministically and instantly.
 */
interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
}

/** Guards against a livelocked simulation (e.g. a proposer retrying forever in a break mode). */
export const SCHEDULER_EVENT_LIMIT = 1_000_000;

export class Scheduler {
  private heap: Timer[] = [];
  private seq = 0;
  private clock = 0;
  events = 0;

  get now(): number {
    return this.clock;
  }

  at(time: number, fn: () => void): void {
    this.push({ at: Math.max(time, this.clock), seq: this.seq++, fn });
  }

  after(ms: number, fn: () => void): void {
    this.at(this.clock + ms, fn);
  }

  sleep = (ms: number): Promise<void> =>
    new Promise<void>((resolve) => this.after(Math.max(0, ms), resolve));

  /** Runs until no timer is left (or until `until`), settling microtasks between timers. */
  async run(until = Number.POSITIVE_INFINITY): Promise<void> {
    for (;;) {
      await drainMicrotasks();
      if (this.heap.length === 0) await settle();
      const t = this.heap[0];
      if (!t || t.at > until) return;
      this.pop();
      this.clock = t.at;
      if (++this.events > SCHEDULER_EVENT_LIMIT) throw new Error("simulation event limit reached");
      t.fn();
    }
  }

  private push(t: Timer): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && before(h[l]!, h[m]!)) m = l;
      if (r < h.length && before(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}

function before(a: Timer, b: Timer): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/** Most chains a timer starts are a handful of promise hops long; yielding this many microtask
 * turns lets them finish without the cost of a macrotask per event. A longer chain simply carries
 * on during later turns: the run stays deterministic either way. */
const MICROTASK_TURNS = 40;

async function drainMicrotasks(): Promise<void> {
  for (let i = 0; i < MICROTASK_TURNS; i++) await null;
}

/** Lets every queued promise continuation run (a macrotask runs only after the microtask queue is
 * empty, so one round trip through setImmediate drains all chains, however deep). */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
