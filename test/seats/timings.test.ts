import { describe, expect, it } from "vitest";
import type { ChangeResult } from "../../shared/quorum/proposer.ts";
import {
  confirmHold,
  expireHold,
  type HoldInput,
  holdSeats,
  IN_FLIGHT_MS,
  RECORD_RETENTION_MS,
  SEAT_TIMINGS,
  type SeatTimings,
  SKEW_MARGIN_MS,
} from "../../shared/seats/changes.ts";
import type { HoldRecord, IdemRecord, Register, SeatValue } from "../../shared/seats/types.ts";

/** The clock rules are parameters (the simulator scales them); production keeps the constants. */
const scaled: SeatTimings = { skewMarginMs: 100, claimInFlightMs: 300 };
const reason = (r: ChangeResult<Register>) =>
  "abort" in r ? (r.abort as { code: string }) : undefined;
const seats = ["seat/ev/A/1"];
const base: HoldInput = {
  caller: "u1",
  key: "k1",
  hash: "h1",
  holdId: "H1",
  adopted: false,
  seats,
  foreign: [],
  now: 1_000,
  ttlMs: 400,
};
const held: SeatValue = { state: "held", holdId: "H2", expiresAtMs: 900 };
const rec: HoldRecord = { state: "held", seats, expiresAtMs: 900, caller: "u1", hash: "h1" };
const lockH2 = { state: "held", holdId: "H2", expiresAtMs: 900 } as const;

describe("seat timings", () => {
  it("defaults to the production constants", () => {
    expect(SEAT_TIMINGS).toEqual({
      skewMarginMs: SKEW_MARGIN_MS,
      claimInFlightMs: IN_FLIGHT_MS,
      retentionMs: RECORD_RETENTION_MS,
    });
    expect(reason(holdSeats({ ...base, now: 900 + SKEW_MARGIN_MS })([null, null, held]))).toEqual({
      code: "taken",
      seats,
    });
  });

  it("takes over an expired hold past the given skew margin", () => {
    const at = (now: number) => holdSeats({ ...base, now, timings: scaled })([null, null, held]);
    expect(reason(at(1_000))?.code).toBe("taken");
    expect(reason(at(1_001))?.code).toBe("rollback");
    const e = (now: number) =>
      expireHold({ holdId: "H2", seatExpiresAtMs: 900, now, timings: scaled })([rec]);
    expect(reason(e(1_000))).toEqual({ code: "live" });
    expect(reason(e(1_001))).toBeUndefined();
    const c = (now: number) =>
      confirmHold({
        caller: "u1",
        key: "c",
        hash: "x",
        holdId: "H2",
        orderId: "o",
        seats,
        now,
        timings: scaled,
      })([null, rec, ...seats.map(() => lockH2)], {
        chosen: [true, true, ...seats.map(() => true)],
      });
    expect(reason(c(1_000))).toBeUndefined();
    expect(reason(c(1_001))).toEqual({ code: "expired" });
  });

  it("takes over an abandoned claim past the given claim age", () => {
    const claim: IdemRecord = {
      op: "hold",
      hash: "h1",
      id: "H0",
      startedAtMs: 700,
      expiresAtMs: 1_100,
    };
    const adopted = { ...base, holdId: "H0", adopted: true, timings: scaled };
    expect(reason(holdSeats({ ...adopted, now: 999 })([claim, null, null]))).toEqual({
      code: "in-flight",
    });
    expect(reason(holdSeats({ ...adopted, now: 1_000 })([claim, null, null]))).toBeUndefined();
  });
});
