import { type OpenAPIHono, z } from "@hono/zod-openapi";
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
