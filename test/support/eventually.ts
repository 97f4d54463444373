/** Local reads may trail the quorum by a replication moment: how often to look again, and how long. */
const CONVERGE_TRIES = 40;
const CONVERGE_PAUSE_MS = 250;

/** Whether `check` came true within CONVERGE_TRIES looks (no timing is asserted, only the outcome). */
export async function eventually(check: () => Promise<boolean>): Promise<boolean> {
  for (let i = 0; i < CONVERGE_TRIES; i++) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, CONVERGE_PAUSE_MS));
  }
  return false;
}

/**
 * Reads until `done` holds of the answer and returns the last answer either way, so the caller's
 * assertion on it shows what was still different when the providers did not converge.
 */
export async function settled<T>(read: () => Promise<T>, done: (t: T) => boolean): Promise<T> {
  let last!: T;
  await eventually(async () => {
    last = await read();
    return done(last);
  });
  return last;
}
