import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { seatKeys } from "../../shared/domain/keys.ts";
import type { ChangeResult } from "../../shared/quorum/proposer.ts";
import {
  confirmHold,
  expireHold,
  type HoldInput,
  holdSeats,
  holdSeatsKeys,
  IN_FLIGHT_MS,
  releaseHold,
  SKEW_MARGIN_MS,
  settleSeats,
} from "../../shared/seats/changes.ts";
import { requestHash } from "../../shared/seats/hash.ts";
import type { HoldRecord, IdemRecord, Register, SeatValue } from "../../shared/seats/types.ts";

const seats = seatKeys("ev", [
  { section: "B", seatId: "2" },
  { section: "A", seatId: "1" },
  { section: "A", seatId: "1" },
]);
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
const free: SeatValue = { state: "free" };
const heldBy = (holdId: string, expiresAtMs: number): SeatValue => ({
  state: "held",
  holdId,
  expiresAtMs,
});
const values = (r: ChangeResult<Register>) => ("values" in r ? r.values : null);
const reason = (r: ChangeResult<Register>) => ("abort" in r ? r.abort : null);
const heldRec = (over: Partial<HoldRecord> = {}): HoldRecord =>
  ({ state: "held", seats, expiresAtMs: 1_600, caller: "u1", hash: "h1", ...over }) as HoldRecord;

describe("seat keys", () => {
  it("sorts and deduplicates seats, validates segments", () => {
    expect(seats).toEqual(["seat/ev/A/1", "seat/ev/B/2"]);
    expect(() => seatKeys("ev", [{ section: "a/b", seatId: "1" }])).toThrow(RangeError);
    expect(holdSeatsKeys(base)).toEqual(["idem/u1/k1", "hold/H1", "seat/ev/A/1", "seat/ev/B/2"]);
  });

  it("hashes requests canonically", () => {
    expect(requestHash({ a: 1, b: [1, 2] })).toBe(requestHash({ b: [1, 2], a: 1 }));
    expect(requestHash({ a: 1 })).not.toBe(requestHash({ a: 2 }));
  });
});

describe("holdSeats", () => {
  it("locks every free seat, claims the idempotency key and creates the record, in one change", () => {
    const out = holdSeats(base)([null, null, null, free]);
    expect(values(out)).toEqual([
      { op: "hold", hash: "h1", id: "H1", startedAtMs: 1_000, expiresAtMs: 1_600 },
      { ...heldRec(), claimKey: "idem/u1/k1" },
      heldBy("H1", 1_600),
      heldBy("H1", 1_600),
    ]);
  });

  it("takes nothing if one seat is taken", () => {
    expect(reason(holdSeats(base)([null, null, free, heldBy("H2", 5_000)]))).toEqual({
      code: "taken",
      seats: ["seat/ev/B/2"],
    });
    expect(
      reason(holdSeats(base)([null, null, { state: "sold", orderId: "o", holdId: "H2" }, free])),
    ).toMatchObject({
      code: "taken",
    });
  });

  it("treats a held seat as free only past expiry plus the skew margin, after a rollback", () => {
    const s = heldBy("H2", 900);
    expect(
      reason(holdSeats({ ...base, now: 900 + SKEW_MARGIN_MS })([null, null, s, free])),
    ).toMatchObject({ code: "taken" });
    const late = { ...base, now: 901 + SKEW_MARGIN_MS };
    expect(reason(holdSeats(late)([null, null, s, free]))).toEqual({
      code: "rollback",
      holds: [{ holdId: "H2", expiresAtMs: 900 }],
    });
    const withRecord = { ...late, foreign: ["H2"] };
    expect(
      reason(
        holdSeats(withRecord)([
          null,
          null,
          s,
          free,
          { state: "sold", seats: [] } as unknown as HoldRecord,
        ]),
      ),
    ).toMatchObject({
      code: "taken",
    });
    expect(values(holdSeats(withRecord)([null, null, s, free, { state: "expired" }]))?.[2]).toEqual(
      heldBy("H1", 901 + SKEW_MARGIN_MS + 600),
    );
  });

  it("takes a released hold's seats at once", () => {
    const input = { ...base, foreign: ["H2"] };
    const out = holdSeats(input)([
      null,
      null,
      heldBy("H2", 99_999),
      free,
      heldRec({ state: "released" }),
    ]);
    expect(values(out)?.[2]).toEqual(heldBy("H1", 1_600));
  });

  it("handles idempotency: conflict, adopt, in-flight, replay", () => {
    const claim: IdemRecord = {
      op: "hold",
      hash: "h1",
      id: "H0",
      startedAtMs: 990,
      expiresAtMs: 1_590,
    };
    expect(reason(holdSeats(base)([{ ...claim, hash: "other" }, null, free, free]))).toEqual({
      code: "conflict",
    });
    expect(reason(holdSeats(base)([claim, null, free, free]))).toEqual({
      code: "adopt",
      holdId: "H0",
      startedAtMs: 990,
    });
    const adopted = { ...base, holdId: "H0", adopted: true };
    expect(reason(holdSeats(adopted)([claim, null, free, free]))).toEqual({ code: "in-flight" });
    // Taken over once stale, with the expiry the first attempt pinned (still ahead here).
    const stale = { ...adopted, now: 990 + IN_FLIGHT_MS };
    const pinned = { ...claim, expiresAtMs: 99_000 };
    expect(values(holdSeats(stale)([pinned, null, free, free]))?.[2]).toEqual(heldBy("H0", 99_000));
    const mine = heldBy("H0", 1_600);
    expect(reason(holdSeats({ ...base, holdId: "H0" })([claim, heldRec(), mine, mine]))).toEqual({
      code: "replay",
      holdId: "H0",
    });
    // The first attempt's record landed but a lock did not: a re-run finishes the hold with the
    // record's expiry, and stops at a seat someone else took meanwhile.
    const half = values(holdSeats({ ...base, holdId: "H0" })([claim, heldRec(), mine, free]));
    expect(half).toEqual([claim, heldRec(), mine, mine]);
    expect(
      reason(holdSeats({ ...base, holdId: "H0" })([claim, heldRec(), mine, heldBy("H9", 5_000)])),
    ).toEqual({ code: "taken", seats: ["seat/ev/B/2"] });
    // A record of another request under this hold id is never taken for ours.
    expect(
      reason(holdSeats({ ...base, holdId: "H0" })([claim, heldRec({ hash: "x" }), free, free])),
    ).toEqual({ code: "conflict" });
    expect(
      reason(holdSeats({ ...base, holdId: "H0" })([claim, { state: "expired" }, free, free])),
    ).toEqual({ code: "expired" });
  });

  it("property: all or nothing, and idempotent on its own output", () => {
    const seatArb = fc.oneof(
      fc.constant<SeatValue | null>(null),
      fc.constant<SeatValue | null>(free),
      fc.record({
        state: fc.constant("held" as const),
        holdId: fc.constantFrom("H1", "H2"),
        expiresAtMs: fc.integer({ min: 0, max: 20_000 }),
      }),
      fc.record({
        state: fc.constant("sold" as const),
        orderId: fc.constant("o"),
        holdId: fc.constantFrom("H2"),
      }),
    );
    fc.assert(
      fc.property(
        fc.array(seatArb, { minLength: 2, maxLength: 2 }),
        fc.integer({ min: 0, max: 20_000 }),
        (ss, now) => {
          const input = { ...base, now };
          const before: (Register | null)[] = [null, null, ...ss];
          const out = holdSeats(input)(before);
          const v = values(out);
          if (v === null) return; // aborted: the proposer writes nothing new
          for (const s of v.slice(2)) expect(s).toMatchObject({ state: "held", holdId: "H1" });
          // A re-run on its own output finds the hold done: it replays, writing nothing new.
          expect(reason(holdSeats(input)(v.slice()))).toEqual({ code: "replay", holdId: "H1" });
        },
      ),
    );
  });
});

