import { Hono } from "hono";
import type { AppDeps } from "../deps.ts";
import { TICKET_SIGN_PATH, TicketSignBody } from "../peers/ticket-sign-client.ts";
import { peerGuard } from "../peers/verify-peer.ts";
import { ProblemError, sendProblem } from "../problem.ts";
import { witnessSale } from "../services/tickets.ts";

/** 20 items of ~1 KiB claims each; anything far bigger is not a ticket request. */
export const SIGN_BODY_BYTES_MAX = 64 * 1024;

/**
 * The internal ticket-signing endpoint: a peer coordinator asks this provider to vouch for the
 * tickets of a sold hold. Signed peer calls only (same rules as the acceptor endpoint); the answer
 * is this provider's signatures, or 409 when its own store does not show the sale.
 */
export function ticketSignRoutes(deps: AppDeps) {
  const app = new Hono();
  const guard = peerGuard(deps, SIGN_BODY_BYTES_MAX);
  app.post(TICKET_SIGN_PATH, async (c) => {
    const body = await guard(c);
    if (!body.ok) return body.response;
    const r = TicketSignBody.safeParse(body.json);
    if (!r.success) {
      return sendProblem(
        c,
        new ProblemError(400, "validation", "Invalid request", undefined, {
          errors: r.error.issues,
        }),
      );
    }
    const w = await witnessSale(deps, r.data);
    if (!w.ok)
      return sendProblem(c, new ProblemError(w.status, "not-witnessed", "Not witnessed", w.reason));
    return c.json({ signatures: w.signatures });
  });
  return app;
}
