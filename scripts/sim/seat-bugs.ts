import type { SeatService } from "../../shared/seats/service.ts";

/**
 * Planted wrong answers over a correct state, the seat model's broken controls: the stored state
 * stays consistent (checkSeatInvariants passes), only what the customer is told is wrong.
 * - "seat-answer": a hold of several seats is answered ok naming one seat fewer than it locked.
 * - "release-answer": a release is answered ok without releasing (the hold lives on and expires).
 */
export type SeatAnswerBug = "seat-answer" | "release-answer";

export function wrongAnswers(svc: SeatService, bug: SeatAnswerBug): SeatService {
  const wrong = Object.create(svc) as SeatService;
  if (bug === "seat-answer") {
    wrong.hold = async (caller, key, req) => {
      const r = await svc.hold(caller, key, req);
      if (!r.ok || r.value.seats.length < 2) return r;
      return { ...r, value: { ...r.value, seats: r.value.seats.slice(1) } };
    };
  } else {
    wrong.release = async (_caller, holdId) => ({ ok: true, value: { holdId }, replayed: false });
  }
  return wrong;
}
