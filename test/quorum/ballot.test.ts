import { describe, expect, it } from "vitest";
import {
  COUNTER_MAX,
  compareBallots,
  counterOf,
  decodeBallot,
  encodeBallot,
  isBallotString,
  maxBallot,
  ZERO_BALLOT,
} from "../../shared/quorum/ballot.ts";

describe("ballots", () => {
  it("encode so that string order is ballot order, and decode back", () => {
    const b = encodeBallot({ counter: 42, proposer: "p1" });
    expect(b).toBe("0000000000000042.p1");
    expect(decodeBallot(b)).toEqual({ counter: 42, proposer: "p1" });
    expect(encodeBallot({ counter: COUNTER_MAX, proposer: "p" })).toBe("0999999999999999.p");
    expect(counterOf(b)).toBe(42);
    expect(counterOf(ZERO_BALLOT)).toBe(0);
    expect(ZERO_BALLOT).toBe("");
    expect(decodeBallot("")).toBeNull();
  });

  it("refuse counters out of range and bad proposer ids, saying which", () => {
    for (const counter of [0, -1, 1.5, COUNTER_MAX + 1, Number.NaN]) {
      expect(() => encodeBallot({ counter, proposer: "p" })).toThrow(
        `ballot counter out of range: ${counter}`,
      );
    }
    expect(() => encodeBallot({ counter: 1, proposer: "a b" })).toThrow("bad proposer id: a b");
  });

  it("refuse malformed strings", () => {
    for (const s of [
      "42.p1",
      "00000000000000042.p1",
      "1000000000000000.p",
      "000000000000000x.p",
      "0000000000000001.a b",
    ]) {
      expect(() => decodeBallot(s)).toThrow(`malformed ballot: ${s}`);
      expect(isBallotString(s)).toBe(false);
    }
    expect(isBallotString("0000000000000001.p")).toBe(true);
    expect(isBallotString("")).toBe(true);
    expect(isBallotString(1)).toBe(false);
    expect(isBallotString(null)).toBe(false);
  });

  it("compare and pick the higher", () => {
    const lo = encodeBallot({ counter: 9, proposer: "z" });
    const hi = encodeBallot({ counter: 10, proposer: "a" });
    expect(compareBallots(lo, hi)).toBe(-1);
    expect(compareBallots(hi, lo)).toBe(1);
    expect(compareBallots(hi, hi)).toBe(0);
    expect(compareBallots("", lo)).toBe(-1);
    expect(maxBallot(lo, hi)).toBe(hi);
    expect(maxBallot(hi, lo)).toBe(hi);
    expect(maxBallot("", lo)).toBe(lo);
  });
});
