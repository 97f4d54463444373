import type { Context } from "hono";
import { PROVIDERS, type PublicJwk } from "../../shared/config.ts";
import {
  checkSignatureHeaders,
  NonceCache,
  verifyRequest,
} from "../../shared/crypto/http-signature.ts";
import { SEALED_CONTENT_TYPE, sealReply } from "../../shared/crypto/reply-seal.ts";
import type { Deps } from "../deps.ts";
import { declaredTooLarge, payloadTooLarge, readCapped } from "../middleware/body-limit.ts";
import { chargeIdentity } from "../middleware/rate-limit.ts";
import { ProblemError, sendProblem } from "../problem.ts";
import { randomBytes } from "../random.ts";
import { instanceReplyKeys } from "./reply-keys.ts";

export type PeerBody =
  | {
      ok: true;
      json: unknown;
      /** The 200 answer, sealed to the caller's reply key for this request (reply-seal.ts). */
      reply: (value: unknown) => Promise<Response>;
    }
  | { ok: false; response: Response };

/**
 * Guard of an internal endpoint: the call must be signed by ANOTHER provider of the cluster
 * (RFC 9421, see shared/crypto), fresh, never seen before, and carry a JSON body of at most
 * `maxBytes`. Returns the parsed body and the sealer of the answer, or the problem response to send
 * (413, 401, 400), so every internal route refuses alike. The body is read last: a call that is
 * unsigned, stale, signed by a key we do not trust or addressed elsewhere is refused on its
 * headers alone, and a signed one is read only up to `maxBytes`. Answers are sealed to the reply
 * key the signed request names, so whoever replays a captured call (on this instance or another
 * one, whose nonce memory never saw it) gets nothing it can read. One nonce cache per guard: a
 * nonce signed for one path cannot be replayed on another anyway, since the path is covered by the
 * signature.
 */
export function peerGuard(deps: Deps, maxBytes: number) {
  const now = deps.now;
  const nonces = new NonceCache();
  const keys = new Map<string, PublicJwk>();
  for (const p of PROVIDERS) {
    if (p === deps.provider) continue; // a provider calls itself in-process
    const jwk = deps.cluster.providers[p].publicJwk;
    keys.set(jwk.kid, jwk);
  }

  return async (c: Context): Promise<PeerBody> => {
    const refuse = (e: ProblemError): PeerBody => ({ ok: false, response: sendProblem(c, e) });
    const nowS = Math.floor(now() / 1000);
    const signed = {
      method: c.req.method,
      path: c.req.path,
      query: new URL(c.req.url).search.slice(1),
      headers: c.req.raw.headers,
    };
    const pre = checkSignatureHeaders({ ...signed, self: deps.provider, keys, nowS });
    if (!pre.ok) {
      return refuse(new ProblemError(401, "unauthorized-peer", "Unauthorized", pre.reason));
    }
    if (declaredTooLarge(c.req.raw, maxBytes)) return refuse(payloadTooLarge(maxBytes));
    const raw = await readCapped(c.req.raw, maxBytes);
    if (raw === null) return refuse(payloadTooLarge(maxBytes));
    const v = await verifyRequest({ ...signed, body: raw, self: deps.provider, keys, nowS }, pre);
    if (!v.ok) return refuse(new ProblemError(401, "unauthorized-peer", "Unauthorized", v.reason));
    if (!nonces.admit(v.nonce, nowS)) {
      return refuse(new ProblemError(401, "unauthorized-peer", "Unauthorized", "replayed nonce"));
    }
    const reply = async (value: unknown) => {
      const plain = new TextEncoder().encode(JSON.stringify(value));
      const iv = randomBytes(12);
      const sealed = await sealReply(plain, v.replyKey, v.nonce, await instanceReplyKeys(), iv);
      return new Response(sealed as BodyInit, {
        status: 200,
        headers: { "content-type": SEALED_CONTENT_TYPE },
      });
    };
    try {
      chargeIdentity(c, "peer", v.keyid);
    } catch (e) {
      if (e instanceof ProblemError) return refuse(e);
      throw e;
    }
    try {
      return { ok: true, json: JSON.parse(new TextDecoder().decode(raw)), reply };
    } catch {
      return refuse(new ProblemError(400, "invalid-json", "Malformed JSON body"));
    }
  };
}
