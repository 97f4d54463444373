import { z } from "@hono/zod-openapi";

/**
 * ISO 4217 currencies a buyer can pay in, with their minor-unit exponents (ISO 4217 List One,
 * 2025). Left out on purpose: fund and unit-of-account codes (BOV, CHE, CHW, CLF, COU, MXV, USN,
 * UYI, UYW, XDR, XSU, XUA), precious metals (XAU, XAG, XPD, XPT), the test and "no currency" codes
 * (XTS, XXX), and withdrawn codes (ANG replaced by XCG, HRK by EUR, SLL by SLE, ZWL by ZWG, CUC):
 * no ticket is priced in them. A table rather than Intl because CLDR's display digits differ from
 * ISO's exponents for several currencies and vary between ICU builds.
 */
// biome-ignore format: a table reads best as a table
export const CURRENCY_EXPONENTS = {
  AED: 2, AFN: 2, ALL: 2, AMD: 2, AOA: 2, ARS: 2, AUD: 2, AWG: 2, AZN: 2,
  BAM: 2, BBD: 2, BDT: 2, BGN: 2, BHD: 3, BIF: 0, BMD: 2, BND: 2, BOB: 2, BRL: 2, BSD: 2,
  BTN: 2, BWP: 2, BYN: 2, BZD: 2,
  CAD: 2, CDF: 2, CHF: 2, CLP: 0, CNY: 2, COP: 2, CRC: 2, CUP: 2, CVE: 2, CZK: 2,
  DJF: 0, DKK: 2, DOP: 2, DZD: 2,
  EGP: 2, ERN: 2, ETB: 2, EUR: 2,
  FJD: 2, FKP: 2,
  GBP: 2, GEL: 2, GHS: 2, GIP: 2, GMD: 2, GNF: 0, GTQ: 2, GYD: 2,
  HKD: 2, HNL: 2, HTG: 2, HUF: 2,
  IDR: 2, ILS: 2, INR: 2, IQD: 3, IRR: 2, ISK: 0,
  JMD: 2, JOD: 3, JPY: 0,
  KES: 2, KGS: 2, KHR: 2, KMF: 0, KPW: 2, KRW: 0, KWD: 3, KYD: 2, KZT: 2,
  LAK: 2, LBP: 2, LKR: 2, LRD: 2, LSL: 2, LYD: 3,
  MAD: 2, MDL: 2, MGA: 2, MKD: 2, MMK: 2, MNT: 2, MOP: 2, MRU: 2, MUR: 2, MVR: 2, MWK: 2,
  MXN: 2, MYR: 2, MZN: 2,
  NAD: 2, NGN: 2, NIO: 2, NOK: 2, NPR: 2, NZD: 2,
  OMR: 3,
  PAB: 2, PEN: 2, PGK: 2, PHP: 2, PKR: 2, PLN: 2, PYG: 0,
  QAR: 2,
  RON: 2, RSD: 2, RUB: 2, RWF: 0,
  SAR: 2, SBD: 2, SCR: 2, SDG: 2, SEK: 2, SGD: 2, SHP: 2, SLE: 2, SOS: 2, SRD: 2, SSP: 2,
  STN: 2, SVC: 2, SYP: 2, SZL: 2,
  THB: 2, TJS: 2, TMT: 2, TND: 3, TOP: 2, TRY: 2, TTD: 2, TWD: 2, TZS: 2,
  UAH: 2, UGX: 0, USD: 2, UYU: 2, UZS: 2,
  VED: 2, VES: 2, VND: 0, VUV: 0,
  WST: 2,
  XAF: 0, XCD: 2, XCG: 2, XOF: 0, XPF: 0,
  YER: 2,
  ZAR: 2, ZMW: 2, ZWG: 2,
} as const satisfies Record<string, 0 | 2 | 3>;

export type CurrencyCode = keyof typeof CURRENCY_EXPONENTS;
export const CURRENCY_CODES = Object.keys(CURRENCY_EXPONENTS) as CurrencyCode[];

