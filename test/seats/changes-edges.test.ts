import { describe, expect, it } from "vitest";
import type { ChangeResult } from "../../shared/quorum/proposer.ts";
import {
  type ConfirmInput,
  confirmHold as confirmHoldBare,
  expireHold,
  type HoldInput,
  holdSeats,
  releaseHold,
  SKEW_MARGIN_MS,
  seatIsFreeFor,
  settleSeats,
} from "../../shared/seats/changes.ts";
import type { HoldRecord, IdemRecord, Register, SeatValue } from "../../shared/seats/types.ts";

const seats = ["seat/ev/A/1", "seat/ev/B/2"];
const base: HoldInput = {
  caller: "u1",
  key: "k1",
  hash: "h1",
  holdId: "H1",
  adopted: false,
  seats,
  foreign: [],
  now: 1_000,
  ttlMs: 600,
};
const heldBy = (holdId: string, expiresAtMs = 1_600): SeatValue => ({
  state: "held",
  holdId,
  expiresAtMs,
});
const soldTo = (holdId: string): SeatValue => ({ state: "sold", holdId, orderId: "O1" });
const rec = (over: Partial<HoldRecord> = {}): HoldRecord =>
  ({ state: "held", seats, expiresAtMs: 1_600, caller: "u1", hash: "h1", ...over }) as HoldRecord;
const sold = rec({
  state: "sold",
  orderId: "O1",
  confirm: { key: "idem/u1/c1", hash: "ch" },
} as Partial<HoldRecord>);
const values = (r: ChangeResult<Register>) => ("values" in r ? r.values : null);
const reason = (r: ChangeResult<Register>) => ("abort" in r ? r.abort : null);

