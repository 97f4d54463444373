import { z } from "@hono/zod-openapi";
import {
  IDEMPOTENCY_HEADER_PATTERN,
  IdempotencyKeyHeader,
} from "../../../../shared/domain/idempotency-key.ts";

/** The Idempotency-Key request header of the theatre's creating writes (the claims behind it:
 * functions/services/idempotency.ts). */
export const IdempotencyHeaders = z.object({
  "idempotency-key": IdempotencyKeyHeader.openapi({
    param: { name: "idempotency-key", in: "header" },
    description:
      'Required. An RFC 8941 string (`"…"`, as the IETF draft defines the header) or the same key ' +
      "bare; both forms name one key. Makes a retry safe: the same key with the same body replays " +
      "the first result; with a different body it is refused (422). Keys never expire.",
    example: '"2f1c6d0e-9b7a-4c1e-8f00-5d3a1e6b9c42"',
    pattern: IDEMPOTENCY_HEADER_PATTERN,
  }),
});

/** Header the response carries when it replays the first request's result. */
export const REPLAYED_HEADER = "idempotent-replayed";