export function isCurrencyCode(code: unknown): code is CurrencyCode {
  return typeof code === "string" && Object.hasOwn(CURRENCY_EXPONENTS, code);
}

/** Minor-unit exponent of a currency: EUR 2 (cents), JPY 0, KWD 3 (fils). */
export function minorUnitExponent(currency: CurrencyCode): number {
  return CURRENCY_EXPONENTS[currency];
}

/**
 * Largest amount in minor units: 10^12 (ten billion euros) is beyond any order, and keeps sums of
 * thousands of amounts far below 2^53, where JS numbers stop being exact integers.
 */
export const MONEY_AMOUNT_MAX = 1_000_000_000_000;

export const Currency = z
  .enum(CURRENCY_CODES as [CurrencyCode, ...CurrencyCode[]], {
    error: "must be an active ISO 4217 currency code (3 uppercase letters, e.g. EUR)",
  })
  .meta({ description: "Active ISO 4217 currency code, e.g. EUR." });

export const Money = z
  .object({
    /** Integer count of the currency's minor unit (cents for EUR, yen for JPY, fils for KWD). */
    amount: z
      .number()
      .int("must be an integer number of minor units")
      .min(0)
      .max(MONEY_AMOUNT_MAX)
      .meta({
        description: "Amount in the currency's minor unit (EUR: cents; JPY: yen).",
        format: "int64",
      }),
    currency: Currency,
  })
  .strict()
  .openapi("Money");
export type Money = z.infer<typeof Money>;

export class MoneyError extends Error {
  override name = "MoneyError";
}

export function money(amount: number, currency: CurrencyCode): Money {
  const m = { amount, currency };
  const r = Money.safeParse(m);
  if (!r.success) throw new MoneyError(`invalid money ${JSON.stringify(m)}`);
  return r.data;
}

/** Sum in one currency; mixing currencies is a programming error, not a business outcome. */
export function sumMoney(items: readonly Money[], currency: CurrencyCode): Money {
  let amount = 0;
  for (const m of items) {
    if (m.currency !== currency) {
      throw new MoneyError(`cannot add ${m.currency} to ${currency}`);
    }
    amount += m.amount;
  }
  if (amount > MONEY_AMOUNT_MAX) throw new MoneyError(`total exceeds ${MONEY_AMOUNT_MAX}`);
  return { amount, currency };
}

export function sameMoney(a: Money, b: Money): boolean {
  return a.amount === b.amount && a.currency === b.currency;
}

/** Exact decimal text of an amount, e.g. {1234, EUR} → "12.34", {5, KWD} → "0.005". */
export function toDecimalString(m: Money): string {
  const exp = minorUnitExponent(m.currency);
  if (exp === 0) return String(m.amount);
  const digits = String(m.amount).padStart(exp + 1, "0");
  return `${digits.slice(0, -exp)}.${digits.slice(-exp)}`;
}

/**
 * Parses decimal text into minor units without floating point: "12.3" EUR → 1230. Returns null for
 * anything not a plain non-negative decimal with at most the currency's digits.
 */
export function parseDecimal(text: string, currency: CurrencyCode): Money | null {
  const exp = minorUnitExponent(currency);
  const m = /^(\d{1,13})(?:\.(\d+))?$/.exec(text);
  if (!m) return null;
  const frac = m[2] ?? "";
  if (frac.length > exp) return null;
  const amount = Number(m[1] + frac.padEnd(exp, "0"));
  if (!Number.isSafeInteger(amount) || amount > MONEY_AMOUNT_MAX) return null;
  return { amount, currency };
}

/**
 * Localised display text, e.g. "€12.34" (en) or "12,34 €" (de). Digits come from the ISO exponent,
 * not from CLDR, so the shown amount is always the exact stored one.
 */
export function formatMoney(m: Money, locale = "en"): string {
  const exp = minorUnitExponent(m.currency);
  return new Intl.NumberFormat(locale, {
    style: "currency",
    currency: m.currency,
    minimumFractionDigits: exp,
    maximumFractionDigits: exp,
  }).format(toDecimalString(m) as `${number}`);
}
