import { Hono } from "hono";
import { TICKET_SIGN_PATH, TicketSignBody } from "../peers/ticket-sign-client.ts";
import { peerGuard } from "../peers/verify-peer.ts";
import { ProblemError, sendProblem } from "../problem.ts";
import type { Services } from "../services/index.ts";
import { witnessSale } from "../services/tickets.ts";

/** A hold id and a subject: anything far bigger is not a ticket request. */
export const SIGN_BODY_BYTES_MAX = 1024;

/**
 * The internal ticket-signing endpoint: a peer coordinator asks this provider to vouch for the
 * tickets of a sold hold. Signed peer calls only (same rules as the acceptor endpoint); the answer
 * is this provider's signatures over claims it derived itself from the committed order, or 409
 * when it does not (yet) see the sale, 422 when the records contradict the request.
 */
export function ticketSignRoutes(s: Services) {
  const app = new Hono();
  const guard = peerGuard(s.deps, SIGN_BODY_BYTES_MAX);
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
    const w = await witnessSale(s, r.data);
    if (!w.ok)
      return sendProblem(c, new ProblemError(w.status, "not-witnessed", "Not witnessed", w.reason));
    return body.reply({ signatures: w.signatures });
  });
  return app;
}
