import type { PrivateJwk, ProviderId } from "../../shared/config.ts";
import { toBase64Url } from "../../shared/crypto/base64.ts";
import { signRequest } from "../../shared/crypto/http-signature.ts";
import { openReply, SEALED_CONTENT_TYPE } from "../../shared/crypto/reply-seal.ts";
import { randomBytes } from "../random.ts";
import { instanceReplyKeys } from "./reply-keys.ts";

export interface PeerCallOptions {
  /** Provider we call, and its base URL. */
  readonly to: ProviderId;
  readonly url: string;
  /** Our signing key: the receiver checks it against the cluster configuration. */
  readonly key: PrivateJwk;
  readonly now: () => number;
  readonly fetch?: typeof fetch;
  /** A peer that does not answer within this time counts as no reply for this round. */
  readonly timeoutMs?: number;
}

/** How long a signed peer call waits for its reply: above one WAN round trip with a slow store, below a serverless time limit. */
export const PEER_CALL_TIMEOUT_MS = 3000;

export type PeerReply =
  | { readonly ok: true; readonly json: unknown }
  | { readonly ok: false; readonly status: number; readonly text: string };

/**
 * One signed peer call (shared/crypto/http-signature.ts) whose 2xx reply is sealed to this
 * instance's reply key (shared/crypto/reply-seal.ts) and opened here. Throws when the peer cannot
 * be reached or its 2xx reply is not sealed for this very request.
 */
export async function peerCall(
  o: PeerCallOptions,
  path: string,
  payload: unknown,
): Promise<PeerReply> {
  const body = new TextEncoder().encode(JSON.stringify(payload));
  const nonce = toBase64Url(randomBytes(18));
  const keys = await instanceReplyKeys();
  const headers = await signRequest({
    method: "POST",
    path,
    body,
    to: o.to,
    key: o.key,
    createdS: Math.floor(o.now() / 1000),
    nonce,
    replyKey: keys.publicKey,
  });
  const res = await (o.fetch ?? fetch)(`${o.url}${path}`, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body,
    signal: AbortSignal.timeout(o.timeoutMs ?? PEER_CALL_TIMEOUT_MS),
  });
  if (!res.ok) return { ok: false, status: res.status, text: await res.text() };
  if (res.headers.get("content-type") !== SEALED_CONTENT_TYPE) {
    throw new Error(`${o.to}: unsealed reply`);
  }
  const plain = await openReply(new Uint8Array(await res.arrayBuffer()), nonce, keys);
  return { ok: true, json: JSON.parse(new TextDecoder().decode(plain)) };
}
