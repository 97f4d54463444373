import { requestHash } from "../../shared/seats/hash.ts";
import { ProblemError } from "../problem.ts";
import { RETRY_AFTER_S } from "./store.ts";

/**
 * Idempotency (IETF draft-ietf-httpapi-idempotency-key-header) for the theatre's creating writes.
 * The first request with a key stores a claim `idem/theater:<tid>/<key>` = {op, hash, id} IN THE
 * SAME CHANGE as the entity it creates (or, for plans, before writing deterministic chunks), so a
 * retry either finds the entity the claim names (replay) or nothing at all (the first attempt
 * never committed, so it may run again). The "theater:" caller prefix keeps these claims apart
 * from the seat service's buyer claims (`idem/b_…/<key>`).
 */

/** A claim whose request started less than this long ago is presumed still running (409): the
 * same rule, and the same value, as the seat service's buyer claims. */
export { IN_FLIGHT_MS } from "../../shared/seats/changes.ts";

export type TheaterOp = "plan" | "venue" | "event" | "refund";

export interface TheaterIdemRecord {
  readonly op: TheaterOp;
  readonly hash: string;
  /** The id the first attempt chose (plan, venue, event) or acted on (order). */
  readonly id: string;
  readonly startedAtMs: number;
}

export const bodyHash = (op: TheaterOp, body: unknown) => requestHash({ op, body });

export type ClaimVerdict =
  | { readonly kind: "new" }
  | { readonly kind: "conflict" }
  | { readonly kind: "replay"; readonly id: string; readonly startedAtMs: number };

/** What an existing claim (or none) means for a request with `op` and `hash`. */
export function judgeClaim(
  rec: TheaterIdemRecord | null,
  op: TheaterOp,
  hash: string,
): ClaimVerdict {
  if (rec === null) return { kind: "new" };
  if (rec.op !== op || rec.hash !== hash) return { kind: "conflict" };
  return { kind: "replay", id: rec.id, startedAtMs: rec.startedAtMs };
}

export const idemConflict = () =>
  new ProblemError(
    422,
    "idempotency-key-reused",
    "Idempotency-Key reused",
    "this Idempotency-Key was already used for a different request; use a fresh key",
  );

export const idemInFlight = () =>
  new ProblemError(
    409,
    "request-in-flight",
    "The same request is still being processed",
    "a request with this Idempotency-Key started moments ago and has not finished; retry shortly",
    {},
    { "retry-after": String(RETRY_AFTER_S) },
  );
