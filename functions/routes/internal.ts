import { Hono } from "hono";
import { PROVIDERS, type PublicJwk } from "../../shared/config.ts";
import { NonceCache, verifyRequest } from "../../shared/crypto/http-signature.ts";
import type { AppDeps } from "../deps.ts";
import { ACCEPTOR_PATH, AcceptBody, PrepareBody, ReadBody, ScanBody } from "../peers/wire.ts";
import { ProblemError, sendProblem } from "../problem.ts";

/** Peer bodies are small batches; anything bigger is refused before it is hashed or parsed. */
const PEER_BODY_BYTES_MAX = 4 * 1024 * 1024;

/**
 * The internal acceptor endpoint: other providers' coordinators reach this provider's store here.
 * Every call must be signed by a provider of the cluster (RFC 9421, see shared/crypto), fresh and
 * never seen before; anything else gets 401 and changes nothing.
 */
export function internalRoutes(deps: AppDeps) {
  const app = new Hono();
  const now = deps.now ?? Date.now;
  const nonces = new NonceCache();
  const keys = new Map<string, PublicJwk>();
  for (const p of PROVIDERS) {
    if (p === deps.provider) continue; // a provider calls its own acceptor in-process
    const jwk = deps.cluster.providers[p].publicJwk;
    keys.set(jwk.kid, jwk);
  }

  app.post(`${ACCEPTOR_PATH}/:op`, async (c) => {
    const raw = new Uint8Array(await c.req.arrayBuffer());
    if (raw.byteLength > PEER_BODY_BYTES_MAX) {
      return sendProblem(c, new ProblemError(413, "payload-too-large", "Payload too large"));
    }
    const nowS = Math.floor(now() / 1000);
    const v = await verifyRequest({
      method: c.req.method,
      path: c.req.path,
      headers: c.req.raw.headers,
      body: raw,
      self: deps.provider,
      keys,
      nowS,
    });
    if (!v.ok) {
      return sendProblem(c, new ProblemError(401, "unauthorized-peer", "Unauthorized", v.reason));
    }
    if (!nonces.admit(v.nonce, nowS)) {
      return sendProblem(
        c,
        new ProblemError(401, "unauthorized-peer", "Unauthorized", "replayed nonce"),
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(raw));
    } catch {
      return sendProblem(c, new ProblemError(400, "invalid-json", "Malformed JSON body"));
    }
    const bad = (e: { issues: unknown }) =>
      sendProblem(
        c,
        new ProblemError(400, "validation", "Invalid request", undefined, { errors: e.issues }),
      );
    switch (c.req.param("op")) {
      case "prepare": {
        const r = PrepareBody.safeParse(json);
        return r.success ? c.json(await deps.acceptor.prepare(r.data)) : bad(r.error);
      }
      case "accept": {
        const r = AcceptBody.safeParse(json);
        return r.success ? c.json(await deps.acceptor.accept(r.data.entries)) : bad(r.error);
      }
      case "read": {
        const r = ReadBody.safeParse(json);
        return r.success ? c.json(await deps.acceptor.read(r.data.keys)) : bad(r.error);
      }
      case "scan": {
        const r = ScanBody.safeParse(json);
        if (!r.success) return bad(r.error);
        const { prefix, cursor, limit } = r.data;
        return c.json(
          await deps.acceptor.scan(prefix, {
            ...(cursor !== undefined ? { cursor } : {}),
            ...(limit !== undefined ? { limit } : {}),
          }),
        );
      }
      case "ping":
        await deps.acceptor.ping();
        return c.json({ ok: true });
      default:
        return sendProblem(c, new ProblemError(404, "not-found", "Not Found"));
    }
  });
  return app;
}