describe("hold record transitions", () => {
  it("expireHold rolls back only past expiry plus margin, never a sale", () => {
    const e = (now: number) => expireHold({ holdId: "H1", seatExpiresAtMs: 1_600, now });
    expect(reason(e(1_600 + SKEW_MARGIN_MS)([heldRec()]))).toEqual({ code: "live" });
    expect(values(e(1_601 + SKEW_MARGIN_MS)([heldRec()]))).toEqual([
      { state: "expired", seats, expiresAtMs: 1_600 },
    ]);
    expect(values(e(1_601 + SKEW_MARGIN_MS)([null]))).toEqual([
      { state: "expired", expiresAtMs: 1_600 },
    ]);
    const sold = {
      ...heldRec(),
      state: "sold",
      orderId: "o",
      confirm: { key: "k", hash: "h" },
    } as HoldRecord;
    expect(reason(e(99_999)([sold]))).toEqual({ code: "sold" });
  });

  it("confirmHold sells a live hold once and replays for the same request", () => {
    const input = {
      caller: "u1",
      key: "c1",
      hash: "ch",
      holdId: "H1",
      orderId: "O1",
      seats,
      now: 1_500,
    };
    const locks = seats.map(() => heldBy("H1", 1_600));
    const proven = { chosen: [true, true, true, true] };
    const out = values(confirmHold(input)([null, heldRec(), ...locks], proven))!;
    expect(out[1]).toMatchObject({
      state: "sold",
      orderId: "O1",
      confirm: { key: "idem/u1/c1", hash: "ch" },
    });
    // The seats are read, not written: they follow the record later (settleSeats).
    expect(out.slice(2)).toEqual(locks);
    const again = [out[0]!, out[1]!, ...locks];
    expect(reason(confirmHold({ ...input, orderId: "O2" })(again, proven))).toEqual({
      code: "replay",
      holdId: "H1",
      orderId: "O1",
    });
    expect(reason(confirmHold({ ...input, key: "c2" })([null, out[1]!, ...locks], proven))).toEqual(
      { code: "already-confirmed" },
    );
    expect(
      reason(confirmHold({ ...input, caller: "u2" })([null, heldRec(), ...locks], proven)),
    ).toEqual({ code: "forbidden" });
    expect(
      reason(
        confirmHold({ ...input, now: 1_601 + SKEW_MARGIN_MS })([null, heldRec(), ...locks], proven),
      ),
    ).toEqual({ code: "expired" });
    expect(reason(confirmHold(input)([null, null, ...locks], proven))).toEqual({
      code: "not-found",
    });
  });

  it("confirmHold sells only seats proven chosen as held by the hold", () => {
    const input = {
      caller: "u1",
      key: "c1",
      hash: "ch",
      holdId: "H1",
      orderId: "O1",
      seats,
      now: 1_500,
    };
    const lock = heldBy("H1", 1_600);
    // A lock that did not land (its hold change was cut short), or was since taken: no sale.
    expect(
      reason(
        confirmHold(input)([null, heldRec(), lock, free], { chosen: [true, true, true, true] }),
      ),
    ).toEqual({ code: "taken", seats: ["seat/ev/B/2"] });
    // A lock seen but not proven chosen (one store reported it): abort, so its write-back
    // makes it chosen, and only then sell.
    const once = { chosen: [true, true, true, false] };
    expect(reason(confirmHold(input)([null, heldRec(), lock, lock], once))).toEqual({
      code: "unproven",
      seats: ["seat/ev/B/2"],
    });
    expect(reason(confirmHold(input)([null, heldRec(), lock, lock]))).toMatchObject({
      code: "unproven",
    });
    expect(
      values(confirmHold({ ...input, proven: true })([null, heldRec(), lock, lock], once)),
    ).not.toBeNull();
    // A record that carries its claim and quota keys: both must show the hold, proven.
    const rec1 = heldRec({
      claimKey: "idem/u1/k1",
      quotaKey: "quota/u1/ev",
    } as Partial<HoldRecord>);
    const withKeys = { ...input, claimKey: "idem/u1/k1", quotaKey: "quota/u1/ev" };
    const claim: IdemRecord = {
      op: "hold",
      hash: "h1",
      id: "H1",
      startedAtMs: 900,
      expiresAtMs: 1_600,
    };
    const quota = { sold: [], live: [{ holdId: "H1", n: 2, expiresAtMs: 1_600, key: "k1" }] };
    const all = { chosen: [true, true, true, true, true, true] };
    expect(
      values(confirmHold(withKeys)([null, rec1, claim, quota, lock, lock], all)),
    ).not.toBeNull();
    // The change landed on the record but not on the claim, or not on the quota: never sold.
    const otherClaim = { ...claim, id: "H9" };
    expect(reason(confirmHold(withKeys)([null, rec1, otherClaim, quota, lock, lock], all))).toEqual(
      { code: "expired" },
    );
    expect(reason(confirmHold(withKeys)([null, rec1, null, quota, lock, lock], all))).toEqual({
      code: "expired",
    });
    const uncounted = { sold: [], live: [] };
    expect(reason(confirmHold(withKeys)([null, rec1, claim, uncounted, lock, lock], all))).toEqual({
      code: "expired",
    });
    // Seen but not proven chosen: the claim and the quota are proved like the seats.
    const quotaOnce = { chosen: [true, true, true, false, true, true] };
    expect(
      reason(confirmHold(withKeys)([null, rec1, claim, quota, lock, lock], quotaOnce)),
    ).toEqual({ code: "unproven", seats: ["quota/u1/ev"] });
    // Asked without the keys the record lists: abort with them.
    expect(reason(confirmHold(input)([null, rec1, lock, lock], all))).toEqual({
      code: "seats",
      seats,
      claimKey: "idem/u1/k1",
      quotaKey: "quota/u1/ev",
    });
    // A seat list other than the record's: abort with the record's, to re-run with them.
    expect(
      reason(confirmHold({ ...input, seats: ["seat/ev/A/1"] })([null, heldRec(), lock], once)),
    ).toEqual({ code: "seats", seats });
  });

  it("releaseHold frees a held hold, never a sold one", () => {
    expect(values(releaseHold({ caller: "u1", holdId: "H1" })([heldRec()]))).toEqual([
      heldRec({ state: "released" }),
    ]);
    expect(reason(releaseHold({ caller: "u2", holdId: "H1" })([heldRec()]))).toEqual({
      code: "forbidden",
    });
  });

  it("settleSeats follows the record and leaves other holds' seats alone", () => {
    const sold = {
      ...heldRec(),
      state: "sold",
      orderId: "O1",
      confirm: { key: "k", hash: "h" },
    } as HoldRecord;
    const other = heldBy("H9", 1);
    const out = settleSeats({ holdId: "H1", seats, record: sold })([heldBy("H1", 1_600), other]);
    expect(values(out)).toEqual([{ state: "sold", orderId: "O1", holdId: "H1" }, other]);
    expect("result" in out && out.result).toEqual({ changed: 1, foreign: ["seat/ev/B/2"] });
    const freed = settleSeats({ holdId: "H1", seats, record: { state: "expired" } })([
      heldBy("H1", 1_600),
      other,
    ]);
    expect(values(freed)).toEqual([free, other]);
  });
});
