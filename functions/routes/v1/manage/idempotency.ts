import { z } from "@hono/zod-openapi";
import { IdempotencyKey } from "../../../../shared/domain/ids.ts";

/** The Idempotency-Key request header of the theatre's creating writes (the claims behind it:
 * functions/services/idempotency.ts). */
export const IdempotencyHeaders = z.object({
  "idempotency-key": IdempotencyKey.openapi({
    param: { name: "idempotency-key", in: "header" },
    description:
      "Required. Makes a retry safe: the same key with the same body replays the first result; " +
      "with a different body it is refused (422).",
    example: "2f1c6d0e-9b7a-4c1e-8f00-5d3a1e6b9c42",
  }),
});

/** Header the response carries when it replays the first request's result. */
export const REPLAYED_HEADER = "idempotent-replayed";
