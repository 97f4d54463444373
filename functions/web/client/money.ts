/**
 * Money display in the browser. Amounts are integer minor units; the exponent per currency comes
 * from shared/domain/money.ts's ISO 4217 table, injected at build time by scripts/build-web.ts (the
 * module itself pulls in zod, too heavy for a page).
 */
declare const __CURRENCY_EXPONENTS__: Record<string, number>;

export interface Money {
  amount: number;
  currency: string;
}

export function exponentOf(currency: string): number {
  return __CURRENCY_EXPONENTS__[currency] ?? 2;
}

export function formatMoney(m: Money): string {
  const exp = exponentOf(m.currency);
  try {
    return new Intl.NumberFormat(undefined, {
      style: "currency",
      currency: m.currency,
      minimumFractionDigits: exp,
      maximumFractionDigits: exp,
    }).format(m.amount / 10 ** exp);
  } catch {
    return `${(m.amount / 10 ** exp).toFixed(exp)} ${m.currency}`;
  }
}

/** "12.5" → 1250 (EUR); undefined for anything but a plain non-negative decimal. */
export function parseAmount(text: string, currency: string): number | undefined {
  const exp = exponentOf(currency);
  const m = /^(\d{1,13})(?:[.,](\d+))?$/.exec(text.trim());
  if (!m) return undefined;
  const frac = m[2] ?? "";
  if (frac.length > exp) return undefined;
  return Number(m[1] + frac.padEnd(exp, "0"));
}

/** 1250 EUR → "12.50", for putting a stored price back into an input. */
export function amountText(m: Money): string {
  const exp = exponentOf(m.currency);
  if (exp === 0) return String(m.amount);
  const digits = String(m.amount).padStart(exp + 1, "0");
  return `${digits.slice(0, -exp)}.${digits.slice(-exp)}`;
}

export const CURRENCIES = () => Object.keys(__CURRENCY_EXPONENTS__);
