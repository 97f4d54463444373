import { importJWK } from "jose";
import type { PrivateJwk, PublicJwk } from "../config.ts";
import { fromBase64, toBase64 } from "./base64.ts";
import { isReplyKey, REPLY_KEY_HEADER } from "./reply-seal.ts";

/**
 * Peer calls between providers are signed per HTTP Message Signatures (RFC 9421) with Ed25519, over
 * the method, path, query, the body's Content-Digest (RFC 9530), a `tessera-to` header naming the
 * receiving provider (so a call captured on its way to one provider cannot be replayed to another)
 * and the `tessera-reply-key` the reply is sealed to (reply-seal.ts: so a replayed call, on any
 * instance, earns a reply only the original caller can open).
 * `@authority` is deliberately not covered: geo-DNS, the local WAN proxy and provider front ends
 * rewrite Host, while `tessera-to` carries the same intent end to end.
 *
 * Everything here is pure given its inputs: the caller passes time and the nonce.
 */
export const SIGNATURE_LABEL = "tessera";
export const COVERED = [
  "@method",
  "@path",
  "@query",
  "content-digest",
  "tessera-to",
  REPLY_KEY_HEADER,
] as const;
/** Accepted distance between the signer's `created` and our clock: covers provider clock skew and
 * slow networks, and bounds how long a nonce must be remembered. */
export const SIGNATURE_MAX_AGE_S = 30;
const NONCE_RE = /^[A-Za-z0-9_-]{16,64}$/;

const enc = new TextEncoder();

export async function contentDigest(body: Uint8Array): Promise<string> {
  const h = new Uint8Array(await crypto.subtle.digest("SHA-256", body as BufferSource));
  return `sha-256=:${toBase64(h)}:`;
}

interface SignInput {
  method: string;
  path: string;
  /** The query string without "?", if any. */
  query?: string;
  body: Uint8Array;
  /** The caller's reply key (reply-seal.ts). */
  replyKey: string;
  to: string;
  key: PrivateJwk;
  createdS: number;
  nonce: string;
}

function signatureParams(createdS: number, nonce: string, keyid: string): string {
  const items = COVERED.map((c) => `"${c}"`).join(" ");
  return `(${items});created=${createdS};nonce="${nonce}";keyid="${keyid}";alg="ed25519"`;
}

function signatureBase(
  fields: Record<(typeof COVERED)[number], string>,
  params: string,
): Uint8Array {
  const lines = COVERED.map((c) => `"${c}": ${fields[c]}`);
  lines.push(`"@signature-params": ${params}`);
  return enc.encode(lines.join("\n"));
}

/**
 * Imported keys, by the JWK object they came from: every peer call signs and verifies, and
 * importing the same JWK each time cost about 5 % of a busy coordinator's CPU. Config JWKs live as
 * long as the instance, so the cache holds only them (and forgets a JWK nobody references).
 */
const imported = new WeakMap<object, Promise<CryptoKey>>();

function cryptoKey(jwk: PublicJwk | PrivateJwk): Promise<CryptoKey> {
  let key = imported.get(jwk);
  if (key === undefined) {
    key = importJWK({ ...jwk, alg: "EdDSA" }, "EdDSA") as Promise<CryptoKey>;
    imported.set(jwk, key);
    // A JWK that fails to import is not cached: the next call throws the same error afresh.
    key.catch(() => imported.delete(jwk));
  }
  return key;
}

/** Headers to add to a peer request. */
export async function signRequest(input: SignInput): Promise<Record<string, string>> {
  const digest = await contentDigest(input.body);
  const params = signatureParams(input.createdS, input.nonce, input.key.kid);
  const base = signatureBase(
    {
      "@method": input.method.toUpperCase(),
      "@path": input.path,
      "@query": `?${input.query ?? ""}`,
      "content-digest": digest,
      "tessera-to": input.to,
      [REPLY_KEY_HEADER]: input.replyKey,
    },
    params,
  );
  const key = await cryptoKey(input.key);
  const sig = new Uint8Array(await crypto.subtle.sign("Ed25519", key, base as BufferSource));
  return {
    "content-digest": digest,
    "tessera-to": input.to,
    [REPLY_KEY_HEADER]: input.replyKey,
    "signature-input": `${SIGNATURE_LABEL}=${params}`,
    signature: `${SIGNATURE_LABEL}=:${toBase64(sig)}:`,
  };
}

export type VerifyResult =
  | { ok: true; keyid: string; nonce: string; createdS: number; replyKey: string }
  | { ok: false; reason: string };

interface HeaderInput {
  method: string;
  path: string;
  /** The query string without "?" ("" when none). */
  query: string;
  headers: Headers;
  /** Our own provider id: the request must be addressed to us. */
  self: string;
  /** Public keys we trust, by kid. */
  keys: ReadonlyMap<string, PublicJwk>;
  nowS: number;
}

