import { type ReplyKeyPair, replyKeyPairFrom } from "../../shared/crypto/reply-seal.ts";

/**
 * This instance's reply key pair: the key a peer seals its replies to (as a caller) and the key
 * replies are sealed from (as a responder). Made once per instance, never stored or sent anywhere
 * but as a public key: a replayed request names it, and only this instance can open what comes back.
 */
let pair: Promise<ReplyKeyPair> | undefined;

export function instanceReplyKeys(): Promise<ReplyKeyPair> {
  if (pair === undefined) {
    pair = crypto.subtle
      .generateKey({ name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"])
      .then((p) => replyKeyPairFrom(p as CryptoKeyPair));
    pair.catch(() => {
      pair = undefined;
    });
  }
  return pair;
}
