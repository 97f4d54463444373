import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CURRENCY_CODES, MONEY_AMOUNT_MAX } from "../../shared/domain/money.ts";
import {
  apportion,
  BASIS_POINTS_TOTAL,
  DEFAULT_SPLIT,
  OPERATOR_PARTIES,
  SplitConfig,
  SplitError,
  splitProceeds,
} from "../../shared/payments/split.ts";

/** Random basis points summing to 10,000: cut points in [0, 10000] over n parties. */
const sharesArb = fc
  .array(fc.integer({ min: 0, max: BASIS_POINTS_TOTAL }), { minLength: 0, maxLength: 11 })
  .map((cuts) => {
    const points = [0, ...cuts.sort((a, b) => a - b), BASIS_POINTS_TOTAL];
    return points.slice(1).map((p, i) => ({ party: `p${i}`, basisPoints: p - points[i]! }));
  });
const moneyArb = fc.record({
  amount: fc.oneof(
    fc.integer({ min: 0, max: 1000 }),
    fc.integer({ min: 0, max: MONEY_AMOUNT_MAX }),
  ),
  currency: fc.constantFrom(...CURRENCY_CODES),
});

describe("splitProceeds", () => {
  it("sums exactly to the amount, for any amount and shares", () => {
    fc.assert(
      fc.property(moneyArb, sharesArb, (amount, shares) => {
        const entries = splitProceeds(amount, shares);
        expect(entries.map((e) => e.party)).toEqual(shares.map((s) => s.party));
        expect(entries.reduce((s, e) => s + e.amount.amount, 0)).toBe(amount.amount);
        for (const e of entries) {
          expect(e.amount.currency).toBe(amount.currency);
          expect(Number.isInteger(e.amount.amount) && e.amount.amount >= 0).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("gives each party its exact quota rounded down or up (largest remainder)", () => {
    fc.assert(
      fc.property(moneyArb, sharesArb, (amount, shares) => {
        const entries = splitProceeds(amount, shares);
        shares.forEach((s, i) => {
          const exact =
            (BigInt(amount.amount) * BigInt(s.basisPoints)) / BigInt(BASIS_POINTS_TOTAL);
          const got = BigInt(entries[i]!.amount.amount);
          expect(got === exact || got === exact + 1n).toBe(true);
        });
      }),
      { numRuns: 1000 },
    );
  });

  it("is deterministic and breaks ties by party order", () => {
    const thirds = [
      { party: "a", basisPoints: 3334 },
      { party: "b", basisPoints: 3333 },
      { party: "c", basisPoints: 3333 },
    ];
    expect(
      splitProceeds({ amount: 2, currency: "EUR" }, thirds).map((e) => e.amount.amount),
    ).toEqual([1, 1, 0]);
    expect(apportion(5, [1, 1, 1])).toEqual([2, 2, 1]);
    expect(apportion(1, [1, 1, 1])).toEqual([1, 0, 0]);
    expect(apportion(7, [0, 5, 5])).toEqual([0, 4, 3]);
  });

  it("applies the default 92 / 4 / 4 split with operators sharing equally", () => {
    const entries = splitProceeds({ amount: 10_000, currency: "EUR" });
    expect(entries.map((e) => [e.party, e.amount.amount])).toEqual([
      ["theater", 9200],
      ["maintainers", 400],
      [OPERATOR_PARTIES[0], 134],
      [OPERATOR_PARTIES[1], 133],
      [OPERATOR_PARTIES[2], 133],
    ]);
    fc.assert(
      fc.property(moneyArb, (amount) => {
        const e = splitProceeds(amount, DEFAULT_SPLIT);
        expect(e.reduce((s, x) => s + x.amount.amount, 0)).toBe(amount.amount);
        const ops = e.slice(2).map((x) => x.amount.amount);
        expect(Math.max(...ops) - Math.min(...ops)).toBeLessThanOrEqual(1);
      }),
    );
  });

  it("refuses configs that do not add up", () => {
    expect(SplitConfig.safeParse([{ party: "a", basisPoints: 9999 }]).success).toBe(false);
    expect(
      SplitConfig.safeParse([
        { party: "a", basisPoints: 5000 },
        { party: "a", basisPoints: 5000 },
      ]).success,
    ).toBe(false);
    expect(SplitConfig.safeParse([]).success).toBe(false);
    expect(() =>
      splitProceeds({ amount: 1, currency: "EUR" }, [{ party: "a", basisPoints: 1 }]),
    ).toThrow(SplitError);
  });
});
