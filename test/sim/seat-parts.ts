import type { Operation } from "./linearizability.ts";
import type { SeatInput, SeatOutput } from "./seat-model.ts";

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
export const seatTwinClass = (op: SeatOp): string | undefined =>
  op.ret === Number.POSITIVE_INFINITY && op.output === undefined
    ? JSON.stringify(op.input)
    : undefined;
