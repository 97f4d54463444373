/** A numeric command-line option: `dflt` when absent; exits 2 naming the option when not a number
 * >= `min` (shared by `npm run bench` and `npm run chaos`). */
export function numberOption(
  name: string,
  v: string | undefined,
  dflt: number,
  min: number,
): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) {
    console.error(`--${name} must be a number >= ${min}, got ${JSON.stringify(v)}`);
    process.exit(2);
  }
  return n;
}
