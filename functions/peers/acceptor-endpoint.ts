import { Hono } from "hono";
import type { Deps } from "../deps.ts";
import { ProblemError, sendProblem } from "../problem.ts";
import { peerGuard } from "./verify-peer.ts";
import { ACCEPTOR_PATH, AcceptBody, DeleteBody, PrepareBody, ReadBody, ScanBody } from "./wire.ts";

/** Peer bodies are small batches; anything bigger is refused before it is hashed or parsed. */
export const PEER_BODY_BYTES_MAX = 4 * 1024 * 1024;

/**
 * The acceptor endpoint: other providers' coordinators reach this provider's store here.
 * Every call must be signed by a provider of the cluster (RFC 9421, see shared/crypto), fresh and
 * never seen before; anything else gets 401 and changes nothing.
 */
export function acceptorRoutes(deps: Deps) {
  const app = new Hono();
  const guard = peerGuard(deps, PEER_BODY_BYTES_MAX);

  app.post(`${ACCEPTOR_PATH}/:op`, async (c) => {
    const body = await guard(c);
    if (!body.ok) return body.response;
    const json = body.json;
    const bad = (e: { issues: unknown }) =>
      sendProblem(
        c,
        new ProblemError(400, "validation", "Invalid request", undefined, { errors: e.issues }),
      );
    switch (c.req.param("op")) {
      case "prepare": {
        const r = PrepareBody.safeParse(json);
        return r.success ? body.reply(await deps.acceptor.prepare(r.data)) : bad(r.error);
      }
      case "accept": {
        const r = AcceptBody.safeParse(json);
        return r.success ? body.reply(await deps.acceptor.accept(r.data.entries)) : bad(r.error);
      }
      case "delete": {
        // The garbage collector's deleteIf (shared/quorum/gc.ts): a peer's collector may ask.
        const r = DeleteBody.safeParse(json);
        return r.success ? body.reply(await deps.acceptor.deleteIf(r.data.entries)) : bad(r.error);
      }
      case "read": {
        const r = ReadBody.safeParse(json);
        return r.success ? body.reply(await deps.acceptor.read(r.data.keys)) : bad(r.error);
      }
      case "scan": {
        const r = ScanBody.safeParse(json);
        if (!r.success) return bad(r.error);
        const { prefix, cursor, limit } = r.data;
        return body.reply(
          await deps.acceptor.scan(prefix, {
            ...(cursor !== undefined ? { cursor } : {}),
            ...(limit !== undefined ? { limit } : {}),
          }),
        );
      }
      case "ping":
        await deps.acceptor.ping();
        return body.reply({ ok: true });
      default:
        return sendProblem(c, new ProblemError(404, "not-found", "Not Found"));
    }
  });
  return app;
}
