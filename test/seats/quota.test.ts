import { describe, expect, it } from "vitest";
import { seatKeys } from "../../shared/domain/keys.ts";
import type { ChangeResult } from "../../shared/quorum/proposer.ts";
import {
  forgetHolds,
  type HoldInput,
  holdSeats,
  holdSeatsKeys,
  SKEW_MARGIN_MS,
} from "../../shared/seats/changes.ts";
import type {
  HoldRecord,
  IdemRecord,
  QuotaLive,
  QuotaRecord,
  Register,
} from "../../shared/seats/types.ts";

/** The per-buyer cap inside step 1 of a hold (decision 0003). */
const seats = seatKeys("ev", [
  { section: "A", seatId: "1" },
  { section: "A", seatId: "2" },
]);
const capped: HoldInput = {
  caller: "u1",
  key: "k1",
  hash: "h1",
  holdId: "H1",
  adopted: false,
  seats,
  foreign: [],
  now: 1_000,
  ttlMs: 600,
  cap: { eventId: "ev", max: 4 },
};
const values = (r: ChangeResult<Register>) => ("values" in r ? r.values : null);
const reason = (r: ChangeResult<Register>) => ("abort" in r ? r.abort : null);
const live = (holdId: string, n: number, expiresAtMs = 5_000, key = `k-${holdId}`): QuotaLive => ({
  holdId,
  n,
  expiresAtMs,
  key,
});
const rec = (state: HoldRecord["state"], expiresAtMs = 5_000) =>
  ({ state, seats: [], expiresAtMs, caller: "u1", hash: "x", orderId: "o" }) as HoldRecord;
const own = live("H1", 2, 1_600, "k1");
/** Current values for `input`: no claim, no record, free seats, then the records, then quota. */
const cur = (records: (HoldRecord | null)[], quota: QuotaRecord | null) => [
  null,
  null,
  null,
  null,
  ...records,
  quota,
];

describe("holdSeats with a per-buyer cap", () => {
  it("puts the buyer's quota register last and counts the new hold in it", () => {
    expect(holdSeatsKeys({ ...capped, foreign: ["H0"] })).toEqual([
      "idem/u1/k1",
      "hold/H1",
      ...seats,
      "hold/H0",
      "quota/u1/ev",
    ]);
    expect(values(holdSeats(capped)(cur([], null)))?.at(-1)).toEqual({ sold: [], live: [own] });
  });

  it("asks for the records of the live holds it counts", () => {
    const q = { sold: [], live: [live("H2", 1), live("H3", 1)] };
    expect(reason(holdSeats(capped)(cur([], q)))).toEqual({
      code: "records",
      holds: ["H2", "H3"],
    });
  });

  it("refuses a hold that passes the cap, counting held, unrecorded and sold holds", () => {
    const q = { sold: [{ holdId: "H0", n: 1 }], live: [live("H2", 1), live("H3", 1)] };
    const input = { ...capped, foreign: ["H2", "H3"] };
    expect(reason(holdSeats(input)(cur([rec("held"), null], q)))).toEqual({
      code: "seat-cap-reached",
      cap: 4,
      count: 3,
      requested: 2,
    });
  });

  it("folds sold holds, drops released and expired ones", () => {
    const q = { sold: [], live: [live("H2", 1), live("H3", 1), live("H4", 1)] };
    const input = { ...capped, foreign: ["H2", "H3", "H4"] };
    const out = holdSeats(input)(cur([rec("sold"), rec("released"), { state: "expired" }], q));
    expect(values(out)?.at(-1)).toEqual({ sold: [{ holdId: "H2", n: 1 }], live: [own] });
  });

  it("keeps counting an expired hold until it is rolled back", () => {
    const q = { sold: [], live: [live("H2", 3, 900)] };
    const input = { ...capped, foreign: ["H2"] };
    const within = { ...input, now: 900 + SKEW_MARGIN_MS };
    expect(reason(holdSeats(within)(cur([rec("held", 900)], q)))).toMatchObject({
      code: "seat-cap-reached",
      count: 3,
    });
    const past = { ...input, now: 901 + SKEW_MARGIN_MS };
    expect(reason(holdSeats(past)(cur([null], q)))).toEqual({
      code: "rollback",
      holds: [{ holdId: "H2", expiresAtMs: 900 }],
    });
  });

  it("counts its own entry once when it runs again (a retry, or a lost reply)", () => {
    const claim: IdemRecord = {
      op: "hold",
      hash: "h1",
      id: "H1",
      startedAtMs: 1_000,
      expiresAtMs: 1_600,
    };
    const q = { sold: [], live: [own] };
    const out = holdSeats({ ...capped, now: 1_200 })([claim, null, null, null, q]);
    expect(values(out)?.at(-1)).toEqual(q);
  });

  it("drops an earlier attempt of the same request under another hold id", () => {
    const q = { sold: [], live: [live("H0", 2, 1_600, "k1"), live("H2", 2)] };
    const out = holdSeats({ ...capped, foreign: ["H2"] })(cur([rec("held")], q));
    expect(values(out)?.at(-1)).toEqual({ sold: [], live: [live("H2", 2), own] });
  });

  it("leaves everything alone without a cap", () => {
    const { cap: _none, ...uncapped } = capped;
    expect(holdSeatsKeys(uncapped)).not.toContain("quota/u1/ev");
    expect(values(holdSeats(uncapped)([null, null, null, null]))).toHaveLength(4);
  });
});

describe("forgetHolds (refunds)", () => {
  it("takes the refunded hold off the register, and changes nothing the second time", () => {
    const q = { sold: [{ holdId: "H2", n: 2 }], live: [live("H3", 1)] };
    const once = values(forgetHolds(["H2"])([q]))?.[0] as QuotaRecord;
    expect(once).toEqual({ sold: [], live: [live("H3", 1)] });
    expect(values(forgetHolds(["H2"])([once]))?.[0]).toEqual(once);
    expect(values(forgetHolds(["H3"])([q]))?.[0]).toEqual({ sold: q.sold, live: [] });
    expect(values(forgetHolds(["H2"])([null]))).toEqual([null]);
  });
});