describe("seat change edges", () => {
  it("seatIsFreeFor reads a seat with its holder's record", () => {
    expect(seatIsFreeFor({ state: "free" }, "H1", 0)).toBe("free");
    expect(seatIsFreeFor(null, "H1", 0)).toBe("free");
    expect(seatIsFreeFor(heldBy("H1"), "H1", 0)).toBe("free");
    expect(seatIsFreeFor(soldTo("H1"), "H1", 0)).toBe("taken");
    expect(seatIsFreeFor(soldTo("H2"), "H1", 0)).toBe("taken");
    expect(seatIsFreeFor(heldBy("H2"), "H1", 0, null)).toBe("taken");
    expect(seatIsFreeFor(heldBy("H2"), "H1", 0, sold)).toBe("taken");
    expect(seatIsFreeFor(heldBy("H2"), "H1", 0, rec({ state: "released" }))).toBe("free");
    expect(seatIsFreeFor(heldBy("H2"), "H1", 0, { state: "expired" })).toBe("free");
    expect(seatIsFreeFor(heldBy("H2"), "H1", 0, rec())).toBe("taken");
    expect(seatIsFreeFor(heldBy("H2"), "H1", 1_600 + SKEW_MARGIN_MS)).toBe("taken");
    expect(seatIsFreeFor(heldBy("H2"), "H1", 1_601 + SKEW_MARGIN_MS)).toBe("rollback");
  });

  it("holdSeats: a claim of another op or body conflicts; a record of another caller or body too", () => {
    const claim = (over: Partial<IdemRecord>): IdemRecord => ({
      op: "hold",
      hash: "h1",
      id: "H1",
      startedAtMs: 1_000,
      ...over,
    });
    const run = (cur: (Register | null)[]) => reason(holdSeats(base)(cur));
    expect(run([claim({ op: "confirm" }), null, null, null])).toEqual({ code: "conflict" });
    expect(run([claim({ hash: "x" }), null, null, null])).toEqual({ code: "conflict" });
    expect(run([null, rec({ caller: "u2" }), null, null])).toEqual({ code: "conflict" });
    expect(run([null, rec({ hash: "x" }), null, null])).toEqual({ code: "conflict" });
    const mine = heldBy("H1");
    expect(run([claim({}), rec(), mine, mine])).toEqual({ code: "replay", holdId: "H1" });
    // Every lock there but not the claim: not done (one request must not hold twice).
    expect(values(holdSeats(base)([null, rec(), mine, mine]))?.[0]).toMatchObject({ id: "H1" });
    // The record landed, its claim and locks did not: a re-run finishes all three.
    expect(values(holdSeats(base)([null, rec(), null, null]))?.slice(1)).toEqual([
      rec(),
      mine,
      mine,
    ]);
    // A rolled-back record: over for the request its claim names; without a claim it binds none.
    expect(run([claim({}), { state: "expired" }, null, null])).toEqual({ code: "expired" });
    expect(run([null, { state: "expired" }, null, null])).toEqual({ code: "stale" });
  });

  it("holdSeats: a re-run of a round writes what the round's first run wrote, or nothing once it is over", () => {
    const round = { ...base, roundAtMs: 1_000 };
    const first = values(holdSeats(round)([null, null, null, null]));
    // The first run's outcome was lost and none of its keys is seen: a later re-run writes the
    // same claim, record and locks (it once wrote its own now + ttl, so one hold had two expiries).
    const again = values(holdSeats({ ...round, now: 1_300 })([null, null, null, null]));
    expect(again).toEqual(first);
    expect(first?.[0]).toMatchObject({ startedAtMs: 1_000, expiresAtMs: 1_600 });
    // Past the pinned expiry and the margin, seeing nothing of its round, it locks nothing: its
    // outcome is unknown (what the lost run wrote will expire), not "expired" (no claim says so).
    const late = holdSeats({ ...round, now: 1_601 + SKEW_MARGIN_MS })([null, null, null, null]);
    expect(reason(late)).toEqual({ code: "stale" });
    expect(
      values(holdSeats({ ...round, now: 1_600 + SKEW_MARGIN_MS })([null, null, null, null])),
    ).not.toBeNull();
  });

  it("holdSeats: rolls back each expired holder once, and leaves free and own seats alone", () => {
    const now = 1_601 + SKEW_MARGIN_MS;
    const r = holdSeats({ ...base, now })([null, null, heldBy("H2"), null]);
    expect(reason(r)).toEqual({ code: "rollback", holds: [{ holdId: "H2", expiresAtMs: 1_600 }] });
    const own = holdSeats({ ...base, now })([null, null, heldBy("H1"), { state: "free" }]);
    expect(values(own)?.slice(2)).toEqual([
      { state: "held", holdId: "H1", expiresAtMs: now + 600 },
      { state: "held", holdId: "H1", expiresAtMs: now + 600 },
    ]);
    const capped = { ...base, now, cap: { eventId: "ev", max: 5 }, foreign: ["H2"] };
    const quota = { sold: [], live: [{ holdId: "H2", n: 2, expiresAtMs: 1_600, key: "k9" }] };
    const both = holdSeats(capped)([null, null, heldBy("H2"), null, null, quota]);
    expect(reason(both)).toEqual({
      code: "rollback",
      holds: [{ holdId: "H2", expiresAtMs: 1_600 }],
    });
  });

  it("expireHold: only past expiry plus the margin; a sold hold stays sold; terminal ones stay", () => {
    const at = (now: number) => expireHold({ holdId: "H1", seatExpiresAtMs: 1_600, now });
    expect(reason(at(1_600 + SKEW_MARGIN_MS)([null]))).toEqual({ code: "live" });
    expect(values(at(1_601 + SKEW_MARGIN_MS)([null]))).toEqual([
      { state: "expired", expiresAtMs: 1_600 },
    ]);
    expect(reason(at(1_600 + SKEW_MARGIN_MS)([rec()]))).toEqual({ code: "live" });
    expect(values(at(1_601 + SKEW_MARGIN_MS)([rec()]))).toEqual([
      { state: "expired", seats, expiresAtMs: 1_600 },
    ]);
    expect(reason(at(1_601 + SKEW_MARGIN_MS)([sold]))).toEqual({ code: "sold" });
    const released = rec({ state: "released" });
    expect(values(at(1_601 + SKEW_MARGIN_MS)([released]))).toEqual([released]);
  });

  it("confirmHold: claims, replays, in-flight and the claim it writes", () => {
    const i = {
      caller: "u1",
      key: "c1",
      hash: "ch",
      holdId: "H1",
      orderId: "O2",
      seats,
      now: 1_000,
    };
    // Every seat proven locked by H1: these cases are about the claim and the record.
    const locks = seats.map((): SeatValue => ({ state: "held", holdId: "H1", expiresAtMs: 1_600 }));
    const confirmHold = (input: ConfirmInput) => (cur: (Register | null)[]) =>
      confirmHoldBare(input)([...cur, ...locks], { chosen: [true, true, true, true] });
    const claim = (over: Partial<IdemRecord>): IdemRecord => ({
      op: "confirm",
      hash: "ch",
      id: "O1",
      startedAtMs: 900,
      ...over,
    });
    expect(reason(confirmHold(i)([claim({ op: "hold" }), rec()]))).toEqual({ code: "conflict" });
    expect(reason(confirmHold(i)([claim({ hash: "x" }), rec()]))).toEqual({ code: "conflict" });
    expect(reason(confirmHold(i)([null, sold]))).toEqual({
      code: "replay",
      holdId: "H1",
      orderId: "O1",
    });
    const otherBody = { ...sold, confirm: { key: "idem/u1/c1", hash: "zz" } } as HoldRecord;
    expect(reason(confirmHold(i)([null, otherBody]))).toEqual({ code: "already-confirmed" });
    // Another attempt of this confirm claimed it moments ago and is still running.
    expect(reason(confirmHold(i)([claim({}), rec()]))).toEqual({ code: "in-flight" });
    // ... long enough ago to be abandoned: take it over under its order id.
    const late = confirmHold({ ...i, now: 900 + 30_000 })([
      claim({}),
      rec({ expiresAtMs: 99_000 }),
    ]);
    expect(values(late)?.[0]).toEqual(claim({}));
    expect(values(late)?.[1]).toMatchObject({ state: "sold", orderId: "O1" });
    // This attempt's own claim (a retry of the same change) goes ahead.
    const own = confirmHold({ ...i, orderId: "O1" })([claim({}), rec()]);
    expect(values(own)?.[1]).toMatchObject({ state: "sold", orderId: "O1" });
    const fresh = confirmHold(i)([null, rec()]);
    expect(values(fresh)?.[0]).toEqual({ op: "confirm", hash: "ch", id: "O2", startedAtMs: 1_000 });
  });

  it("releaseHold: not found, expired unchanged, someone else's, sold, released unchanged", () => {
    const r = releaseHold({ caller: "u1", holdId: "H1" });
    expect(reason(r([null]))).toEqual({ code: "not-found" });
    expect(values(r([{ state: "expired" }]))).toEqual([{ state: "expired" }]);
    expect(reason(r([rec({ caller: "u2" })]))).toEqual({ code: "forbidden" });
    expect(reason(r([sold]))).toEqual({ code: "sold" });
    const released = rec({ state: "released" });
    expect(values(r([released]))).toEqual([released]);
    expect(values(r([rec()]))).toEqual([{ ...rec(), state: "released" }]);
  });

  it("settleSeats: moves only this hold's seats, and reports others' seats of a sale", () => {
    const run = (record: HoldRecord, cur: (SeatValue | null)[]) =>
      settleSeats({ holdId: "H1", seats, record })(cur);
    const s = run(sold, [heldBy("H1"), heldBy("H2")]);
    expect(values(s)).toEqual([{ state: "sold", orderId: "O1", holdId: "H1" }, heldBy("H2")]);
    expect("result" in s && s.result).toEqual({ changed: 1, foreign: ["seat/ev/B/2"] });
    const again = run(sold, [soldTo("H1"), { state: "free" }]);
    expect("result" in again && again.result).toEqual({ changed: 0, foreign: ["seat/ev/B/2"] });
    const freed = run(rec({ state: "released" }), [heldBy("H1"), null]);
    expect(values(freed)).toEqual([{ state: "free" }, null]);
    expect("result" in freed && freed.result).toEqual({ changed: 1, foreign: [] });
    expect(values(run(rec(), [heldBy("H1"), heldBy("H1")]))).toEqual([heldBy("H1"), heldBy("H1")]);
    expect(values(run({ state: "expired" }, [soldTo("H1"), { state: "free" }]))).toEqual([
      soldTo("H1"),
      { state: "free" },
    ]);
  });
});
