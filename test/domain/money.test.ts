import { describe, expect, it } from "vitest";
import {
  CURRENCY_EXPONENTS,
  formatMoney,
  MONEY_AMOUNT_MAX,
  Money,
  MoneyError,
  minorUnitExponent,
  parseDecimal,
  sumMoney,
  toDecimalString,
} from "../../shared/domain/money.ts";

describe("Money", () => {
  it("accepts integer minor units in an active currency", () => {
    expect(Money.safeParse({ amount: 1234, currency: "EUR" }).success).toBe(true);
    expect(Money.safeParse({ amount: 0, currency: "JPY" }).success).toBe(true);
    expect(Money.safeParse({ amount: MONEY_AMOUNT_MAX, currency: "KWD" }).success).toBe(true);
  });

  it.each([
    [{ amount: 12.5, currency: "EUR" }, "fractional minor units"],
    [{ amount: -1, currency: "EUR" }, "negative"],
    [{ amount: MONEY_AMOUNT_MAX + 1, currency: "EUR" }, "too large"],
    [{ amount: Number.NaN, currency: "EUR" }, "NaN"],
    [{ amount: "100", currency: "EUR" }, "string amount"],
    [{ amount: 100, currency: "eur" }, "lowercase code"],
    [{ amount: 100, currency: "EURO" }, "4 letters"],
    [{ amount: 100, currency: "XYZ" }, "not a currency"],
    [{ amount: 100, currency: "XTS" }, "test code"],
    [{ amount: 100, currency: "HRK" }, "withdrawn"],
    [{ amount: 100, currency: "XAU" }, "gold"],
    [{ amount: 100 }, "no currency"],
    [{ amount: 100, currency: "EUR", extra: 1 }, "unknown field"],
  ] as [unknown, string][])("rejects %j (%s)", (value) => {
    expect(Money.safeParse(value).success).toBe(false);
  });

  it("knows ISO 4217 exponents", () => {
    expect(minorUnitExponent("EUR")).toBe(2);
    expect(minorUnitExponent("JPY")).toBe(0);
    expect(minorUnitExponent("KWD")).toBe(3);
    expect(minorUnitExponent("CLP")).toBe(0);
    expect(minorUnitExponent("BHD")).toBe(3);
    for (const code of Object.keys(CURRENCY_EXPONENTS)) expect(code).toMatch(/^[A-Z]{3}$/);
  });

  it("writes exact decimals", () => {
    expect(toDecimalString({ amount: 1234, currency: "EUR" })).toBe("12.34");
    expect(toDecimalString({ amount: 5, currency: "EUR" })).toBe("0.05");
    expect(toDecimalString({ amount: 5, currency: "KWD" })).toBe("0.005");
    expect(toDecimalString({ amount: 1500, currency: "JPY" })).toBe("1500");
    expect(toDecimalString({ amount: MONEY_AMOUNT_MAX, currency: "EUR" })).toBe("10000000000.00");
  });

  it("parses decimals without floating point", () => {
    expect(parseDecimal("12.3", "EUR")).toEqual({ amount: 1230, currency: "EUR" });
    expect(parseDecimal("0.29", "EUR")).toEqual({ amount: 29, currency: "EUR" });
    expect(parseDecimal("1.005", "KWD")).toEqual({ amount: 1005, currency: "KWD" });
    expect(parseDecimal("100", "JPY")).toEqual({ amount: 100, currency: "JPY" });
    expect(parseDecimal("1.5", "JPY")).toBeNull();
    expect(parseDecimal("1.234", "EUR")).toBeNull();
    expect(parseDecimal("-1", "EUR")).toBeNull();
    expect(parseDecimal("1e3", "EUR")).toBeNull();
  });

  it("formats for display with the ISO number of digits", () => {
    expect(formatMoney({ amount: 1234, currency: "EUR" }, "en")).toBe("€12.34");
    expect(formatMoney({ amount: 1500, currency: "JPY" }, "en")).toBe("¥1,500");
    expect(formatMoney({ amount: 1234, currency: "KWD" }, "en")).toMatch(/1\.234/);
    expect(formatMoney({ amount: 1234, currency: "EUR" }, "de")).toMatch(/^12,34\s€$/);
  });

  it("sums in one currency and refuses to mix", () => {
    const eur = (amount: number) => ({ amount, currency: "EUR" as const });
    expect(sumMoney([eur(100), eur(250)], "EUR")).toEqual(eur(350));
    expect(sumMoney([], "EUR")).toEqual(eur(0));
    expect(() => sumMoney([eur(1), { amount: 1, currency: "USD" }], "EUR")).toThrow(MoneyError);
  });
});
