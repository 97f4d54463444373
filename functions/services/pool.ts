/** Runs `f` over `items` with at most `n` calls in flight, in order of start. */
export async function pool<T>(items: readonly T[], n: number, f: (t: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) await f(items[next++] as T);
    }),
  );
}
