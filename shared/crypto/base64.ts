/** Standard base64 (RFC 4648 §4), as RFC 9421 and RFC 9530 use for byte sequences. */
export function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

export function fromBase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function toBase64Url(bytes: Uint8Array): string {
  return toBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * base64url, padded or not, as leniently as atob reads it (throws only on what atob refuses). For
 * text whose integrity something else checks: a cursor must still start with its prefix, a ticket
 * payload was verified before. What must be canonical goes through fromBase64UrlStrict.
 */
export function fromBase64Url(s: string): Uint8Array {
  const b64 = s.replace(/-/g, "+").replace(/_/g, "/");
  return fromBase64(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
}

/** base64url without padding; throws on any character outside the alphabet or a bad length. */
export function fromBase64UrlStrict(s: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1) throw new TypeError("not base64url");
  const out = fromBase64Url(s);
  // Non-canonical encodings (stray low bits in the last char) would let two strings mean the same
  // bytes; re-encoding must give back the input.
  if (toBase64Url(out) !== s) throw new TypeError("non-canonical base64url");
  return out;
}
