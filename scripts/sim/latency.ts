import { idemKey } from "../../shared/domain/keys.ts";
import { SeatService } from "../../shared/seats/service.ts";
import { makeWorld } from "./world.ts";

/**
 * Commit latency in round trips, counted from the messages a proposer sends in a calm network
 * (one round trip = one batched request to each acceptor and the wait for a quorum).
 */
export interface RoundTrips {
  change1Cold: number;
  change1Warm: number;
  change6Cold: number;
  change6Warm: number;
  /** A whole hold: one change over its claim, record and seats (cold: its idempotency key is
   * always new). */
  hold1: number;
  hold6: number;
  /** A confirm of a 6-seat hold on the instance that made it, told only the hold id: a read of
   * the record for its keys, then the sale and settling the seats. */
  confirm6: number;
  /** The same, told the hold's keys (as the HTTP route is, from the hold it read). */
  confirm6Known: number;
  /** The same, its prepare run ahead (SeatService.primeConfirm: what a purchase does while the
   * card is authorised) and not counted: the sale's accept, then settling the seats. */
  confirm6Primed: number;
  /** One-seat holds on an event with a per-buyer cap: the buyer's first, and a second while the
   * first is live (one more round to learn which hold records to carry). */
  capHold1First: number;
  capHold1Second: number;
}

export async function measureRoundTrips(): Promise<RoundTrips> {
  const world = makeWorld(7, { killRate: 0 });
  world.heal();
  const { client, node } = world.client("m", 0);
  const rounds = async (fn: () => Promise<unknown>): Promise<number> => {
    const before = node.prepareCalls + node.acceptCalls;
    const p = fn();
    await world.sched.run();
    await p;
    return (node.prepareCalls + node.acceptCalls - before) / 3;
  };
  const six = Array.from({ length: 6 }, (_, i) => `m/six/${i}`);
  const write = (keys: string[], v: number) => () =>
    client.change<number>(keys, () => ({ values: keys.map(() => v) }));
  const change1Cold = await rounds(write(["m/one"], 1));
  const change1Warm = await rounds(write(["m/one"], 2));
  const change6Cold = await rounds(write(six, 1));
  const change6Warm = await rounds(write(six, 2));

  const ids = world.rng.fork();
  const svc = new SeatService(client, {
    now: () => world.sched.now,
    randomBytes: (n) => ids.bytes(n),
  });
  const seats = (n: number, section: string) =>
    Array.from({ length: n }, (_, i) => ({ section, seatId: `s${i}` }));
  const hold1 = await rounds(() => svc.hold("u1", "k1", { eventId: "m", seats: seats(1, "A") }));
  let holdId = "";
  const hold6 = await rounds(async () => {
    const r = await svc.hold("u2", "k2", { eventId: "m", seats: seats(6, "B") });
    if (r.ok) holdId = r.value.holdId;
  });
  const confirm6 = await rounds(() => svc.confirm("u2", "c2", { holdId }));
  /** A 6-seat hold (not counted), with the keys its record lists, as a caller that read it. */
  const heldSix = async (caller: string, key: string, section: string) => {
    let holdId = "";
    let record = { seats: [] as readonly string[], claimKey: idemKey(caller, key) };
    await rounds(async () => {
      const r = await svc.hold(caller, key, { eventId: "m", seats: seats(6, section) });
      if (r.ok) {
        holdId = r.value.holdId;
        record = { ...record, seats: r.value.seats };
      }
    });
    return { holdId, record };
  };
  const known = await heldSix("u5", "k5", "D");
  const confirm6Known = await rounds(() => svc.confirm("u5", "c5", known));
  const primed = await heldSix("u6", "k6", "E");
  await rounds(() => svc.primeConfirm("u6", "c6", primed.holdId));
  await rounds(() => svc.primeConfirm("u6", "c6", primed.holdId, primed.record));
  const confirm6Primed = await rounds(() => svc.confirm("u6", "c6", primed));
  const capped = (key: string, seatId: string) => () =>
    svc.hold("u3", key, { eventId: "m", seats: [{ section: "C", seatId }], maxSeatsPerBuyer: 4 });
  const capHold1First = await rounds(capped("k3", "s1"));
  const capHold1Second = await rounds(capped("k4", "s2"));
  return {
    change1Cold,
    change1Warm,
    change6Cold,
    change6Warm,
    hold1,
    hold6,
    confirm6,
    confirm6Known,
    confirm6Primed,
    capHold1First,
    capHold1Second,
  };
}
