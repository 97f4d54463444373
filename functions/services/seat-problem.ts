import { parseSeatKey } from "../../shared/domain/keys.ts";
import { SEAT_ERROR_STATUS, type SeatErrorCode } from "../../shared/seats/service.ts";
import { ProblemError } from "../problem.ts";
import { outcomeUnknown, RETRY_AFTER_S, unavailable } from "./store.ts";

/** A seat key (`seat/<eid>/<section>/<seat>`) as the API names the seat, in answers and problems. */
export const seatRefOf = (key: string): { sectionId: string; seatId: string } => {
  const { sectionId, seatId } = parseSeatKey(key);
  return { sectionId, seatId };
};

const SEAT_TITLES: Record<SeatErrorCode, string> = {
  conflict: "Idempotency-Key reused with a different request",
  "in-flight": "The same request is still in flight",
  taken: "Seats already taken",
  expired: "Hold no longer live",
  "not-found": "Not Found",
  forbidden: "Not Found",
  "already-confirmed": "Hold already confirmed",
  sold: "Hold already sold",
  "seat-cap-reached": "Seat cap per buyer reached",
  invalid: "Invalid request",
  unknown: "The outcome is not known yet",
  unavailable: "Fewer than two providers' stores answered",
};

/**
 * A seat service refusal as a problem. "forbidden" (someone else's hold) is reported as 404 like a
 * hold that does not exist: a buyer learns nothing about other buyers' holds.
 */
export function seatProblem(code: SeatErrorCode, detail?: unknown): ProblemError {
  if (code === "unknown") {
    return outcomeUnknown("the seat change did not complete", String(detail ?? code));
  }
  // The stores' own error text is for the log (with the request id), not for the caller.
  if (code === "unavailable") return unavailable(String(detail ?? code));
  const status = code === "forbidden" ? 404 : SEAT_ERROR_STATUS[code];
  const ext: Record<string, unknown> = {};
  let text: string | undefined;
  if (code === "taken" && Array.isArray(detail))
    ext.seats = detail.map((k) => seatRefOf(String(k)));
  else if (code === "seat-cap-reached" && typeof detail === "object" && detail !== null) {
    // The event's cap, the seats the buyer already holds or owns, and the seats asked for.
    const { cap, count, requested } = detail as Record<string, number>;
    Object.assign(ext, { cap, count, requested });
    text = `this event allows ${cap} seats per buyer; you hold or own ${count} and asked for ${requested}`;
  } else if (typeof detail === "string") text = detail;
  const slug =
    code === "conflict" ? "idempotency-key-reused" : code === "forbidden" ? "not-found" : code;
  return new ProblemError(
    status as 400,
    slug,
    SEAT_TITLES[code],
    text,
    ext,
    status === 503 ? { "retry-after": String(RETRY_AFTER_S) } : {},
  );
}
