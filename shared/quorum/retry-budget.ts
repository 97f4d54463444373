/**
 * The retry budget of one write, in one place. Two layers retry, for different reasons, and their
 * limits multiply, so they are named together:
 * - the proposer re-tries a change that lost its ballot to a rival (contention on the key), with
 *   backoff, up to ATTEMPTS_PER_RUN attempts (shared/quorum/proposer.ts);
 * - the caller re-runs a change whose outcome came back unknown or short of a quorum, up to
 *   UNKNOWN_RERUNS more times (every change function is idempotent, so a re-run finishes or
 *   confirms the earlier one): the seat service's steps (shared/seats/service.ts), the product's
 *   writes (functions/services/store.ts `retryingChange`) and the door's check-ins.
 * Algorithmic rounds on top (a hold rolling back an expired holder, then locking; a confirm
 * proving its seats, then selling) are counted by their own code: each round is one write.
 */

/** Enough to ride out a burst of contention on a hot seat without holding a request for long. */
export const ATTEMPTS_PER_RUN = 6;
/** Re-runs of a change whose outcome was unknown before the request answers 503 (retry later). */
export const UNKNOWN_RERUNS = 3;
/** The most proposer attempts one write makes: 6 × (1 + 3) = 24. */
export const WRITE_ATTEMPTS_MAX = ATTEMPTS_PER_RUN * (1 + UNKNOWN_RERUNS);
