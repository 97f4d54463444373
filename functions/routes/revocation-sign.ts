import { Hono } from "hono";
import {
  REVOCATION_SIGN_BODY_BYTES_MAX,
  REVOCATION_SIGN_PATH,
  RevocationSignBody,
} from "../peers/revocation-sign-client.ts";
import { peerGuard } from "../peers/verify-peer.ts";
import { ProblemError, sendProblem } from "../problem.ts";
import type { Services } from "../services/index.ts";
import { witnessRevocations } from "../services/revocations.ts";

/**
 * The internal revocation-signing endpoint: a peer coordinator asks this provider to vouch for
 * entries of an event's revocation feed. Signed peer calls only; the answer has one signature per
 * entry this provider derives itself from committed records, null for the others.
 */
export function revocationSignRoutes(s: Services) {
  const app = new Hono();
  const guard = peerGuard(s.deps, REVOCATION_SIGN_BODY_BYTES_MAX);
  app.post(REVOCATION_SIGN_PATH, async (c) => {
    const body = await guard(c);
    if (!body.ok) return body.response;
    const r = RevocationSignBody.safeParse(body.json);
    if (!r.success) {
      return sendProblem(
        c,
        new ProblemError(400, "validation", "Invalid request", undefined, {
          errors: r.error.issues,
        }),
      );
    }
    return body.reply({ signatures: await witnessRevocations(s, r.data) });
  });
  return app;
}
