import { describe, expect, it } from "vitest";
import type { ChangeResult } from "../../shared/quorum/proposer.ts";
import {
  type HoldInput,
  holdSeats,
  RECORD_RETENTION_MS,
  SKEW_MARGIN_MS,
  sweepClaim,
  sweepHold,
} from "../../shared/seats/changes.ts";
import type { HoldRecord, IdemRecord, Register } from "../../shared/seats/types.ts";

const seats = ["seat/ev/A/1"];
const reason = (r: ChangeResult<Register>) => ("abort" in r ? r.abort : undefined);
const values = (r: ChangeResult<Register>) => ("values" in r ? r.values : undefined);
const ended = (state: "released" | "expired", expiresAtMs?: number): HoldRecord =>
  (state === "released"
    ? { state, seats, expiresAtMs, caller: "u1", hash: "h1" }
    : { state, seats, ...(expiresAtMs === undefined ? {} : { expiresAtMs }) }) as HoldRecord;
/** The first instant a record that ended at 1,000 may be swept. */
const due = 1_000 + SKEW_MARGIN_MS + RECORD_RETENTION_MS + 1;

describe("sweepHold", () => {
  const at = (now: number) => sweepHold({ now });
  it("writes an unsold ended hold null only past expiry, margin and retention", () => {
    for (const state of ["released", "expired"] as const) {
      expect(reason(at(due - 1)([ended(state, 1_000)]))).toEqual({ code: "kept" });
      expect(values(at(due)([ended(state, 1_000)]))).toEqual([null]);
    }
  });
  it("never sweeps a live or sold hold, whatever its age", () => {
    const held: HoldRecord = { state: "held", seats, expiresAtMs: 1_000, caller: "u", hash: "h" };
    const sold: HoldRecord = {
      ...held,
      state: "sold",
      orderId: "O1",
      confirm: { key: "idem/u/c", hash: "ch" },
    };
    expect(reason(at(due * 10)([held]))).toEqual({ code: "kept" });
    expect(reason(at(due * 10)([sold]))).toEqual({ code: "kept" });
  });
  it("keeps an expired record that never learnt its expiry, and leaves a swept one alone", () => {
    expect(reason(at(due * 10)([ended("expired")]))).toEqual({ code: "kept" });
    expect(reason(at(due)([null]))).toEqual({ code: "not-found" });
  });
  it("follows scaled timings", () => {
    const t = { skewMarginMs: 10, claimInFlightMs: 20, retentionMs: 100 };
    expect(reason(sweepHold({ now: 1_110, timings: t })([ended("expired", 1_000)]))).toEqual({
      code: "kept",
    });
    expect(values(sweepHold({ now: 1_111, timings: t })([ended("expired", 1_000)]))).toEqual([
      null,
    ]);
  });
});

describe("sweepClaim", () => {
  const claim = (over: Partial<IdemRecord> = {}): IdemRecord => ({
    op: "confirm",
    hash: "h",
    id: "O1",
    startedAtMs: 1_000,
    ...over,
  });
  const at = (now: number) => sweepClaim({ now });
  it("counts from the request's start, or its hold's expiry when later", () => {
    expect(reason(at(due - 1)([claim()]))).toEqual({ code: "kept" });
    expect(values(at(due)([claim()]))).toEqual([null]);
    const hold = claim({ op: "hold", expiresAtMs: 5_000 });
    expect(reason(at(due)([hold]))).toEqual({ code: "kept" });
    expect(values(at(due + 4_000)([hold]))).toEqual([null]);
  });
  it("keeps a claim whose times are not numbers, and leaves a swept one alone", () => {
    expect(reason(at(due * 10)([claim({ startedAtMs: Number.NaN })]))).toEqual({ code: "kept" });
    expect(reason(at(due)([null]))).toEqual({ code: "not-found" });
  });
});

describe("nothing swept comes back", () => {
  it("a retry under a claim whose pinned expiry passed locks nothing", () => {
    const input: HoldInput = {
      caller: "u1",
      key: "k1",
      hash: "h1",
      holdId: "H1",
      adopted: true,
      seats,
      foreign: [],
      now: 1_001 + SKEW_MARGIN_MS,
      ttlMs: 600,
    };
    const idem: IdemRecord = {
      op: "hold",
      hash: "h1",
      id: "H1",
      startedAtMs: -40_000,
      expiresAtMs: 1_000,
    };
    expect(reason(holdSeats(input)([idem, null, null]))).toEqual({ code: "expired" });
    const inTime = { ...input, now: 1_000 + SKEW_MARGIN_MS };
    expect(values(holdSeats(inTime)([idem, null, null]))?.[2]).toMatchObject({ holdId: "H1" });
  });
  it("an attempt whose adopted claim was swept meanwhile does not claim that hold id again", () => {
    const input: HoldInput = {
      caller: "u1",
      key: "k1",
      hash: "h1",
      holdId: "H1",
      adopted: true,
      seats,
      foreign: [],
      now: 5_000,
      ttlMs: 600,
    };
    expect(reason(holdSeats(input)([null, null, null]))).toEqual({ code: "expired" });
    expect(values(holdSeats({ ...input, adopted: false })([null, null, null]))).toBeDefined();
  });
});
