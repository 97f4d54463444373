import { type OpenAPIHono, z } from "@hono/zod-openapi";
import {
  IDEMPOTENCY_HEADER_PATTERN,
  IdempotencyKeyHeader,
} from "../../../../shared/domain/idempotency-key.ts";
import { Id } from "../../../../shared/domain/ids.ts";
import { parseSeatKey } from "../../../../shared/domain/keys.ts";
import { SEAT_ERROR_STATUS, type SeatErrorCode } from "../../../../shared/seats/service.ts";
import { buyerAuth } from "../../../auth/buyer.ts";
import type { AuthVariables } from "../../../auth/variables.ts";
import { ProblemError } from "../../../problem.ts";
import type { Services } from "../../../services/index.ts";
import { outcomeUnknown, RETRY_AFTER_S, unavailable } from "../../../services/store.ts";

/** The sub-app type every buyer module registers its routes on. */
export type BuyerApp = OpenAPIHono<{ Variables: AuthVariables }>;

export const BUYER_TAG = "Buying";

/** Security requirement of buyer routes (the "buyerBearer" scheme is registered in manage.ts). */
export const BUYER_SECURITY = [{ buyerBearer: [] }];

export function buyerGuard(s: Services) {
  return buyerAuth(s.buyerVerifier);
}

/** The signed-in buyer and the key segment derived from them; only called behind buyerGuard. */
export async function me(
  c: { var: object },
  s: Pick<Services, "buyerIds">,
): Promise<{ sub: string; seg: string }> {
  const b = (c.var as AuthVariables).buyer;
  if (!b) throw new Error("route without buyerAuth");
  return { sub: b.sub, seg: await s.buyerIds.segment(b.sub) };
}

export const SeatRefSchema = z
  .object({ sectionId: Id, seatId: Id })
  .strict()
  .openapi("SeatRef", { description: "A seat (or general-admission place) of the event's plan." });
export type SeatRefSchema = z.infer<typeof SeatRefSchema>;

export const seatRefOf = (key: string): SeatRefSchema => {
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

export const IdemHeaders = z.object({
  "idempotency-key": IdempotencyKeyHeader.openapi({
    param: { name: "idempotency-key", in: "header" },
    description:
      'Required. An RFC 8941 string (`"…"`, as the IETF draft defines the header) or the same key ' +
      "bare; both forms name one key. A retry with the same key (on any provider) replays the " +
      "first result; the same key with a different body is refused (422); while the first is " +
      "still running, 409. Keys never expire.",
    example: '"9b2f0c1e-5d4a-4b7e-a1c3-2e6f8d9a0b17"',
    pattern: IDEMPOTENCY_HEADER_PATTERN,
  }),
});
