import { type OpenAPIHono, z } from "@hono/zod-openapi";
import {
  IDEMPOTENCY_HEADER_PATTERN,
  IdempotencyKeyHeader,
} from "../../../../shared/domain/idempotency-key.ts";
import { Id } from "../../../../shared/domain/ids.ts";
import { buyerAuth } from "../../../auth/buyer.ts";
import type { AuthVariables } from "../../../auth/variables.ts";
import type { Services } from "../../../services/index.ts";

/** The sub-app type every buyer module registers its routes on. */
export type BuyerApp = OpenAPIHono<{ Variables: AuthVariables }>;

export const BUYER_TAG = "Buying";

/** Security requirement of buyer routes: a buyer token is required (the "buyerBearer" scheme is
 * registered in manage.ts). */
export const REQUIRED_BUYER_SECURITY = [{ buyerBearer: [] }];

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
