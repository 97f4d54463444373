import type { Operation } from "./linearizability.ts";
import {
  incName,
  type SeatInput,
  type SeatModelState,
  type SeatOutput,
} from "./seat-model-types.ts";

type SeatOp = Operation<SeatInput, SeatOutput>;

/**
 * Splits a seat history into parts the model cannot connect, each searched on its own (as the
 * registers are split per key). Sound because the model's state is a product over request keys
 * (a request's claims `key#n`, their records, phases and claim count) and a step reads and writes
 * only: its own request key; for a hold, the records locking one of its seats (which it may roll
 * back) and, under a cap, every record of its caller. A record's seats and caller are those of
 * the hold or ghost steps that wrote it. So two request keys meet only through a shared seat, or
 * a shared caller where some hold of that caller carries a cap; a part joins every key it can
 * meet, its steps never see another part's state, and a history is linearizable iff every part's
 * is (an order per part merges into one by real time, Herlihy & Wing's locality). Joining too
 * much only makes a search bigger; missing a link would pass a wrong history, hence the tests.
 *
 * `reqOf` maps a claim's model name (`key#n`) to its request key; other names are their own.
 */
export function splitIndependent(
  ops: readonly SeatOp[],
  reqOf: ReadonlyMap<string, string>,
): SeatOp[] {
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let r = x;
    while (parent.has(r) && parent.get(r) !== r) r = parent.get(r)!;
    parent.set(x, r);
    return r;
  };
  const join = (a: string, b: string) => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent.set(ra, rb);
  };
  const req = (o: SeatOp) => `key ${reqOf.get(o.input.hold) ?? o.input.hold}`;
  const capped = new Set<string>();
  for (const o of ops)
    if (o.input.f === "hold" && o.input.cap !== undefined) capped.add(o.input.caller);
  for (const o of ops) {
    const k = req(o);
    find(k);
    const i = o.input;
    if (i.f !== "hold" && i.f !== "ghost") continue;
    for (const seat of i.seats) join(k, `seat ${seat}`);
    if (capped.has(i.caller)) join(k, `caller ${i.caller}`);
  }
  // Named after the group (bot or customers) of the part's first step, numbered from the second
  // part of a group on.
  const names = new Map<string, string>();
  const count = new Map<string, number>();
  return ops.map((o) => {
    const root = find(req(o));
    let name = names.get(root);
    if (name === undefined) {
      const n = count.get(o.key) ?? 0;
      count.set(o.key, n + 1);
      name = n === 0 ? o.key : `${o.key}_${n + 1}`;
      names.set(root, name);
    }
    return { ...o, key: name };
  });
}

/**
 * Unknown-outcome steps with the same input are interchangeable (the model's step is a function
 * of state and input, and neither has an answer to match): the search tries them in call order
 * only (twinClass in linearizability.ts). Retries of one request that all timed out are the
 * common case.
 */
export function seatTwinClass(op: SeatOp): string | undefined {
  return op.ret === Number.POSITIVE_INFINITY && op.output === undefined
    ? JSON.stringify(op.input)
    : undefined;
}

/** Records that stay ended whatever happens (but see rebound): none turns held, ghost or absent
 * again. */
const ENDED = new Set<string>(["sold", "released", "expired", "swept"]);

/**
 * Unknown-outcome steps that can no longer change anything (seatModel.inertFor). Checked
 * against the step functions: an ended record only moves among the ended states (sweep:
 * released or expired to swept; rollback, settle: swept to expired), and
 * - a hold under a claim whose record ended replays or refuses, as long as no claim sweep of its
 *   request can move it to the next claim; a claimless hold (an expired record under no claim
 *   binds only its own id) locks again over an expired record, so no step of its name is inert;
 * - a confirm or release of an ended record answers from it; a sweep of a sold one refuses;
 * - a rollback ends only a locking or swept record: of a sold one, or an expired or released one
 *   that no sweep in the history can turn swept, it does nothing;
 * - a claim sweep past its claim number refuses (the number only grows).
 * The sets of swept requests and holds are taken from the whole history, pending or not.
 */
export function seatInertFor(ops: readonly SeatOp[]): (s: SeatModelState, i: SeatInput) => boolean {
  const forgotten = new Set(ops.flatMap((o) => (o.input.f === "forget" ? [o.input.hold] : [])));
  const swept = new Set(ops.flatMap((o) => (o.input.f === "sweep" ? [o.input.hold] : [])));
  // A claimless hold locks afresh over an expired record (it binds only its own id).
  const rebound = new Set(
    ops.flatMap((o) => (o.input.f === "hold" && o.input.claimless ? [o.input.hold] : [])),
  );
  const ended = (s: SeatModelState, name: string) =>
    !rebound.has(name) && ENDED.has(s.holds[name]?.st ?? "");
  return (s, i) => {
    switch (i.f) {
      case "hold":
        return !forgotten.has(i.hold) && ended(s, incName(i.hold, s.gen[i.hold] ?? 0));
      case "confirm":
      case "release":
        return ended(s, i.hold);
      case "sweep":
        return s.holds[i.hold]?.st === "sold";
      case "rollback": {
        const st = s.holds[i.hold]?.st;
        if (!ended(s, i.hold)) return false;
        return st === "sold" || ((st === "expired" || st === "released") && !swept.has(i.hold));
      }
      case "forget":
        return (s.gen[i.hold] ?? 0) > i.inc;
      default:
        return false;
    }
  };
}
