/** Told how long each step of a request took (ms): the routes report it as Server-Timing. */
export type StepTiming<S extends string> = (step: S, ms: number) => void;

/** Runs `p`, telling `timing` how long it took (whether it resolved or not). */
export function timed<S extends string, T>(
  timing: StepTiming<S> | undefined,
  step: S,
  p: () => Promise<T>,
): Promise<T> {
  if (!timing) return p();
  const t0 = performance.now();
  return p().finally(() => timing(step, performance.now() - t0));
}
