/** Luhn checksum: catches typos in card numbers before any processor sees them. */
export function luhnValid(number: string): boolean {
  if (!/^\d{12,19}$/.test(number)) return false;
  let sum = 0;
  for (let i = 0; i < number.length; i++) {
    let d = number.charCodeAt(number.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** Whether a card expiring at the end of `expMonth/expYear` is still valid at `now` (UTC). */
export function cardExpired(expMonth: number, expYear: number, now: number): boolean {
  const endOfMonth = Date.UTC(expYear, expMonth, 1); // first instant of the following month
  return now >= endOfMonth;
}
