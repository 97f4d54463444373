import { fromBase64UrlStrict, toBase64Url } from "./base64.ts";

/**
 * Peer replies sealed to the caller. A peer request carries the caller's ECDH P-256 public key in
 * the signed `tessera-reply-key` header; the reply body is AES-256-GCM under a key that only the
 * holder of the matching private key can derive (ECDH, then HKDF salted with the request's nonce).
 * A request replayed by anyone else, on any instance, gets a reply it cannot open, and swapping
 * the key for one's own breaks the request's signature. P-256 rather than X25519: every runtime we
 * deploy to has it in Web Crypto.
 *
 * Sealed layout: version (1 byte) | responder public key (65 bytes, uncompressed point) |
 * IV (12 bytes) | ciphertext with its 16-byte tag.
 *
 * Pure given its inputs: key pairs and IVs are made by the caller.
 */
export const REPLY_KEY_HEADER = "tessera-reply-key";
export const SEALED_CONTENT_TYPE = "application/vnd.tessera.sealed";

const VERSION = 1;
const POINT_BYTES = 65;
const IV_BYTES = 12;
const HEADER_BYTES = 1 + POINT_BYTES + IV_BYTES;
/** base64url of a 65-byte point: 87 characters. */
const REPLY_KEY_RE = /^[A-Za-z0-9_-]{87}$/;
const INFO = new TextEncoder().encode("tessera peer reply v1");
const ECDH = { name: "ECDH", namedCurve: "P-256" } as const;

export interface ReplyKeyPair {
  readonly privateKey: CryptoKey;
  /** The public key as the header carries it: base64url of the uncompressed point. */
  readonly publicKey: string;
  readonly publicRaw: Uint8Array;
}

export async function replyKeyPairFrom(pair: CryptoKeyPair): Promise<ReplyKeyPair> {
  const raw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  return { privateKey: pair.privateKey, publicKey: toBase64Url(raw), publicRaw: raw };
}

export function isReplyKey(s: string): boolean {
  return REPLY_KEY_RE.test(s);
}

/**
 * The ECDH secret of one (own key, peer point) pair, cached: a warm instance talks to a handful of
 * peer instances, and the scalar multiplication is the costly step. Bounded, oldest first.
 */
const SHARED_CACHE_MAX = 1024;
const shared = new WeakMap<CryptoKey, Map<string, Promise<CryptoKey>>>();

function hkdfBase(own: CryptoKey, peerRaw: Uint8Array): Promise<CryptoKey> {
  let byPeer = shared.get(own);
  if (byPeer === undefined) {
    byPeer = new Map();
    shared.set(own, byPeer);
  }
  const id = toBase64Url(peerRaw);
  let base = byPeer.get(id);
  if (base === undefined) {
    base = (async () => {
      const peer = await crypto.subtle.importKey("raw", peerRaw as BufferSource, ECDH, false, []);
      const bits = await crypto.subtle.deriveBits({ name: "ECDH", public: peer }, own, 256);
      return crypto.subtle.importKey("raw", bits, "HKDF", false, ["deriveKey"]);
    })();
    byPeer.set(id, base);
    base.catch(() => byPeer?.delete(id));
    if (byPeer.size > SHARED_CACHE_MAX) {
      const oldest = byPeer.keys().next().value;
      if (oldest !== undefined) byPeer.delete(oldest);
    }
  }
  return base;
}

async function aesKey(
  own: CryptoKey,
  peerRaw: Uint8Array,
  nonce: string,
  usage: "encrypt" | "decrypt",
): Promise<CryptoKey> {
  return crypto.subtle.deriveKey(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt: new TextEncoder().encode(nonce),
      info: INFO,
    },
    await hkdfBase(own, peerRaw),
    { name: "AES-GCM", length: 256 },
    false,
    [usage],
  );
}

/** Seals `plain` for the caller whose header carried `callerKey`, answering request `nonce`. */
export async function sealReply(
  plain: Uint8Array,
  callerKey: string,
  nonce: string,
  own: ReplyKeyPair,
  iv: Uint8Array,
): Promise<Uint8Array> {
  if (!isReplyKey(callerKey)) throw new TypeError("malformed reply key");
  if (iv.byteLength !== IV_BYTES) throw new RangeError(`IV must be ${IV_BYTES} bytes`);
  const key = await aesKey(own.privateKey, fromBase64UrlStrict(callerKey), nonce, "encrypt");
  const ct = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: iv as BufferSource },
      key,
      plain as BufferSource,
    ),
  );
  const out = new Uint8Array(HEADER_BYTES + ct.byteLength);
  out[0] = VERSION;
  out.set(own.publicRaw, 1);
  out.set(iv, 1 + POINT_BYTES);
  out.set(ct, HEADER_BYTES);
  return out;
}

/** Opens a reply to our request `nonce`; throws on anything not sealed for us. */
export async function openReply(
  sealed: Uint8Array,
  nonce: string,
  own: ReplyKeyPair,
): Promise<Uint8Array> {
  if (sealed.byteLength < HEADER_BYTES + 16 || sealed[0] !== VERSION) {
    throw new TypeError("not a sealed reply");
  }
  const peer = sealed.slice(1, 1 + POINT_BYTES);
  const iv = sealed.slice(1 + POINT_BYTES, HEADER_BYTES);
  const key = await aesKey(own.privateKey, peer, nonce, "decrypt");
  return new Uint8Array(
    await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: iv as BufferSource },
      key,
      sealed.slice(HEADER_BYTES) as BufferSource,
    ),
  );
}