interface VerifyInput extends HeaderInput {
  body: Uint8Array;
}

const PARAMS_RE =
  /^tessera=\(("[^"]+"(?: "[^"]+")*)\);created=(\d{1,12});nonce="([^"]*)";keyid="([^"]{1,128})";alg="ed25519"$/;

export type HeaderCheck =
  | {
      ok: true;
      keyid: string;
      nonce: string;
      createdS: number;
      jwk: PublicJwk;
      sig: string;
      replyKey: string;
    }
  | { ok: false; reason: string };

/**
 * Everything about a peer request that can be checked without its body: signed at all, covering
 * the required components, fresh, by a key we trust, addressed to us. A receiver runs this before
 * reading the body, so an unsigned, stale or foreign call costs it no body bytes and no hashing.
 */
export function checkSignatureHeaders(input: HeaderInput): HeaderCheck {
  const sigInput = input.headers.get("signature-input");
  const sigHeader = input.headers.get("signature");
  if (!sigInput || !sigHeader) return { ok: false, reason: "unsigned request" };
  const m = PARAMS_RE.exec(sigInput);
  if (!m) return { ok: false, reason: "malformed Signature-Input" };
  const [, items, created, nonce, keyid] = m as unknown as [string, string, string, string, string];
  if (items !== COVERED.map((c) => `"${c}"`).join(" ")) {
    return { ok: false, reason: "signature does not cover the required components" };
  }
  if (!NONCE_RE.test(nonce)) return { ok: false, reason: "malformed nonce" };
  const createdS = Number(created);
  if (Math.abs(input.nowS - createdS) > SIGNATURE_MAX_AGE_S) {
    return { ok: false, reason: "signature expired or from the future" };
  }
  const jwk = input.keys.get(keyid);
  if (!jwk) return { ok: false, reason: `unknown key ${keyid}` };
  const sm = /^tessera=:([A-Za-z0-9+/]+={0,2}):$/.exec(sigHeader);
  if (!sm?.[1]) return { ok: false, reason: "malformed Signature" };
  const to = input.headers.get("tessera-to") ?? "";
  if (to !== input.self) return { ok: false, reason: "request addressed to another provider" };
  const replyKey = input.headers.get(REPLY_KEY_HEADER) ?? "";
  if (!isReplyKey(replyKey)) return { ok: false, reason: "missing or malformed reply key" };
  return { ok: true, keyid, nonce, createdS, jwk, sig: sm[1], replyKey };
}

/** Checks a peer request's signature, digest, addressee and freshness (not its nonce's novelty:
 * see NonceCache). Never throws on bad input. `checked`: checkSignatureHeaders' verdict on these
 * very headers, when the caller already ran it before reading the body. */
export async function verifyRequest(
  input: VerifyInput,
  checked?: Extract<HeaderCheck, { ok: true }>,
): Promise<VerifyResult> {
  const h = checked ?? checkSignatureHeaders(input);
  if (!h.ok) return h;
  const { keyid, nonce, createdS, replyKey } = h;
  const digest = await contentDigest(input.body);
  if (input.headers.get("content-digest") !== digest) {
    return { ok: false, reason: "Content-Digest does not match the body" };
  }
  const base = signatureBase(
    {
      "@method": input.method.toUpperCase(),
      "@path": input.path,
      "@query": `?${input.query}`,
      "content-digest": digest,
      "tessera-to": input.self,
      [REPLY_KEY_HEADER]: replyKey,
    },
    signatureParams(createdS, nonce, keyid),
  );
  const key = await cryptoKey(h.jwk);
  const valid = await crypto.subtle.verify(
    "Ed25519",
    key,
    fromBase64(h.sig) as BufferSource,
    base as BufferSource,
  );
  return valid
    ? { ok: true, keyid, nonce, createdS, replyKey }
    : { ok: false, reason: "bad signature" };
}

/**
 * Remembers nonces for twice the freshness window, so a replay inside the window is refused by this
 * instance. Bounded: past NONCE_CACHE_MAX entries the oldest are dropped (the freshness window
 * still refuses anything older than SIGNATURE_MAX_AGE_S).
 */
export const NONCE_CACHE_MAX = 100_000;
export class NonceCache {
  private readonly seen = new Map<string, number>();
  /** True when the nonce is new (and records it); false for a replay. */
  admit(nonce: string, nowS: number): boolean {
    if (this.seen.has(nonce)) return false;
    this.seen.set(nonce, nowS);
    if (this.seen.size > NONCE_CACHE_MAX) {
      for (const [n, t] of this.seen) {
        if (this.seen.size <= NONCE_CACHE_MAX && nowS - t <= 2 * SIGNATURE_MAX_AGE_S) break;
        this.seen.delete(n);
      }
    }
    return true;
  }
}
